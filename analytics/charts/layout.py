"""The parts charts are assembled from: what callers pass in, scales, axes, phases,
bands, the points with their values, legends."""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from itertools import pairwise

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from analytics.charts.shapes import (
    GRID,
    INK,
    MUTED,
    WHITE,
    Chart,
    Circle,
    Line,
    Polyline,
    Rect,
    Shape,
    Text,
    short,
)

EMPHASIS_COLOUR = "#1f4e79"
PALETTE = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d")
BAND_FILL = {"good": "#e2f0e2", "neutral": "#eeeeee", "bad": "#f7e1e1"}
BAND_INK = {"good": "#3b6e3b", "neutral": "#5a5a5a", "bad": "#8c3b3b"}
CHAR_WIDTH = 0.6  # average glyph width of a sans-serif font in em, for layout estimates
TIME_PAD = 16  # chart units between the plot's edge and the first or last point
TITLE_X, TITLE_Y = 0, 22

Bounds = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class ChartPoint:
    when: datetime  # aware
    value: float
    label: str  # the tooltip


@dataclass(frozen=True)
class ChartSeries:
    name: str
    points: list[ChartPoint]
    emphasis: bool = True  # the total: thick and solid; subscales thin and dashed


@dataclass(frozen=True)
class PhaseSpan:
    label: str  # "Baseline (A)", "Treatment (B)", "Follow-up (A')"
    first: datetime
    last: datetime


@dataclass(frozen=True)
class BandShade:
    low: float
    high: float
    label: str
    tone: str  # "good" | "neutral" | "bad"


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class Mark:
    """A data point as drawn: where, its value's text, tooltip, colour, radius."""

    x: float
    y: float
    value: str
    tip: str
    colour: str
    r: float


class Scale:
    """Maps [low, high] linearly onto [start, end]; a zero-width domain maps to the middle."""

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.high, self.start, self.end = low, high, start, end

    def __call__(self, value: float) -> float:
        if self.high == self.low:
            return (self.start + self.end) / 2
        return self.start + (value - self.low) / (self.high - self.low) * (self.end - self.start)


def time_scale(times: list[datetime], left: float, right: float) -> Scale:
    """Seconds since the epoch from the first to the last time onto [left + PAD, right − PAD]."""
    first, last = min(times).timestamp(), max(times).timestamp()
    return Scale(first, last, left + TIME_PAD, right - TIME_PAD)


def nice_ticks(low: float, high: float, max_ticks: int) -> list[float]:
    """Round-numbered ticks (steps of 1, 2, 2.5 or 5 × 10ⁿ) from low to high inclusive."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    span = high - low
    magnitude = 10 ** math.floor(math.log10(span / max_ticks))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if span / (m * magnitude) <= max_ticks)
    first = math.ceil(low / step - 1e-9) * step
    count = math.floor((high - first) / step + 1e-9)
    return [round(first + i * step, 10) for i in range(count + 1)]


def title_text(title: str) -> Text:
    return Text(TITLE_X, TITLE_Y, title, 14, INK, bold=True, kind="chart-title")


def frame(plot: Box) -> Rect:
    return Rect(
        plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top, None, MUTED, "frame"
    )


def empty_chart(title: str, width: float, height: float, plot: Box) -> Chart:
    """The frame and a short message where the points would be."""
    message = _("No data yet.")
    middle = ((plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2)
    shapes: list[Shape] = [
        title_text(title),
        frame(plot),
        Text(*middle, message, 12, MUTED, "middle", kind="empty"),
    ]
    return Chart(title, message, width, height, shapes)


def band_shapes(
    bands: list[BandShade], y_of: Scale, y_min: float, y_max: float, plot: Box
) -> list[Shape]:
    """Stripes that meet midway between one band's high and the next band's low (the
    integer bands 9–12 and 13–17 touch at 12.5), labelled right of the plot."""
    ordered = sorted(bands, key=lambda band: band.low)
    shapes: list[Shape] = []
    for index, band in enumerate(ordered):
        low = (ordered[index - 1].high + band.low) / 2 if index else band.low
        last = index + 1 == len(ordered)
        high = band.high if last else (band.high + ordered[index + 1].low) / 2
        low, high = max(low, y_min), min(high, y_max)
        if high <= low:
            continue
        top, bottom = y_of(high), y_of(low)
        fill = BAND_FILL.get(band.tone, BAND_FILL["neutral"])
        ink = BAND_INK.get(band.tone, MUTED)
        shapes.append(Rect(plot.left, top, plot.right - plot.left, bottom - top, fill, kind="band"))
        if not last and high < y_max:  # a white edge tells two stripes of one tone apart
            shapes.append(Line(plot.left, top, plot.right, top, WHITE, 1.5, kind="band-edge"))
        middle = (top + bottom) / 2 + 3.5
        shapes.append(Text(plot.right + 6, middle, band.label, 10, ink, kind="band-label"))
    return shapes


def y_axis(y_of: Scale, y_min: float, y_max: float, plot: Box, max_ticks: int) -> list[Shape]:
    shapes: list[Shape] = []
    for tick in nice_ticks(y_min, y_max, max_ticks):
        y = y_of(tick)
        shapes.append(Line(plot.left, y, plot.right, y, GRID, 0.5, kind="grid"))
        shapes.append(Text(plot.left - 6, y + 3.5, short(tick), 10, MUTED, "end", kind="y-tick"))
    return shapes


def phase_shapes(
    phases: list[PhaseSpan], x_of: Scale, plot: Box, *, label_y: float, size: float
) -> list[Shape]:
    """A dashed line midway (in time) between one phase's last point and the next one's
    first, and each phase's label centred above its part of the plot."""
    edges = [plot.left]
    shapes: list[Shape] = []
    if not phases:
        return shapes
    for before, after in pairwise(phases):
        x = x_of((before.last.timestamp() + after.first.timestamp()) / 2)
        edges.append(min(max(x, plot.left), plot.right))
        if plot.left < x < plot.right:
            shapes.append(Line(x, plot.top, x, plot.bottom, INK, 1.2, True, "phase-line"))
    edges.append(plot.right)
    for phase, (left, right) in zip(phases, pairwise(edges), strict=True):
        fitted = size
        while fitted > 7 and text_width(phase.label, fitted) > right - left - 4:
            fitted -= 1  # a short phase gets a smaller label
        if right > left:
            middle = (left + right) / 2
            shapes.append(
                Text(middle, label_y, phase.label, fitted, INK, "middle", True, "phase-label")
            )
    return shapes


def date_axis(times: list[datetime], x_of: Scale, plot: Box, zone: tzinfo) -> list[Shape]:
    """A tick under every point; the dates (day and short month, with the year on the first
    label and where it changes) thinned out so that no two labels overlap."""
    shapes: list[Shape] = []
    days: dict[date, float] = {}
    for when in sorted(times):
        x = x_of(when.timestamp())
        shapes.append(Line(x, plot.bottom, x, plot.bottom + 4, MUTED, 1, kind="x-tick"))
        days.setdefault(timezone.localtime(when, zone).date(), x)
    widest = max(text_width(formats.date_format(day, "j M Y"), 10) for day in days)
    kept: list[tuple[date, float]] = []
    for day, x in days.items():
        if not kept or x - kept[-1][1] >= widest + 8:
            kept.append((day, x))
    year = None
    for day, x in kept:
        label = formats.date_format(day, "j M" if day.year == year else "j M Y")
        year = day.year
        shapes.append(Text(x, plot.bottom + 16, label, 10, MUTED, "middle", kind="x-label"))
    return shapes


def series_colours(series: list[ChartSeries]) -> list[str]:
    others = iter(PALETTE * (len(series) // len(PALETTE) + 1))
    return [EMPHASIS_COLOUR if one.emphasis else next(others) for one in series]


def series_shapes(
    series: list[ChartSeries], phases: list[PhaseSpan], x_of: Scale, y_of: Scale, plot: Box
) -> list[Shape]:
    """Lines joining the points of one phase (never across a phase change), then the
    points with their tooltips and values."""
    lines: list[Shape] = []
    marks: list[Mark] = []
    # Values printed beside at most one point per VALUE_SPACING units of width; a denser
    # series prints every k-th value and its last (each point keeps its tooltip).
    room_for = max(1, int((plot.right - plot.left) / VALUE_SPACING))
    for one, colour in zip(series, series_colours(series), strict=True):
        radius, width = (4, 2.5) if one.emphasis else (3, 1.5)
        runs: list[list[tuple[float, float]]] = []
        previous = None
        every = math.ceil(len(one.points) / room_for)
        for index, point in enumerate(sorted(one.points, key=lambda point: point.when)):
            phase = next((i for i, s in enumerate(phases) if s.first <= point.when <= s.last), -1)
            xy = (x_of(point.when.timestamp()), y_of(point.value))
            if runs and phase == previous:
                runs[-1].append(xy)
            else:
                runs.append([xy])
            previous = phase
            printed = index % every == 0 or index == len(one.points) - 1
            marks.append(
                Mark(*xy, short(point.value) if printed else "", point.label, colour, radius)
            )
        dashed = not one.emphasis
        lines += [Polyline(tuple(r), colour, width, dashed, "series") for r in runs if len(r) > 1]
    marks.sort(key=lambda mark: -mark.r)  # the totals' values get the best places
    return lines + mark_shapes(marks, plot)


VALUE_SPACING = 12  # chart units per printed value, at most


class Occupancy:
    """The boxes already placed, filed by vertical strips of the chart, so that finding
    what a candidate box overlaps looks at its neighbours only (a long series stays
    linear in the number of points)."""

    STRIP = 40.0

    def __init__(self) -> None:
        self.boxes: list[Bounds] = []
        self.strips: dict[int, list[int]] = defaultdict(list)  # strip → indexes in boxes

    def _strips(self, box: Bounds) -> range:
        return range(math.floor(box[0] / self.STRIP), math.floor(box[2] / self.STRIP) + 1)

    def add(self, box: Bounds) -> None:
        self.boxes.append(box)
        for strip in self._strips(box):
            self.strips[strip].append(len(self.boxes) - 1)

    def covered(self, box: Bounds) -> float:
        """How much of `box` other labels and points cover (overlaps added up; a box in
        two strips counts once)."""
        near = {index for strip in self._strips(box) for index in self.strips.get(strip, ())}
        return covered(box, [self.boxes[index] for index in sorted(near)])


def mark_shapes(marks: list[Mark], room: Box) -> list[Shape]:
    """Circles with tooltips, then each value printed beside its point within `room`:
    above, below, right, left or diagonally, the first place that covers no other value
    and no point; where every place does, the one that covers least."""
    taken = Occupancy()
    for m in marks:
        taken.add((m.x - m.r, m.y - m.r, m.x + m.r, m.y + m.r))
    labels: list[Shape] = []
    for m in marks:
        if not m.value:
            continue
        size = 10 if m.r >= 4 else 9
        width, gap = text_width(m.value, size), m.r + 2
        lefts = {"middle": m.x - width / 2, "start": m.x + gap, "end": m.x - gap - width}
        tops = {"above": m.y - gap - size, "level": m.y - size / 2, "below": m.y + gap}
        places = [  # in order of preference
            ("middle", "above"),
            ("middle", "below"),
            ("start", "level"),
            ("end", "level"),
            ("start", "above"),
            ("start", "below"),
            ("end", "above"),
            ("end", "below"),
        ]
        options = [((lefts[h], tops[v], lefts[h] + width, tops[v] + size), h) for h, v in places]
        options = [option for option in options if is_inside(option[0], room)] or options[:1]
        box, anchor = min(options, key=lambda option: taken.covered(option[0]))
        taken.add(box)
        x = {"middle": (box[0] + box[2]) / 2, "start": box[0], "end": box[2]}[anchor]
        labels.append(Text(x, box[3] - 1, m.value, size, m.colour, anchor, kind="value"))
    circles: list[Shape] = [Circle(m.x, m.y, m.r, m.colour, m.tip) for m in marks]
    return circles + labels


def covered(box: Bounds, taken: list[Bounds]) -> float:
    """How much of `box` the boxes in `taken` cover (overlaps added up)."""
    total = 0.0
    for other in taken:
        width = min(box[2], other[2]) - max(box[0], other[0])
        height = min(box[3], other[3]) - max(box[1], other[1])
        if width > 0 and height > 0:
            total += width * height
    return total


def is_inside(box: Bounds, room: Box) -> bool:
    return room.left <= box[0] and box[2] <= room.right and room.top <= box[1] <= room.bottom


def legend(series: list[ChartSeries], left: float, y: float, width: float) -> list[Shape]:
    shapes: list[Shape] = []
    x = left
    for one, colour in zip(series, series_colours(series), strict=True):
        item = 24 + text_width(one.name, 10) + 18
        if x + item > width and x > left:
            break  # no room left: the tooltips still name each point's series
        stroke = 2.5 if one.emphasis else 1.5
        shapes.append(Line(x, y - 4, x + 18, y - 4, colour, stroke, not one.emphasis, "legend"))
        shapes.append(Text(x + 24, y, one.name, 10, INK, kind="legend"))
        x += item
    return shapes


def wrap(text: str, width: float, size: float) -> list[str]:
    """At most three lines of at most `width` (estimated); a longer word stays whole."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines[:3]


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH

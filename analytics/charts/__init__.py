"""Charts drawn once on the server as a list of shapes, then rendered twice — inline SVG
for the page (`Chart.svg()`), fpdf2 drawing for the PDF (`Chart.draw()`) — so the page
and the paper look the same.

The scales, in chart units (origin top left, y down), so a test can recompute where
something must be:

- `trend_chart`: the plot runs from x = TREND_LEFT to width − TREND_RIGHT and from
  y = TREND_TOP to height − TREND_BOTTOM (− LEGEND_HEIGHT when there are several series).
  Time maps linearly from the first to the last point onto [left + TIME_PAD,
  right − TIME_PAD] (a single instant sits in the middle); the score maps linearly from
  y_min at the bottom to y_max at the top.
- `scatter_chart`: the plot runs from SCATTER_LEFT to width − SCATTER_RIGHT and from
  SCATTER_TOP to height − SCATTER_BOTTOM; x_min…x_max and y_min…y_max map onto its edges.
- `multiple_baseline_chart`: row i's plot runs from y = MB_TOP + i × row_height +
  MB_LABEL_ROW to MB_TOP + (i + 1) × row_height − MB_GAP; x as in `trend_chart`, over
  the times of every row, so all rows share one time axis.
"""

import math
from datetime import tzinfo

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.charts.layout import (
    EMPHASIS_COLOUR,
    PALETTE,
    TIME_PAD,
    BandShade,
    Box,
    ChartPoint,
    ChartSeries,
    Mark,
    PhaseSpan,
    Scale,
    band_shapes,
    date_axis,
    empty_chart,
    frame,
    legend,
    mark_shapes,
    nice_ticks,
    phase_shapes,
    series_shapes,
    time_scale,
    title_text,
    wrap,
    y_axis,
)
from analytics.charts.shapes import GRID, MUTED, Chart, Line, Shape, Text, short

__all__ = [
    "TIME_PAD",
    "BandShade",
    "Chart",
    "ChartPoint",
    "ChartSeries",
    "PhaseSpan",
    "clip_line",
    "equation_text",
    "multiple_baseline_chart",
    "scatter_chart",
    "trend_chart",
]

TREND_LEFT, TREND_RIGHT, TREND_TOP, TREND_BOTTOM, LEGEND_HEIGHT = 52, 112, 56, 30, 24
SCATTER_LEFT, SCATTER_RIGHT, SCATTER_TOP, SCATTER_BOTTOM = 52, 56, 56, 48
MB_TOP, MB_LABEL_ROW, MB_GAP, MB_BOTTOM = 36, 22, 8, 30


def trend_chart(
    *,
    title: str,
    series: list[ChartSeries],
    y_min: float,
    y_max: float,
    phases: list[PhaseSpan],
    bands: list[BandShade],
    zone: tzinfo,
    width: float = 760,
    height: float = 320,
) -> Chart:
    """The single-case plot: scores over time, phases split by dashed lines, bands shaded."""
    several = len(series) > 1
    bottom = height - TREND_BOTTOM - (LEGEND_HEIGHT if several else 0)
    plot = Box(TREND_LEFT, TREND_TOP, width - TREND_RIGHT, bottom)
    times = [point.when for one in series for point in one.points]
    if not times:
        return empty_chart(title, width, height, plot)
    x_of = time_scale(times, plot.left, plot.right)
    y_of = Scale(y_min, y_max, plot.bottom, plot.top)
    shapes: list[Shape] = [title_text(title)]
    shapes += band_shapes(bands, y_of, y_min, y_max, plot)
    shapes += y_axis(y_of, y_min, y_max, plot, max_ticks=6)
    shapes.append(frame(plot))
    shapes += phase_shapes(phases, x_of, plot, label_y=plot.top - 8, size=11)
    shapes += date_axis(times, x_of, plot, zone)
    shapes += series_shapes(series, phases, x_of, y_of, plot)
    if several:
        shapes += legend(series, plot.left, height - 8, width)
    names = ", ".join(one.name for one in series)
    description = ngettext(
        "%(names)s: %(count)d point over time.",
        "%(names)s: %(count)d points over time.",
        len(times),
    ) % {"names": names, "count": len(times)}
    return Chart(title, description, width, height, shapes)


def scatter_chart(
    *,
    title: str,
    x_label: str,
    y_label: str,
    points: list[tuple[float, float, str]],
    x_min: float,
    x_max: float,
    y_min: float,
    y_max: float,
    intercept: float | None,
    slope: float | None,
    width: float = 760,
    height: float = 360,
) -> Chart:
    """Points (x, y, tooltip) and the fitted line y = intercept + slope × x, clipped to
    the plot, with its equation."""
    plot = Box(SCATTER_LEFT, SCATTER_TOP, width - SCATTER_RIGHT, height - SCATTER_BOTTOM)
    if not points:
        return empty_chart(title, width, height, plot)
    x_of = Scale(x_min, x_max, plot.left, plot.right)
    y_of = Scale(y_min, y_max, plot.bottom, plot.top)
    shapes: list[Shape] = [title_text(title)]
    shapes += y_axis(y_of, y_min, y_max, plot, max_ticks=6)
    for tick in nice_ticks(x_min, x_max, 8):
        x = x_of(tick)
        shapes.append(Line(x, plot.top, x, plot.bottom, GRID, 0.5, kind="grid"))
        shapes.append(Text(x, plot.bottom + 16, short(tick), 10, MUTED, "middle", kind="x-tick"))
    shapes.append(frame(plot))
    shapes.append(Text(plot.left, plot.top - 10, y_label, 11, MUTED, kind="axis-label"))
    middle = (plot.left + plot.right) / 2
    shapes.append(Text(middle, height - 8, x_label, 11, MUTED, "middle", kind="axis-label"))
    segment = clip_line(intercept, slope, x_min, x_max, y_min, y_max)
    if segment and intercept is not None and slope is not None:
        (xa, ya), (xb, yb) = segment
        shapes.append(Line(x_of(xa), y_of(ya), x_of(xb), y_of(yb), EMPHASIS_COLOUR, 2, kind="fit"))
        equation = _("Fitted line: %(equation)s") % {"equation": equation_text(intercept, slope)}
        shapes.append(
            Text(plot.right, plot.top - 10, equation, 11, EMPHASIS_COLOUR, "end", kind="equation")
        )
    marks = [
        Mark(x_of(x), y_of(y), f"{short(x)}; {short(y)}", tip, PALETTE[0], 4)
        for x, y, tip in points
    ]
    shapes += mark_shapes(marks, Box(plot.left, plot.top, width - 2, plot.bottom))
    description = ngettext(
        "%(count)d point: %(y)s against %(x)s.",
        "%(count)d points: %(y)s against %(x)s.",
        len(points),
    ) % {"count": len(points), "x": x_label, "y": y_label}
    return Chart(title, description, width, height, shapes)


def multiple_baseline_chart(
    *,
    title: str,
    rows: list[tuple[str, ChartSeries, list[PhaseSpan]]],
    y_min: float,
    y_max: float,
    zone: tzinfo,
    width: float = 760,
    row_height: float = 140,
) -> Chart:
    """One panel per client, stacked, all on one time axis, each with its phase changes
    and the client's name at its right; the dates along the bottom."""
    times = [point.when for _name, one, _phases in rows for point in one.points]
    height = MB_TOP + max(len(rows), 1) * row_height + MB_BOTTOM
    left, right = TREND_LEFT, width - TREND_RIGHT
    if not times:
        return empty_chart(title, width, height, Box(left, MB_TOP, right, height - MB_BOTTOM))
    x_of = time_scale(times, left, right)
    shapes: list[Shape] = [title_text(title)]
    plot = Box(left, MB_TOP, right, MB_TOP)
    for index, (name, one, phases) in enumerate(rows):
        top = MB_TOP + index * row_height
        plot = Box(left, top + MB_LABEL_ROW, right, top + row_height - MB_GAP)
        y_of = Scale(y_min, y_max, plot.bottom, plot.top)
        shapes += y_axis(y_of, y_min, y_max, plot, max_ticks=3)
        shapes.append(frame(plot))
        shapes += phase_shapes(phases, x_of, plot, label_y=plot.top - 6, size=9)
        for line, text in enumerate(wrap(name, TREND_RIGHT - 12, 11)):
            y = plot.top + 14 + 14 * line
            shapes.append(Text(plot.right + 8, y, text, 11, bold=True, kind="row-name"))
        shapes += series_shapes([one], phases, x_of, y_of, plot)
    shapes += date_axis(times, x_of, plot, zone)
    description = ngettext(
        "%(count)d client on one time axis.", "%(count)d clients on one time axis.", len(rows)
    ) % {"count": len(rows)}
    return Chart(title, description, width, height, shapes)


def clip_line(
    intercept: float | None,
    slope: float | None,
    x_min: float,
    x_max: float,
    y_min: float,
    y_max: float,
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of y = intercept + slope × x inside the box, or None when it misses it."""
    if intercept is None or slope is None:
        return None
    if not (math.isfinite(intercept) and math.isfinite(slope)):
        return None
    low, high = x_min, x_max
    if slope == 0:
        if not y_min <= intercept <= y_max:
            return None
    else:
        at_bottom, at_top = (y_min - intercept) / slope, (y_max - intercept) / slope
        low, high = max(low, min(at_bottom, at_top)), min(high, max(at_bottom, at_top))
        if low > high:
            return None
    return (low, intercept + slope * low), (high, intercept + slope * high)


def equation_text(intercept: float, slope: float) -> str:
    """ŷ = 62.310 − 0.650x, with a true minus sign."""
    sign = "−" if slope < 0 else "+"
    return f"ŷ = {intercept:.3f} {sign} {abs(slope):.3f}x".replace("= -", "= −")

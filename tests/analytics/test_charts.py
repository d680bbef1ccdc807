"""The charts: well-formed SVG whose shapes sit where the documented scales put them, and
the same shapes drawn into a PDF.

Positions are recomputed here from the layout the module documents (plot edges, time
padding, linear scales), not read back from the chart.
"""

import datetime as dt
import io
import itertools
import math
import xml.etree.ElementTree as ET
import zoneinfo

import pypdf
import pytest
from django.utils import translation
from fpdf import FPDF

from analytics import charts
from analytics.charts import (
    BandShade,
    ChartPoint,
    ChartSeries,
    PhaseSpan,
    clip_line,
    multiple_baseline_chart,
    scatter_chart,
    trend_chart,
)
from analytics.pdf import register_fonts

SVG = "{http://www.w3.org/2000/svg}"
MAKASSAR = zoneinfo.ZoneInfo("Asia/Makassar")  # UTC+8 all year
START = dt.datetime(2025, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Makassar


def day(n: float) -> dt.datetime:
    return START + dt.timedelta(days=n)


def parse(chart) -> ET.Element:
    return ET.fromstring(str(chart.svg()))


def of_class(root: ET.Element, kind: str) -> list[ET.Element]:
    return [element for element in root.iter() if element.get("class") == kind]


def number(element: ET.Element, name: str) -> float:
    return float(element.get(name))


def study() -> tuple[list[dt.datetime], list[int], list[PhaseSpan]]:
    """Three weekly baseline points, six sessions every three days, two follow-ups."""
    baseline = [day(0), day(7), day(14)]
    treatment = [day(21 + 3 * i) for i in range(6)]
    follow_up = [day(45), day(52)]
    phases = [
        PhaseSpan("Baseline (A)", baseline[0], baseline[-1]),
        PhaseSpan("Treatment (B)", treatment[0], treatment[-1]),
        PhaseSpan("Follow-up (A')", follow_up[0], follow_up[-1]),
    ]
    values = [34, 36, 35, 31, 29, 27, 24, 22, 20, 17, 16]
    return baseline + treatment + follow_up, values, phases


def anxiety_trend(*, subscales: bool = False, title: str = "Math anxiety"):
    times, values, phases = study()
    series = [
        ChartSeries(
            "Total",
            [
                ChartPoint(t, v, f"Total on day {i}: {v}")
                for i, (t, v) in enumerate(zip(times, values, strict=True))
            ],
        )
    ]
    if subscales:
        series.append(
            ChartSeries(
                "Learning",
                [
                    ChartPoint(t, v // 2, f"Learning {v // 2}")
                    for t, v in zip(times, values, strict=True)
                ],
                emphasis=False,
            )
        )
    bands = [
        BandShade(8.5, 12.5, "low", "good"),
        BandShade(12.5, 17.5, "fairly low", "good"),
        BandShade(17.5, 22.5, "medium", "neutral"),
        BandShade(22.5, 27.5, "fairly high", "bad"),
        BandShade(27.5, 45.5, "high", "bad"),
    ]
    chart = trend_chart(
        title=title, series=series, y_min=9, y_max=45, phases=phases, bands=bands, zone=MAKASSAR
    )
    return chart, times, values, phases


def trend_scale(times, *, width=760, height=320, legend=False):
    """The documented trend layout: plot edges, then linear time and score scales."""
    left, right = charts.TREND_LEFT, width - charts.TREND_RIGHT
    top = charts.TREND_TOP
    bottom = height - charts.TREND_BOTTOM - (charts.LEGEND_HEIGHT if legend else 0)
    first, last = min(times).timestamp(), max(times).timestamp()

    def x(when: dt.datetime) -> float:
        start, end = left + charts.TIME_PAD, right - charts.TIME_PAD
        return start + (when.timestamp() - first) / (last - first) * (end - start)

    def y(value: float) -> float:
        return bottom - (value - 9) / (45 - 9) * (bottom - top)

    return x, y, (left, top, right, bottom)


def test_trend_svg_is_well_formed_with_an_accessible_title():
    chart, *_ = anxiety_trend(title='Kecemasan <matematika> & "skor"')
    root = parse(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("width") == "100%" and root.get("height") is None
    labelled_by = root.get("aria-labelledby").split()
    ids = {element.get("id"): element for element in root.iter() if element.get("id")}
    assert [ids[key].tag for key in labelled_by] == [f"{SVG}title", f"{SVG}desc"]
    assert ids[labelled_by[0]].text == 'Kecemasan <matematika> & "skor"'
    assert ids[labelled_by[1]].text  # a sentence for screen readers
    assert "<matematika>" not in str(chart.svg())  # escaped, so no stray element
    assert not list(root.iter(f"{SVG}script"))
    assert "http" not in str(chart.svg()).replace("http://www.w3.org/2000/svg", "")


def test_every_point_has_a_tooltip_and_its_value_printed_where_the_scale_puts_it():
    chart, times, values, _phases = anxiety_trend()
    root = parse(chart)
    x, y, _box = trend_scale(times)
    circles = of_class(root, "point")
    assert len(circles) == len(values)
    for i, (when, value) in enumerate(zip(times, values, strict=True)):
        (circle,) = [
            c
            for c in circles
            if abs(number(c, "cx") - x(when)) < 0.01 and abs(number(c, "cy") - y(value)) < 0.01
        ]
        assert circle.find(f"{SVG}title").text == f"Total on day {i}: {value}"
    printed = of_class(root, "value")
    assert sorted(int(text.text) for text in printed) == sorted(values)
    for text in printed:  # each value is printed next to a point with that value
        near = [
            c
            for c in circles
            if math.dist((number(c, "cx"), number(c, "cy")), (number(text, "x"), number(text, "y")))
            < 25
            and c.find(f"{SVG}title").text.endswith(f": {text.text}")
        ]
        assert near


def test_phase_lines_sit_midway_between_the_phases_and_lines_never_cross_them():
    chart, times, _values, phases = anxiety_trend()
    root = parse(chart)
    x, _y, (_left, top, _right, bottom) = trend_scale(times)
    lines = of_class(root, "phase-line")
    expected = [
        x(before.last + (after.first - before.last) / 2)
        for before, after in itertools.pairwise(phases)
    ]
    assert [number(line, "x1") for line in lines] == pytest.approx(expected, abs=0.01)
    for line in lines:
        assert number(line, "x1") == number(line, "x2")
        assert (number(line, "y1"), number(line, "y2")) == pytest.approx((top, bottom), abs=0.01)
        assert line.get("stroke-dasharray")
    labels = [text.text for text in of_class(root, "phase-label")]
    assert labels == ["Baseline (A)", "Treatment (B)", "Follow-up (A')"]
    # One run of line per phase, and no run reaches across a phase change.
    runs = of_class(root, "series")
    assert len(runs) == 3
    for run in runs:
        xs = [float(pair.split(",")[0]) for pair in run.get("points").split()]
        for boundary in expected:
            assert all(value < boundary for value in xs) or all(value > boundary for value in xs)


def test_bands_are_shaded_between_their_edges_with_their_labels():
    chart, times, _values, _phases = anxiety_trend()
    root = parse(chart)
    _x, y, (left, _top, right, _bottom) = trend_scale(times)
    stripes = of_class(root, "band")
    # low 9–12.5 (clipped to the axis at 9), …, high 27.5–45 (clipped at 45).
    edges = [(9, 12.5), (12.5, 17.5), (17.5, 22.5), (22.5, 27.5), (27.5, 45)]
    assert len(stripes) == len(edges)
    for stripe, (low, high) in zip(stripes, edges, strict=True):
        assert number(stripe, "x") == pytest.approx(left)
        assert number(stripe, "width") == pytest.approx(right - left)
        assert number(stripe, "y") == pytest.approx(y(high), abs=0.01)
        assert number(stripe, "height") == pytest.approx(y(low) - y(high), abs=0.01)
    fills = [stripe.get("fill") for stripe in stripes]
    assert fills[0] == fills[1] != fills[2] != fills[3] == fills[4]
    labels = [text.text for text in of_class(root, "band-label")]
    assert labels == ["low", "fairly low", "medium", "fairly high", "high"]


def test_y_ticks_are_round_numbers():
    chart, *_ = anxiety_trend()
    ticks = [int(text.text) for text in of_class(parse(chart), "y-tick")]
    assert ticks == [10, 20, 30, 40]


def test_date_labels_are_in_the_given_zone_and_language():
    late = dt.datetime(2025, 12, 1, 20, 0, tzinfo=dt.UTC)  # 2 Dec, 04:00 in Makassar
    series = [
        ChartSeries(
            "Total", [ChartPoint(late, 20, "a"), ChartPoint(late + dt.timedelta(days=30), 18, "b")]
        )
    ]
    for language, first, second in (
        ("en", "2 Dec 2025", "1 Jan 2026"),
        ("id", "2 Des 2025", "1 Jan 2026"),
    ):
        with translation.override(language):
            chart = trend_chart(
                title="t", series=series, y_min=9, y_max=45, phases=[], bands=[], zone=MAKASSAR
            )
        labels = [text.text for text in of_class(parse(chart), "x-label")]
        assert labels == [first, second]  # the year shown again where it changes


def test_dense_date_labels_are_thinned_so_none_overlap():
    points = [ChartPoint(day(i), 20 + i % 5, str(i)) for i in range(60)]
    chart = trend_chart(
        title="t",
        series=[ChartSeries("Total", points)],
        y_min=9,
        y_max=45,
        phases=[],
        bands=[],
        zone=MAKASSAR,
    )
    root = parse(chart)
    assert len(of_class(root, "x-tick")) == 60  # a tick under every point
    labels = of_class(root, "x-label")
    assert 3 <= len(labels) < 60
    # Widths measured with the real font (DejaVu Sans, 10 units = 10 pt on a pt page).
    pdf = FPDF(unit="pt")
    register_fonts(pdf)
    pdf.set_font("DejaVu", "", 10)
    for before, after in itertools.pairwise(labels):
        room = number(after, "x") - number(before, "x")
        needed = (pdf.get_string_width(before.text) + pdf.get_string_width(after.text)) / 2
        assert room > needed


def test_subscales_are_thin_dashed_and_named_in_a_legend():
    chart, *_ = anxiety_trend(subscales=True)
    root = parse(chart)
    runs = of_class(root, "series")
    total = [run for run in runs if not run.get("stroke-dasharray")]
    dashed = [run for run in runs if run.get("stroke-dasharray")]
    assert total and dashed
    assert {run.get("stroke") for run in total}.isdisjoint({run.get("stroke") for run in dashed})
    assert max(number(run, "stroke-width") for run in dashed) < min(
        number(run, "stroke-width") for run in total
    )
    assert [text.text for text in of_class(root, "legend") if text.tag == f"{SVG}text"] == [
        "Total",
        "Learning",
    ]
    assert len(of_class(root, "value")) == 2 * 11


@pytest.mark.parametrize("language", ["en", "id"])
def test_a_chart_without_points_shows_an_empty_frame_and_a_message(language):
    with translation.override(language):
        chart = trend_chart(
            title="t",
            series=[ChartSeries("Total", [])],
            y_min=9,
            y_max=45,
            phases=[],
            bands=[],
            zone=MAKASSAR,
        )
        message = translation.gettext("No data yet.")
    root = parse(chart)
    assert of_class(root, "frame")
    assert [text.text for text in of_class(root, "empty")] == [message]
    assert not of_class(root, "point")


def scatter(intercept, slope, points=None):
    points = points or [(40, 33, "s1"), (50, 29, "s2"), (60, 20, "s3")]
    return scatter_chart(
        title="Anxiety against alliance",
        x_label="Alliance",
        y_label="Anxiety",
        points=points,
        x_min=12,
        x_max=60,
        y_min=9,
        y_max=45,
        intercept=intercept,
        slope=slope,
    )


def scatter_inverse(width=760, height=360):
    """Pixel → data for the documented scatter layout (the plot's edges are the limits)."""
    left, right = charts.SCATTER_LEFT, width - charts.SCATTER_RIGHT
    top, bottom = charts.SCATTER_TOP, height - charts.SCATTER_BOTTOM

    def data(px: float, py: float) -> tuple[float, float]:
        return 12 + (px - left) / (right - left) * 48, 9 + (bottom - py) / (bottom - top) * 36

    return data


@pytest.mark.parametrize(
    ("intercept", "slope"),
    [
        (62.31, -0.72),  # leaves through the top edge and the right edge
        (20.0, 0.0),  # horizontal
        (-30.0, 1.5),  # enters at the bottom, leaves through the top
        (9.0, 0.6),  # starts in the bottom left corner
    ],
)
def test_the_fitted_line_is_clipped_to_the_plot_and_lies_on_y_equals_a_plus_bx(intercept, slope):
    root = parse(scatter(intercept, slope))
    (line,) = of_class(root, "fit")
    data = scatter_inverse()
    ends = [
        data(number(line, "x1"), number(line, "y1")),
        data(number(line, "x2"), number(line, "y2")),
    ]
    for x, y in ends:
        assert 12 - 1e-6 <= x <= 60 + 1e-6 and 9 - 1e-6 <= y <= 45 + 1e-6
        assert y == pytest.approx(intercept + slope * x, abs=0.02)  # SVG keeps 2 decimals
    # Each end is on the plot's border, so the line is as long as the plot lets it be.
    for x, y in ends:
        on_border = min(abs(x - 12), abs(x - 60)) < 0.02 or min(abs(y - 9), abs(y - 45)) < 0.02
        assert on_border


def test_clip_line_by_hand():
    # y = 62.31 − 0.72x meets y = 45 at x = 17.31/0.72 = 24.041666…, and x = 60 at y = 19.11.
    (x1, y1), (x2, y2) = clip_line(62.31, -0.72, 12, 60, 9, 45)
    assert (x1, y1) == pytest.approx((17.31 / 0.72, 45))
    assert (x2, y2) == pytest.approx((60, 19.11))
    assert clip_line(100, 0, 12, 60, 9, 45) is None  # passes above the plot
    assert clip_line(None, None, 12, 60, 9, 45) is None
    assert clip_line(math.inf, 1, 12, 60, 9, 45) is None


def test_the_scatter_prints_the_equation_and_every_point():
    with translation.override("en"):
        root = parse(scatter(62.31, -0.72))
    assert [text.text for text in of_class(root, "equation")] == [
        "Fitted line: ŷ = 62.310 − 0.720x"
    ]
    assert [c.find(f"{SVG}title").text for c in of_class(root, "point")] == ["s1", "s2", "s3"]
    assert sorted(text.text for text in of_class(root, "value")) == ["40; 33", "50; 29", "60; 20"]


def test_tooltips_and_labels_are_escaped():
    root = parse(scatter(62.31, -0.72, [(40, 33, '<b>Sesi 1</b> & "catatan"'), (50, 29, "x")]))
    titles = [c.find(f"{SVG}title").text for c in of_class(root, "point")]
    assert titles == ['<b>Sesi 1</b> & "catatan"', "x"]
    assert not list(root.iter(f"{SVG}b"))


def test_a_scatter_without_a_regression_has_no_line():
    root = parse(scatter(None, None))
    assert not of_class(root, "fit") and not of_class(root, "equation")
    assert len(of_class(root, "point")) == 3


def test_multiple_baseline_panels_share_one_time_axis():
    shared = day(14)
    rows = []
    for name, change in (("Ani", 2), ("Budi", 4)):
        times = [day(7 * i) for i in range(8)]
        points = [ChartPoint(t, 35 - max(0, i - change) * 2, name) for i, t in enumerate(times)]
        phases = [
            PhaseSpan("A", times[0], times[change]),
            PhaseSpan("B", times[change + 1], times[-1]),
        ]
        rows.append((name, ChartSeries("Total", points), phases))
    chart = multiple_baseline_chart(title="MB", rows=rows, y_min=9, y_max=45, zone=MAKASSAR)
    root = parse(chart)
    assert chart.height == charts.MB_TOP + 2 * 140 + charts.MB_BOTTOM
    left, right = charts.TREND_LEFT, 760 - charts.TREND_RIGHT
    start, end = left + charts.TIME_PAD, right - charts.TIME_PAD

    def x(when):
        return start + (when - day(0)) / (day(49) - day(0)) * (end - start)

    # The same date sits at the same x in both panels.
    at_shared = [
        number(c, "cx")
        for c in of_class(root, "point")
        if c.find(f"{SVG}title") is not None
        and number(c, "cx") == pytest.approx(x(shared), abs=0.01)
    ]
    assert len(at_shared) == 2
    # Each panel has its own phase line, midway between its phases, inside its own rows.
    lines = of_class(root, "phase-line")
    assert [number(line, "x1") for line in lines] == pytest.approx(
        [x(day(17.5)), x(day(31.5))], abs=0.01
    )
    for index, line in enumerate(lines):
        top = charts.MB_TOP + index * 140 + charts.MB_LABEL_ROW
        bottom = charts.MB_TOP + (index + 1) * 140 - charts.MB_GAP
        assert (number(line, "y1"), number(line, "y2")) == pytest.approx((top, bottom))
    assert [text.text for text in of_class(root, "row-name")] == ["Ani", "Budi"]
    # One date axis, under the last panel.
    last_bottom = charts.MB_TOP + 2 * 140 - charts.MB_GAP
    assert all(number(text, "y") > last_bottom for text in of_class(root, "x-label"))


def test_drawing_on_a_pdf_page_gives_a_pdf_with_the_same_texts():
    chart, *_ = anxiety_trend(subscales=True, title="Kecemasan ≥ 9 × 2²")
    pdf = FPDF(format="A4")
    pdf.add_page()
    used = chart.draw(pdf, 15, 20, 180)
    assert used == pytest.approx(chart.height * 180 / chart.width)
    pdf.add_page()
    scatter(62.31, -0.72).draw(pdf, 15, 20, 180)
    reader = pypdf.PdfReader(io.BytesIO(bytes(pdf.output())))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert "Kecemasan ≥ 9 × 2²" in first
    for text in ("Baseline (A)", "Follow-up (A')", "fairly high", "Learning", "36", "16"):
        assert text in first
    assert "62.310" in second and "60; 20" in second

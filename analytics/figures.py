"""The report's charts from its series: which phases, which bands, which colours mean good."""

import datetime
from itertools import groupby

from django.utils.translation import gettext as _

from analytics.charts import (
    BandShade,
    Chart,
    ChartPoint,
    ChartSeries,
    PhaseSpan,
    multiple_baseline_chart,
    scatter_chart,
    trend_chart,
)
from analytics.report import ClientReport, InstrumentSeries, SeriesPoint, day_text


def phase_label(phase: str) -> str:
    return {
        "baseline": _("Baseline (A)"),
        "treatment": _("Treatment (B)"),
        "follow_up": _("Follow-up (A')"),
    }.get(phase, phase)


def plain_phase_label(phase: str) -> str:
    """The phases in a student's words."""
    return {
        "baseline": _("Before counseling"),
        "treatment": _("During counseling"),
        "follow_up": _("After counseling"),
    }.get(phase, phase)


def phase_spans(points: list[SeriesPoint], label=phase_label) -> list[PhaseSpan]:
    """One span per run of consecutive points in the same phase."""
    spans = []
    for phase, run in groupby(points, key=lambda point: point.phase):
        run = list(run)
        spans.append(PhaseSpan(label(phase), run[0].date, run[-1].date))
    return spans


def band_shades(series: InstrumentSeries) -> list[BandShade]:
    """Bands as stripes: the better end green, the worse end red, the middle grey."""
    count = len(series.bands)
    shades = []
    for index, (_code, label, low, high) in enumerate(series.bands):
        position = index / (count - 1) if count > 1 else 0.5  # 0 = lowest band
        goodness = position if series.higher_is_better else 1 - position
        tone = "good" if goodness > 0.6 else "bad" if goodness < 0.4 else "neutral"
        shades.append(BandShade(low - 0.5, high + 0.5, label, tone))
    return shades


def point_label(
    point: SeriesPoint, value: int, zone: datetime.tzinfo, name: str, phase_name=phase_label
) -> str:
    parts = [day_text(point.date, zone), phase_name(point.phase), f"{name}: {value}"]
    if point.band_label and name:
        parts[-1] += f" ({point.band_label})"
    return " · ".join(parts)


def trend_figure(
    series: InstrumentSeries,
    zone: datetime.tzinfo,
    *,
    title: str,
    for_student: bool = False,
) -> Chart:
    """The total over time with the score bands and the phases. A student's chart is
    drawn narrower (its text stays readable on a phone) and names the phases plainly."""
    phase_name = plain_phase_label if for_student else phase_label
    total = ChartSeries(
        _("Total"),
        [
            ChartPoint(
                point.date,
                point.total,
                point_label(point, point.total, zone, _("Total"), phase_name),
            )
            for point in series.points
        ],
        emphasis=True,
    )
    return trend_chart(
        title=title,
        series=[total],
        y_min=series.total_min,
        y_max=series.total_max,
        phases=phase_spans(series.points, phase_name),
        bands=band_shades(series),
        zone=zone,
        **({"width": 420, "height": 340} if for_student else {}),
    )


def subscale_figure(series: InstrumentSeries, zone: datetime.tzinfo, *, title: str) -> Chart | None:
    """The subscales over time on their own axis (the bands belong to the total only)."""
    lines = []
    for code, name in series.subscales:
        points = [
            ChartPoint(
                point.date,
                point.subscales[code],
                f"{day_text(point.date, zone)} · {name}: {point.subscales[code]}",
            )
            for point in series.points
            if code in point.subscales
        ]
        if points:
            lines.append(ChartSeries(name, points, emphasis=False))
    if not lines:
        return None
    low, high = series.subscale_range
    return trend_chart(
        title=title,
        series=lines,
        y_min=low,
        y_max=high,
        phases=phase_spans(series.points),
        bands=[],
        zone=zone,
        height=260,
    )


def trend_figures(series: InstrumentSeries, zone: datetime.tzinfo, *, titles) -> list[Chart]:
    """The total's chart, then the subscales' chart if the instrument has subscales."""
    figures = [trend_figure(series, zone, title=titles[0])]
    subscales = subscale_figure(series, zone, title=titles[1])
    if subscales is not None:
        figures.append(subscales)
    return figures


def scatter_figure(report: ClientReport, *, alliance_range, anxiety_range) -> Chart:
    regression = report.regression
    return scatter_chart(
        title=_("Anxiety (AMAS) against alliance (WAI-SR), treatment sessions"),
        x_label=_("Alliance (WAI-SR)"),
        y_label=_("Anxiety (AMAS)"),
        points=[
            (
                pair.alliance,
                pair.anxiety,
                _("Session %(n)d: alliance %(x)s, anxiety %(y)s")
                % {"n": pair.number, "x": f"{pair.alliance:g}", "y": f"{pair.anxiety:g}"},
            )
            for pair in report.pairs
        ],
        x_min=alliance_range[0],
        x_max=alliance_range[1],
        y_min=anxiety_range[0],
        y_max=anxiety_range[1],
        intercept=regression.intercept if regression else None,
        slope=regression.slope if regression else None,
    )


def report_figures(report: ClientReport) -> list[Chart]:
    """The scatter plot and the trend charts, in the order the report shows them; dates
    in the report's (the school's) zone."""
    zone = report.zone
    alliance_range = (
        (report.alliance.total_min, report.alliance.total_max) if report.alliance else (12, 60)
    )
    anxiety_range = (
        (report.anxiety.total_min, report.anxiety.total_max) if report.anxiety else (9, 45)
    )
    figures = [scatter_figure(report, alliance_range=alliance_range, anxiety_range=anxiety_range)]
    if report.alliance:
        figures += trend_figures(report.alliance, zone, titles=alliance_titles())
    if report.anxiety:
        figures += trend_figures(report.anxiety, zone, titles=anxiety_titles())
    return figures


def alliance_titles() -> tuple[str, str]:
    return (
        _("Working alliance (WAI-SR): total score"),
        _("Working alliance (WAI-SR): Goal, Task and Bond"),
    )


def anxiety_titles() -> tuple[str, str]:
    return _("Math anxiety (AMAS): total score"), _("Math anxiety (AMAS): subscales")


def multiple_baseline_figure(
    rows: list[tuple[str, InstrumentSeries]], zone: datetime.tzinfo
) -> Chart:
    panels = [
        (
            name,
            ChartSeries(
                _("Total"),
                [
                    ChartPoint(p.date, p.total, point_label(p, p.total, zone, name))
                    for p in series.points
                ],
            ),
            phase_spans(series.points),
        )
        for name, series in rows
    ]
    low = min((series.total_min for _name, series in rows), default=9)
    high = max((series.total_max for _name, series in rows), default=45)
    return multiple_baseline_chart(
        title=_("Anxiety (AMAS) across clients: multiple baseline"),
        rows=panels,
        y_min=low,
        y_max=high,
        zone=zone,
    )

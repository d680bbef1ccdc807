"""From a client's series to the report: the regression, its reading in plain words,
the overlap between phases and the reliable change."""

import datetime
import math
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from analytics import stats
from analytics.report import (
    ALPHA,
    CEILING_SHARE,
    MIN_ALLIANCE_SD,
    SMALL_N,
    ChangeRow,
    ClientReport,
    InstrumentSeries,
    OverlapRow,
    SessionPair,
    format_p,
    fraction,
    score_text,
    strength_label,
)

BASELINE, TREATMENT, FOLLOW_UP = "baseline", "treatment", "follow_up"


@dataclass(frozen=True)
class ChangeReference:
    """What the reliable change index is computed against, and where it comes from."""

    reliability: float
    sd: float
    source: str


@dataclass(frozen=True)
class Heading:
    school_name: str = ""
    counselor_name: str = ""
    client_name: str = ""
    client_class: str = ""


def phase_comparisons() -> list[tuple[str, str, str, str]]:
    return [
        ("baseline-treatment", BASELINE, TREATMENT, _("Baseline → treatment")),
        ("treatment-follow_up", TREATMENT, FOLLOW_UP, _("Treatment → follow-up")),
        ("baseline-follow_up", BASELINE, FOLLOW_UP, _("Baseline → follow-up")),
    ]


def regression_problem(error: stats.StatisticsError, pairs: list[SessionPair]) -> str:
    if error.code == "constant_x":
        return _(
            "Alliance was %(value)s in every session, so there is nothing for a regression to "
            "work with. Client-rated alliance often sits at the ceiling; talk about it with "
            "the client instead of reading numbers."
        ) % {"value": score_text(pairs[0].alliance)}
    if error.code == "constant_y":
        return _(
            "Anxiety was %(value)s in every session: there is no change in anxiety to explain."
        ) % {"value": score_text(pairs[0].anxiety)}
    if error.code == "too_few":
        return _(
            "A regression needs at least 3 treatment sessions with both questionnaires "
            "answered; there are %(count)d so far."
        ) % {"count": len(pairs)}
    return _("The data cannot support a regression: %(reason)s") % {"reason": error}


def spread_warning(pairs: list[SessionPair], alliance_max: float | None) -> str:
    """A warning when alliance varies too little to carry a regression ("" otherwise)."""
    values = [pair.alliance for pair in pairs]
    sd = math.sqrt(stats.sample_variance(values))
    at_ceiling = sum(1 for value in values if alliance_max is not None and value >= alliance_max)
    if at_ceiling / len(values) >= CEILING_SHARE:
        return _(
            "%(count)d of %(n)d alliance scores are at the maximum (%(max)s): the client rates "
            "the alliance at the ceiling, so the regression rests on the few other sessions. "
            "Read it with great caution."
        ) % {"count": at_ceiling, "n": len(values), "max": score_text(alliance_max)}
    if sd < MIN_ALLIANCE_SD or len(set(values)) < 3:
        return _(
            "Alliance hardly varied (standard deviation %(sd)s points, %(distinct)d different "
            "values): too little spread to support a regression. Read it with great caution."
        ) % {"sd": plain(sd, 2), "distinct": len(set(values))}
    return ""


def plain(value: float, places: int) -> str:
    """A number in a sentence, written the way the reader's language writes decimals
    (92,3 in Indonesian); the statistics themselves keep SPSS's notation (R = .961)."""
    # Rounded first: number_format cuts the digits off (99.07 would read 99,0).
    return formats.number_format(round(value, places), decimal_pos=places)


def interpretation(result: stats.Regression) -> list[str]:
    """The regression read in plain words, as a school research report would."""
    direction = (
        _("the stronger the alliance, the lower the anxiety")
        if result.slope < 0
        else _("the stronger the alliance, the higher the anxiety")
    )
    sentences = [
        _(
            "The relationship between alliance and anxiety is %(strength)s (R = %(r)s): "
            "%(direction)s."
        )
        % {"strength": strength_label(result.r), "r": fraction(result.r), "direction": direction},
        _(
            "Alliance accounts for %(percent)s %% of the variation in anxiety (R² = %(r2)s); "
            "the other %(rest)s %% comes from other things."
        )
        % {
            "percent": plain(100 * result.r_squared, 1),
            "r2": fraction(result.r_squared),
            "rest": plain(100 - 100 * result.r_squared, 1),
        },
        _("Each point more alliance goes with %(b)s points %(change)s anxiety (B = %(signed)s).")
        % {
            "b": plain(abs(result.slope), 2),
            "change": _("less") if result.slope < 0 else _("more"),
            "signed": fraction(result.slope),
        },
    ]
    values = {
        "df1": result.df_regression,
        "df2": result.df_residual,
        "f": "∞" if math.isinf(result.f) else f"{result.f:.2f}",
        "p": "< .001" if format_p(result.f_p) == "< .001" else f"= {format_p(result.f_p)}",
    }
    if result.f_p < ALPHA:
        sentences.append(
            _(
                "The regression is significant at the .05 level (F(%(df1)d, %(df2)d) = %(f)s, "
                "p %(p)s): the relationship is unlikely to be chance."
            )
            % values
        )
    else:
        sentences.append(
            _(
                "The regression is not significant at the .05 level (F(%(df1)d, %(df2)d) = "
                "%(f)s, p %(p)s): the relationship may be chance."
            )
            % values
        )
    return sentences


def regression_part(
    pairs: list[SessionPair], alliance_max: float | None
) -> tuple[stats.Regression | None, str, list[str], list[str]]:
    """(regression, problem, warnings, interpretation) for these sessions."""
    try:
        result = stats.simple_regression(
            [pair.alliance for pair in pairs], [pair.anxiety for pair in pairs]
        )
    except stats.StatisticsError as error:
        return None, regression_problem(error, pairs), [], []
    warnings = []
    if result.n < SMALL_N:
        warnings.append(
            _(
                "Only %(n)d sessions: with fewer than %(small)d the regression describes this "
                "client's sessions; it is not firm evidence."
            )
            % {"n": result.n, "small": SMALL_N}
        )
    spread = spread_warning(pairs, alliance_max)
    if spread:
        warnings.append(spread)
    return result, "", warnings, interpretation(result)


def raters_warning(alliance: InstrumentSeries | None, pairs: list[SessionPair]) -> str:
    """A warning when the paired alliance scores rate more than one counselor (the client
    changed counselor during treatment; the WAI-SR items name the counselor)."""
    if alliance is None:
        return ""
    paired = {pair.date for pair in pairs}
    raters = {point.counselor_id for point in alliance.points if point.date in paired}
    if len(raters) < 2:
        return ""
    return _(
        "The client changed counselor during treatment: the alliance scores rate "
        "%(count)d different counselors, so one regression mixes different relationships."
    ) % {"count": len(raters)}


def overlap_part(anxiety: InstrumentSeries | None) -> tuple[list[OverlapRow], str]:
    if anxiety is None:
        return [], _("No anxiety scores yet.")
    decreasing = not anxiety.higher_is_better
    rows = []
    for code, first, second, label in phase_comparisons():
        a, b = anxiety.phase_totals(first), anxiety.phase_totals(second)
        if not a or not b:
            continue
        rows.append(
            OverlapRow(
                code=code,
                label=label,
                n_a=len(a),
                n_b=len(b),
                pnd=stats.pnd(a, b, decreasing=decreasing),
                pem=stats.pem(a, b, decreasing=decreasing),
                nap=stats.nap(a, b, decreasing=decreasing),
                tau=stats.tau_u(a, b, decreasing=decreasing),
                tau_trend=stats.tau_u(a, b, decreasing=decreasing, baseline_trend=True),
            )
        )
    problem = "" if rows else _("Overlap needs anxiety scores in at least two phases.")
    return rows, problem


def change_part(
    anxiety: InstrumentSeries | None, reference: ChangeReference | None, reference_problem: str
) -> tuple[ChangeRow | None, str]:
    if anxiety is None:
        return None, _("No anxiety scores yet.")
    pre, post = anxiety.phase_totals(BASELINE), anxiety.phase_totals(FOLLOW_UP)
    if not pre or not post:
        return None, _("A reliable change needs anxiety scores at baseline and at follow-up.")
    if reference is None:
        return None, reference_problem
    pre_mean, post_mean = stats.mean(pre), stats.mean(post)
    result = stats.reliable_change_index(
        pre_mean,
        post_mean,
        reliability=reference.reliability,
        sd=reference.sd,
        decreasing=not anxiety.higher_is_better,
    )
    row = ChangeRow(
        pre_mean=pre_mean,
        post_mean=post_mean,
        reliability=reference.reliability,
        sd=reference.sd,
        source=reference.source,
        result=result,
    )
    return row, ""


def build_report(
    *,
    heading: Heading,
    pairs: list[SessionPair],
    alliance: InstrumentSeries | None = None,
    anxiety: InstrumentSeries | None = None,
    reference: ChangeReference | None = None,
    reference_problem: str = "",
    alliance_max: float | None = None,
    zone: datetime.tzinfo = datetime.UTC,
    now: datetime.datetime | None = None,
) -> ClientReport:
    """The report on these sessions; `alliance_max` (the alliance scale's ceiling) defaults
    to the alliance series' own."""
    if alliance_max is None and alliance is not None:
        alliance_max = alliance.total_max
    regression, problem, warnings, sentences = regression_part(pairs, alliance_max)
    raters = raters_warning(alliance, pairs)
    if raters:
        warnings.append(raters)
    dates = [point.date for series in (alliance, anxiety) if series for point in series.points] or [
        pair.date for pair in pairs if pair.date
    ]
    overlap, overlap_problem = overlap_part(anxiety)
    change, change_problem = change_part(anxiety, reference, reference_problem)
    return ClientReport(
        school_name=heading.school_name,
        counselor_name=heading.counselor_name,
        client_name=heading.client_name,
        client_class=heading.client_class,
        period_start=min(dates).astimezone(zone).date() if dates else None,
        period_end=max(dates).astimezone(zone).date() if dates else None,
        generated_at=now or timezone.now(),
        pairs=pairs,
        regression=regression,
        regression_problem=problem,
        warnings=warnings,
        interpretation=sentences,
        alliance=alliance,
        anxiety=anxiety,
        overlap=overlap,
        overlap_problem=overlap_problem if anxiety else "",
        change=change,
        change_problem=change_problem if anxiety else "",
        zone=zone,
    )

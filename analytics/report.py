"""The per-client report a case conference needs, as plain data.

`ClientReport` holds everything the page, the PDF, the CSV, the JSON of
`manage.py regression_report` and the text output show, so they cannot disagree: each
of them only formats these numbers. Building one from the database is in series.py;
from a researcher's CSV file in `report_from_pairs`.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from analytics import stats

SMALL_N = 10  # fewer treatment sessions than this: the regression is read as description
CEILING_SHARE = 0.5  # at least this share of alliance scores at the scale maximum
MIN_ALLIANCE_SD = 2.0  # alliance spread (points) below which a slope says little
ALPHA = 0.05


@dataclass(frozen=True)
class SeriesPoint:
    """One answered questionnaire: when, in which phase, the scores."""

    date: datetime.datetime  # aware, UTC
    phase: str  # "baseline" | "treatment" | "follow_up"
    total: int
    subscales: dict[str, int]  # subscale code → score
    band_code: str
    band_label: str
    session_id: int | None = None
    counselor_id: int | None = None  # whose client the student was (WAI-SR rates them)


@dataclass(frozen=True)
class InstrumentSeries:
    code: str
    name: str
    total_min: int
    total_max: int
    subscales: list[tuple[str, str]]  # (code, name) in definition order
    bands: list[tuple[str, str, int, int]]  # (code, label, min, max), low to high
    higher_is_better: bool
    points: list[SeriesPoint]
    subscale_range: tuple[int, int] = (0, 0)  # lowest and highest possible subscale score

    def phase_totals(self, phase: str) -> list[int]:
        return [point.total for point in self.points if point.phase == phase]


@dataclass(frozen=True)
class SessionPair:
    """One treatment session where the client answered both questionnaires."""

    number: int  # 1, 2, … in time order
    date: datetime.datetime | None  # None for rows of a researcher's CSV file
    alliance: float
    anxiety: float


@dataclass(frozen=True)
class OverlapRow:
    """Overlap of two phases of the anxiety series (lower anxiety is better)."""

    code: str  # "baseline-treatment" | "treatment-follow_up" | "baseline-follow_up"
    label: str
    n_a: int
    n_b: int
    pnd: float  # proportions 0–1
    pem: float
    nap: float
    tau: stats.TauU  # A vs B
    tau_trend: stats.TauU  # A vs B, corrected for baseline trend


@dataclass(frozen=True)
class ChangeRow:
    """Jacobson–Truax reliable change of anxiety from the baseline to the follow-up mean."""

    pre_mean: float
    post_mean: float
    reliability: float
    sd: float
    source: str  # where reliability and SD come from, in words
    result: stats.ReliableChange


@dataclass
class ClientReport:
    school_name: str
    counselor_name: str
    client_name: str
    client_class: str
    period_start: datetime.date | None
    period_end: datetime.date | None
    generated_at: datetime.datetime
    pairs: list[SessionPair]
    regression: stats.Regression | None
    regression_problem: str  # why there is no regression, in words ("" when there is one)
    warnings: list[str] = field(default_factory=list)
    interpretation: list[str] = field(default_factory=list)
    alliance: InstrumentSeries | None = None
    anxiety: InstrumentSeries | None = None
    overlap: list[OverlapRow] = field(default_factory=list)
    overlap_problem: str = ""
    change: ChangeRow | None = None
    change_problem: str = ""
    zone: datetime.tzinfo = datetime.UTC  # the school's: dates are shown in it

    def local(self, moment: datetime.datetime) -> str:
        return moment.astimezone(self.zone).isoformat()

    def as_dict(self) -> dict:
        """The report as JSON-ready data (what `regression_report --format json` prints)."""
        return {
            "school": self.school_name,
            "counselor": self.counselor_name,
            "client": self.client_name,
            "class": self.client_class,
            "period": {
                "start": self.period_start.isoformat() if self.period_start else None,
                "end": self.period_end.isoformat() if self.period_end else None,
            },
            "generated_at": self.local(self.generated_at),
            "data": [
                {
                    "session": pair.number,
                    "date": self.local(pair.date) if pair.date else None,
                    "alliance": pair.alliance,
                    "anxiety": pair.anxiety,
                }
                for pair in self.pairs
            ],
            "regression": regression_dict(self.regression),
            "regression_problem": self.regression_problem or None,
            "warnings": self.warnings,
            "interpretation": self.interpretation,
            "overlap": [
                {
                    "comparison": row.code,
                    "n_a": row.n_a,
                    "n_b": row.n_b,
                    "pnd": finite(row.pnd),
                    "pem": finite(row.pem),
                    "nap": finite(row.nap),
                    "tau_a_vs_b": tau_dict(row.tau),
                    "tau_a_vs_b_trend_a": tau_dict(row.tau_trend),
                }
                for row in self.overlap
            ],
            "overlap_problem": self.overlap_problem or None,
            "reliable_change": change_dict(self.change),
            "reliable_change_problem": self.change_problem or None,
        }


def finite(value: float | None) -> float | None:
    """JSON has no infinity: a perfect fit's t is reported as null."""
    if value is None or not math.isfinite(value):
        return None
    return value


REGRESSION_FIELDS = (
    "n",
    "r",
    "r_squared",
    "adj_r_squared",
    "std_error_estimate",
    "ss_regression",
    "ss_residual",
    "ss_total",
    "df_regression",
    "df_residual",
    "ms_regression",
    "ms_residual",
    "f",
    "f_p",
    "intercept",
    "intercept_se",
    "intercept_t",
    "intercept_p",
    "slope",
    "slope_se",
    "slope_t",
    "slope_p",
    "beta",
)


def regression_dict(regression: stats.Regression | None) -> dict | None:
    if regression is None:
        return None
    return {name: finite(getattr(regression, name)) for name in REGRESSION_FIELDS}


def tau_dict(tau: stats.TauU) -> dict:
    return {
        "tau": finite(tau.tau),
        "s": tau.s,
        "pairs": tau.pairs,
        "z": finite(tau.z),
        "p": finite(tau.p),
    }


def change_dict(change: ChangeRow | None) -> dict | None:
    if change is None:
        return None
    return {
        "pre_mean": change.pre_mean,
        "post_mean": change.post_mean,
        "reliability": change.reliability,
        "sd": change.sd,
        "source": change.source,
        "se_measurement": change.result.se_measurement,
        "s_diff": change.result.s_diff,
        "rci": change.result.rci,
        "is_reliable": change.result.is_reliable,
        "is_improvement": change.result.is_improvement,
    }


def strength_label(r: float) -> str:
    """How Indonesian school research names the strength of a correlation
    (Sugiyono's intervals: .00–.199 very weak … .80–1.00 very strong)."""
    r = abs(r)
    if r < 0.2:
        return _("very weak")
    if r < 0.4:
        return _("weak")
    if r < 0.6:
        return _("moderate")
    if r < 0.8:
        return _("strong")
    return _("very strong")


def format_p(p: float | None) -> str:
    """p as SPSS shows Sig., but "< .001" where SPSS prints .000."""
    if p is None or not math.isfinite(p):
        return "—"
    if p < 0.0005:  # rounds to .000
        return "< .001"
    return f"{p:.3f}".lstrip("0")


@dataclass(frozen=True)
class Table:
    """One table of the report as strings, shown the same on the page and in the PDF."""

    code: str  # HTML id and CSV section name
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


def day_text(when: datetime.datetime, zone: datetime.tzinfo) -> str:
    """A moment as the day it was in the school: the one date format every output uses."""
    return formats.date_format(timezone.localtime(when, zone), "j M Y")


def score_text(value: float) -> str:
    """A score as people write it: 38, or 40.50 for a researcher's averaged score."""
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"


def number(value: float | None, places: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{places}f}"


def fraction(value: float | None) -> str:
    """A value as SPSS prints it, three decimals, and between −1 and 1 without the
    leading zero: .894, -.205, 12.031."""
    text = number(value)
    if text.startswith("0."):
        return text[1:]
    if text.startswith("-0."):
        return "-" + text[2:]
    return text


def regression_tables(report: ClientReport) -> list[Table]:
    """Model Summary, ANOVA and Coefficients laid out as SPSS prints them."""
    result = report.regression
    if result is None:
        return []
    predictor = _("Alliance (WAI-SR)")
    predictors_note = _("Predictors: (Constant), %(predictor)s. Dependent variable: %(dependent)s.")
    note = predictors_note % {"predictor": predictor, "dependent": _("Anxiety (AMAS)")}
    return [
        Table(
            "model-summary",
            _("Model Summary"),
            [
                _("Model"),
                "R",
                _("R Square"),
                _("Adjusted R Square"),
                _("Std. Error of the Estimate"),
            ],
            [
                [
                    "1",
                    fraction(result.r),
                    fraction(result.r_squared),
                    fraction(result.adj_r_squared),
                    fraction(result.std_error_estimate),
                ]
            ],
            note,
        ),
        Table(
            "anova",
            "ANOVA",
            [_("Model"), _("Sum of Squares"), "df", _("Mean Square"), "F", _("Sig.")],
            [
                [
                    _("Regression"),
                    fraction(result.ss_regression),
                    str(result.df_regression),
                    fraction(result.ms_regression),
                    fraction(result.f),
                    format_p(result.f_p),
                ],
                [
                    _("Residual"),
                    fraction(result.ss_residual),
                    str(result.df_residual),
                    fraction(result.ms_residual),
                    "",
                    "",
                ],
                [_("Total"), fraction(result.ss_total), str(result.n - 1), "", "", ""],
            ],
            note,
        ),
        Table(
            "coefficients",
            _("Coefficients"),
            [_("Model"), "B", _("Std. Error"), "Beta", "t", _("Sig.")],
            [
                [
                    _("(Constant)"),
                    fraction(result.intercept),
                    fraction(result.intercept_se),
                    "",
                    fraction(result.intercept_t),
                    format_p(result.intercept_p),
                ],
                [
                    predictor,
                    fraction(result.slope),
                    fraction(result.slope_se),
                    fraction(result.beta),
                    fraction(result.slope_t),
                    format_p(result.slope_p),
                ],
            ],
            _("B and Std. Error: unstandardized coefficients; Beta: standardized coefficient."),
        ),
    ]


def overlap_table(report: ClientReport) -> Table | None:
    if not report.overlap:
        return None
    rows = [
        [
            row.label,
            f"{row.n_a} / {row.n_b}",
            number(100 * row.pnd, 1),
            number(100 * row.pem, 1),
            number(100 * row.nap, 1),
            fraction(row.tau.tau),
            format_p(row.tau.p),
            fraction(row.tau_trend.tau),
            format_p(row.tau_trend.p),
        ]
        for row in report.overlap
    ]
    return Table(
        "overlap",
        _("Overlap between phases (anxiety)"),
        [
            _("Phases"),
            "n",
            "PND %",
            "PEM %",
            "NAP %",
            "Tau A–B",
            _("Sig."),
            _("Tau-U (A trend removed)"),
            _("Sig."),
        ],
        rows,
        _(
            "Lower anxiety counts as improvement. PND: share of the later phase better than "
            "every earlier point; PEM: share better than the earlier median; NAP: share of all "
            "pairs that improved (ties count half); Tau: improving minus worsening pairs."
        ),
    )


def change_table(report: ClientReport) -> Table | None:
    change = report.change
    if change is None:
        return None
    verdict = (
        _("Reliable improvement")
        if change.result.is_improvement
        else _("Reliable worsening")
        if change.result.is_reliable
        else _("No reliable change")
    )
    return Table(
        "reliable-change",
        _("Reliable change (Jacobson–Truax), baseline to follow-up"),
        [
            _("Baseline mean"),
            _("Follow-up mean"),
            _("Reliability"),
            "SD",
            "SE",
            "S diff",
            "RCI",
            _("Result"),
        ],
        [
            [
                number(change.pre_mean, 2),
                number(change.post_mean, 2),
                fraction(change.reliability),
                number(change.sd, 2),
                number(change.result.se_measurement),
                number(change.result.s_diff),
                number(change.result.rci, 2),
                verdict,
            ]
        ],
        change.source,
    )


def data_table(report: ClientReport) -> Table:
    """The data the regression was computed on, one row per treatment session."""
    rows = [
        [
            str(pair.number),
            day_text(pair.date, report.zone) if pair.date else "—",
            score_text(pair.alliance),
            score_text(pair.anxiety),
        ]
        for pair in report.pairs
    ]
    return Table(
        "data",
        _("Data: treatment sessions"),
        [_("Session"), _("Date"), _("Alliance (WAI-SR)"), _("Anxiety (AMAS)")],
        rows,
    )


def report_tables(report: ClientReport) -> list[Table]:
    """Every table of the report in the order the page, the PDF and the text show them;
    dates in the report's (the school's) zone."""
    tables = regression_tables(report)
    tables += [table for table in (overlap_table(report), change_table(report)) if table]
    tables.append(data_table(report))
    return tables

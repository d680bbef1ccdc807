"""Pure statistics: plain Python numbers in, numbers out, no database, no Django.

What is here:
- descriptive statistics and scale reliability: `mean`, `sample_variance`, `pearson_r`,
  `cronbach_alpha`, `corrected_item_total`, `alpha_if_deleted`;
- `simple_regression`: one predictor, reported as SPSS prints it (Model Summary, ANOVA,
  Coefficients);
- single-case overlap between two phases, following the R package scan (Wilbert):
  `pnd`, `pem`, `nap`, `tau_u`;
- the Jacobson–Truax reliable change index: `reliable_change_index`.

Bad input raises `StatisticsError`, whose `.code` says what was wrong. Every function is
tested against an independent computation (numpy/scipy/statsmodels) and published values;
see tests/analytics/.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as distributions

Matrix = Sequence[Sequence[float]]  # one row per respondent, one column per item


class StatisticsError(ValueError):
    """The data cannot give the statistic asked for. `code` is one of "too_few",
    "constant_x", "constant_y", "missing", "length_mismatch", "bad_reliability",
    "bad_sd"; the message says the same in English words."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def sample_variance(values: Sequence[float]) -> float:
    """Variance with n − 1 in the denominator (as SPSS reports it)."""
    centre = mean(values)
    return math.fsum((value - centre) ** 2 for value in values) / (len(values) - 1)


def pearson_r(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's correlation; None when either variable does not vary."""
    if len(set(xs)) < 2 or len(set(ys)) < 2:
        return None
    mean_x, mean_y = mean(xs), mean(ys)
    sxy = math.fsum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    sxx = math.fsum((x - mean_x) ** 2 for x in xs)
    syy = math.fsum((y - mean_y) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy)


def _columns(rows: Matrix) -> list[list[float]]:
    return [list(column) for column in zip(*rows, strict=True)]


def cronbach_alpha(rows: Matrix) -> float | None:
    """Cronbach's alpha: k/(k−1) · (1 − Σ item variances / variance of the sum).

    None when it is undefined: fewer than two respondents or items, or totals that do
    not vary.
    """
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    items = _columns(rows)
    totals = [math.fsum(row) for row in rows]
    if len(set(totals)) < 2:
        return None
    total_variance = sample_variance(totals)
    k = len(items)
    item_variance = math.fsum(sample_variance(column) for column in items)
    return k / (k - 1) * (1 - item_variance / total_variance)


def corrected_item_total(rows: Matrix) -> list[float | None]:
    """Each item's correlation with the sum of the other items (SPSS "Corrected
    Item-Total Correlation"); None for an item where either side does not vary."""
    if len(rows) < 2 or len(rows[0]) < 2:
        return [None] * (len(rows[0]) if rows else 0)
    totals = [math.fsum(row) for row in rows]
    return [
        pearson_r(column, [total - value for total, value in zip(totals, column, strict=True)])
        for column in _columns(rows)
    ]


def alpha_if_deleted(rows: Matrix) -> list[float | None]:
    """Cronbach's alpha of the remaining items with each item left out in turn."""
    k = len(rows[0]) if rows else 0
    return [
        cronbach_alpha([[value for i, value in enumerate(row) if i != left_out] for row in rows])
        for left_out in range(k)
    ]


def _checked(values: Sequence[float | None], name: str) -> list[float]:
    """The values as floats; "missing" when one is None, NaN or infinite."""
    checked = []
    for position, value in enumerate(values, start=1):
        if value is None or not math.isfinite(value):
            raise StatisticsError(
                "missing", f"{name} has no usable value at position {position} ({value!r})."
            )
        checked.append(float(value))
    return checked


# Simple linear regression -------------------------------------------------------------


@dataclass(frozen=True)
class Regression:
    """y = intercept + slope · x by least squares, with what SPSS prints about it."""

    n: int
    r: float  # as SPSS prints R: never negative; the sign is in slope and beta
    r_squared: float
    adj_r_squared: float
    std_error_estimate: float
    ss_regression: float
    ss_residual: float
    ss_total: float
    df_regression: int
    df_residual: int
    ms_regression: float
    ms_residual: float
    f: float
    f_p: float
    intercept: float
    intercept_se: float
    intercept_t: float
    intercept_p: float
    slope: float
    slope_se: float
    slope_t: float
    slope_p: float
    beta: float  # standardized slope (slope · sd_x / sd_y)


def _t_and_p(estimate: float, se: float, df: int) -> tuple[float, float]:
    """t and its two-sided p. A standard error of zero (a perfect fit) gives t = ±inf and
    p = 0, or NaN for both when the estimate itself is exactly zero."""
    if se == 0.0:
        if estimate == 0.0:
            return math.nan, math.nan
        return math.copysign(math.inf, estimate), 0.0
    t = estimate / se
    return t, float(2.0 * distributions.t.sf(abs(t), df))


def simple_regression(x: Sequence[float], y: Sequence[float]) -> Regression:
    """Ordinary least squares of y on x with an intercept, as SPSS Linear Regression.

    Sums of squares are taken about the means with `math.fsum`, so the results hold to
    the last digits (NIST StRD "Norris" is met to 1e-9 relative). p values come from the
    t and F distributions (two-sided for t). A fit that is perfect up to rounding has a
    residual sum of squares of exactly 0, F = t = inf and p = 0.
    """
    if len(x) != len(y):
        raise StatisticsError(
            "length_mismatch", f"x has {len(x)} values but y has {len(y)}: they must pair up."
        )
    xs, ys = _checked(x, "x"), _checked(y, "y")
    n = len(xs)
    if n < 3:
        raise StatisticsError(
            "too_few", f"A regression needs at least 3 pairs of values; there are {n}."
        )
    if len(set(xs)) < 2:
        raise StatisticsError(
            "constant_x", f"x is {xs[0]:g} every time: there is no spread to predict from."
        )
    if len(set(ys)) < 2:
        raise StatisticsError(
            "constant_y",
            f"y is {ys[0]:g} every time: nothing changed, so there is no change to explain "
            "(e.g. the anxiety score never changed).",
        )
    mean_x, mean_y = mean(xs), mean(ys)
    dx = [value - mean_x for value in xs]
    dy = [value - mean_y for value in ys]
    sxx = math.fsum(d * d for d in dx)
    syy = math.fsum(d * d for d in dy)
    sxy = math.fsum(a * b for a, b in zip(dx, dy, strict=True))
    slope = sxy / sxx
    intercept = mean_y - slope * mean_x
    residuals = [b - slope * a for a, b in zip(dx, dy, strict=True)]
    ss_residual = math.fsum(e * e for e in residuals)
    rounding = 16 * math.ulp(max(abs(value) for value in ys))
    if ss_residual <= n * rounding**2:  # the points lie on a line up to rounding
        ss_residual = 0.0
    ss_regression = sxy * sxy / sxx
    df_residual = n - 2
    ms_residual = ss_residual / df_residual
    if ms_residual == 0.0:
        f, f_p = math.inf, 0.0
    else:
        f = ss_regression / ms_residual
        f_p = float(distributions.f.sf(f, 1, df_residual))
    r_squared = ss_regression / syy
    slope_se = math.sqrt(ms_residual / sxx)
    intercept_se = math.sqrt(ms_residual * (1.0 / n + mean_x * mean_x / sxx))
    slope_t, slope_p = _t_and_p(slope, slope_se, df_residual)
    intercept_t, intercept_p = _t_and_p(intercept, intercept_se, df_residual)
    return Regression(
        n=n,
        r=math.sqrt(r_squared),
        r_squared=r_squared,
        adj_r_squared=1.0 - ms_residual / (syy / (n - 1)),
        std_error_estimate=math.sqrt(ms_residual),
        ss_regression=ss_regression,
        ss_residual=ss_residual,
        ss_total=syy,
        df_regression=1,
        df_residual=df_residual,
        ms_regression=ss_regression,
        ms_residual=ms_residual,
        f=f,
        f_p=f_p,
        intercept=intercept,
        intercept_se=intercept_se,
        intercept_t=intercept_t,
        intercept_p=intercept_p,
        slope=slope,
        slope_se=slope_se,
        slope_t=slope_t,
        slope_p=slope_p,
        beta=slope * math.sqrt(sxx / syy),
    )


# Single-case overlap between two phases ------------------------------------------------
#
# Phase A comes first (e.g. baseline), phase B second (e.g. treatment). With
# decreasing=True lower values are better (anxiety): every comparison is mirrored, which is
# the same as negating all values. Proportions are returned (0–1); scan prints percent.


def _phases(a: Sequence[float], b: Sequence[float], decreasing: bool) -> tuple[list, list]:
    """Both phases checked, and negated when lower is better, so that from here on a
    higher value is always an improvement."""
    phase_a, phase_b = _checked(a, "Phase A"), _checked(b, "Phase B")
    if not phase_a or not phase_b:
        raise StatisticsError(
            "too_few",
            f"Both phases need at least one value (phase A has {len(phase_a)}, "
            f"phase B has {len(phase_b)}).",
        )
    if decreasing:
        return [-value for value in phase_a], [-value for value in phase_b]
    return phase_a, phase_b


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def pnd(a: Sequence[float], b: Sequence[float], *, decreasing: bool = False) -> float:
    """Percentage of non-overlapping data, as a proportion: the share of phase B values
    above the highest phase A value (below the lowest one when decreasing).

    As scan's pnd(): a B value equal to the A extreme overlaps (does not count); the
    denominator is the number of B values.
    """
    phase_a, phase_b = _phases(a, b, decreasing)
    best_a = max(phase_a)
    return sum(value > best_a for value in phase_b) / len(phase_b)


def pem(a: Sequence[float], b: Sequence[float], *, decreasing: bool = False) -> float:
    """Percentage of phase B values exceeding the phase A median (Ma, 2006), as a
    proportion; below the median when decreasing.

    As scan's pem(): the median is R's (mean of the two middle values for an even count)
    and a B value equal to the median does not count. (SingleCaseES counts such ties as
    half; scan does not.) The denominator is the number of B values.
    """
    phase_a, phase_b = _phases(a, b, decreasing)
    median_a = statistics.median(phase_a)
    return sum(value > median_a for value in phase_b) / len(phase_b)


def nap(a: Sequence[float], b: Sequence[float], *, decreasing: bool = False) -> float:
    """Nonoverlap of all pairs (Parker & Vannest, 2009), as a proportion: of all
    nA · nB pairs (one A value, one B value) the share where B improves on A, a tied pair
    counting one half (as scan's nap() and SingleCaseES). Equals the Mann-Whitney U of
    B against A divided by nA · nB.
    """
    phase_a, phase_b = _phases(a, b, decreasing)
    better = sum(vb > va for va in phase_a for vb in phase_b)
    ties = sum(vb == va for va in phase_a for vb in phase_b)
    return (better + 0.5 * ties) / (len(phase_a) * len(phase_b))


@dataclass(frozen=True)
class TauU:
    tau: float  # s / pairs
    s: int  # Kendall's S: improving minus worsening pairs
    pairs: int  # the denominator
    z: float
    p: float  # two-sided, normal approximation


def tau_u(
    a: Sequence[float],
    b: Sequence[float],
    *,
    decreasing: bool = False,
    baseline_trend: bool = False,
) -> TauU:
    """Tau-U (Parker, Vannest, Davis & Sauber, 2011) as scan's tau_u() computes it with
    tau_method = "a" and method = "complete" (no continuity correction).

    A vs. B (baseline_trend=False): S = pairs where B improves on A − pairs where B is
    worse (ties count 0); pairs = nA · nB; tau = S / pairs, which equals 2 · NAP − 1.

    A vs. B − Trend A (baseline_trend=True, scan's row "A vs. B - Trend A"): Kendall's S
    of phase A against time (later minus earlier, over the nA(nA − 1)/2 pairs of A in
    their given order) is subtracted: S = S(A vs. B) − S(trend A). The denominator is
    scan's "complete" one, pairs = nA · nB + nA(nA − 1)/2, so tau stays within [−1, 1].
    (Parker et al. 2011 and SingleCaseES's Tau_U divide the same S by nA · nB; that value
    is s / (nA · nB) and can leave [−1, 1].)

    z and p follow scan's kendall_tau() for tau-a, for both rows: z = 3S /
    √(N(N − 1)(2N + 5) / 2), i.e. S over the square root of Kendall's no-ties variance
    N(N − 1)(2N + 5)/18 with N = nA + nB, and p = 2 · P(Z > |z|). (Older scan releases
    used 2√(nA · nB · (N + 1)/12), the Mann-Whitney standard deviation, for the A vs. B
    row; the current one does not.)

    scan's tau_u() has no direction argument; decreasing=True mirrors the data as the
    other overlap functions do. scan returns NA when a phase has fewer than 2 values;
    here any non-empty phases are computed (one A value has no trend: S(trend A) = 0).
    """
    phase_a, phase_b = _phases(a, b, decreasing)
    n_a, n_b = len(phase_a), len(phase_b)
    s = sum(_sign(vb - va) for va in phase_a for vb in phase_b)
    pairs = n_a * n_b
    if baseline_trend:
        s -= sum(
            _sign(phase_a[later] - phase_a[earlier])
            for earlier in range(n_a)
            for later in range(earlier + 1, n_a)
        )
        pairs += n_a * (n_a - 1) // 2
    n = n_a + n_b
    z = s / math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    return TauU(tau=s / pairs, s=s, pairs=pairs, z=z, p=math.erfc(abs(z) / math.sqrt(2)))


# Reliable change ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReliableChange:
    se_measurement: float  # SD · √(1 − r)
    s_diff: float  # √(2 · SE²)
    rci: float  # (post − pre) / s_diff
    is_reliable: bool  # |rci| > 1.96
    is_improvement: bool  # reliable and in the better direction


def reliable_change_index(
    pre: float, post: float, *, reliability: float, sd: float, decreasing: bool = False
) -> ReliableChange:
    """Jacobson & Truax (1991): SE = SD · √(1 − r), S_diff = √(2 · SE²),
    RC = (post − pre) / S_diff; |RC| > 1.96 is change unlikely (p < .05) to come from
    measurement error alone. `reliability` is the instrument's r (test–retest or alpha),
    `sd` a reference standard deviation of the score. With decreasing=True (anxiety) a
    reliable fall is the improvement.
    """
    pre_value, post_value = _checked([pre, post], "The pre and post scores")
    if not 0.0 < reliability < 1.0:
        raise StatisticsError(
            "bad_reliability", f"The reliability must lie between 0 and 1; it is {reliability}."
        )
    if not sd > 0.0:
        raise StatisticsError("bad_sd", f"The standard deviation must be positive; it is {sd}.")
    se_measurement = sd * math.sqrt(1.0 - reliability)
    s_diff = math.sqrt(2.0 * se_measurement**2)
    rci = (post_value - pre_value) / s_diff
    is_reliable = abs(rci) > 1.96
    better = rci < 0 if decreasing else rci > 0
    return ReliableChange(
        se_measurement=se_measurement,
        s_diff=s_diff,
        rci=rci,
        is_reliable=is_reliable,
        is_improvement=is_reliable and better,
    )

"""analytics.stats.simple_regression against NIST's certified values, statsmodels OLS and
Anscombe's published figures, and every error it raises."""

import csv
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as scipy_stats

from analytics.stats import Regression, StatisticsError, simple_regression

DATA = Path(__file__).resolve().parent.parent / "data"


def read_norris() -> tuple[list[float], list[float]]:
    """tests/data/nist_norris.csv: a source comment line, a header, then x,y rows."""
    with (DATA / "nist_norris.csv").open(newline="") as handle:
        rows = list(csv.DictReader(line for line in handle if not line.startswith("#")))
    return [float(row["x"]) for row in rows], [float(row["y"]) for row in rows]


# NIST Statistical Reference Datasets, Linear Least Squares Regression, "Norris"
# (https://www.itl.nist.gov/div898/strd/lls/data/Norris.shtml), certified values.
NORRIS_CERTIFIED = {
    "intercept": -0.262323073774029,
    "intercept_se": 0.232818234301152,
    "slope": 1.00211681802045,
    "slope_se": 0.429796848199937e-03,
    "std_error_estimate": 0.884796396144373,
    "r_squared": 0.999993745883712,
    "ss_regression": 4255954.13232369,
    "ms_regression": 4255954.13232369,
    "f": 5436385.54079785,
    "ss_residual": 26.6173985294224,
    "ms_residual": 0.782864662630069,
}


@pytest.mark.parametrize("name", sorted(NORRIS_CERTIFIED))
def test_norris_matches_the_nist_certified_values(name):
    x, y = read_norris()
    result = simple_regression(x, y)
    assert getattr(result, name) == pytest.approx(NORRIS_CERTIFIED[name], rel=1e-9)


def test_norris_degrees_of_freedom_are_the_certified_1_and_34():
    x, y = read_norris()
    result = simple_regression(x, y)
    assert (result.n, result.df_regression, result.df_residual) == (36, 1, 34)


# Data sets for the comparison with statsmodels -------------------------------------------


def case_shaped(seed: int, n: int) -> tuple[list[int], list[int]]:
    """Like a counselling client: n sessions, integer WAI-SR totals 12–60 (often high) and
    AMAS totals 9–45 that fall as the alliance grows, plus noise."""
    rng = np.random.default_rng(seed)
    alliance = np.clip(rng.integers(30, 66, size=n), 12, 60)  # clipping piles up at 60
    anxiety = np.clip(np.rint(62 - 0.7 * alliance + rng.normal(0, 4, size=n)), 9, 45)
    assert len(set(alliance)) > 1 and len(set(anxiety)) > 1, "pick another seed"
    return alliance.astype(int).tolist(), anxiety.astype(int).tolist()


def continuous(seed: int, n: int, slope: float, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    x = offset + rng.normal(0, 3, size=n)
    y = 5 + slope * (x - offset) + rng.normal(0, 2, size=n)
    return x.tolist(), y.tolist()


DATA_SETS = {
    "case-5-sessions": case_shaped(seed=11, n=5),
    "case-8-sessions": case_shaped(seed=2024, n=8),
    "case-12-sessions": case_shaped(seed=7, n=12),
    "case-12-sessions-b": case_shaped(seed=123, n=12),
    "ceiling-alliance": (
        [60, 60, 58, 60, 55, 60, 52, 60, 57],
        [20, 18, 24, 17, 27, 19, 30, 16, 22],
    ),
    "continuous-30-negative": continuous(seed=1, n=30, slope=-1.3),
    "continuous-50-weak": continuous(seed=99, n=50, slope=0.05),
    "large-offset": continuous(seed=5, n=20, slope=0.8, offset=1e5),
}


def statsmodels_reference(x, y) -> dict:
    fit = sm.OLS(np.asarray(y, dtype=float), sm.add_constant(np.asarray(x, dtype=float))).fit()
    sd_x, sd_y = np.std(x, ddof=1), np.std(y, ddof=1)
    return {
        "r": math.sqrt(fit.rsquared),
        "r_squared": fit.rsquared,
        "adj_r_squared": fit.rsquared_adj,
        "std_error_estimate": math.sqrt(fit.mse_resid),
        "ss_regression": fit.ess,
        "ss_residual": fit.ssr,
        "ss_total": fit.centered_tss,
        "ms_regression": fit.mse_model,
        "ms_residual": fit.mse_resid,
        "f": fit.fvalue,
        "f_p": fit.f_pvalue,
        "intercept": fit.params[0],
        "intercept_se": fit.bse[0],
        "intercept_t": fit.tvalues[0],
        "intercept_p": fit.pvalues[0],
        "slope": fit.params[1],
        "slope_se": fit.bse[1],
        "slope_t": fit.tvalues[1],
        "slope_p": fit.pvalues[1],
        "beta": fit.params[1] * sd_x / sd_y,
        "df_regression": fit.df_model,
        "df_residual": fit.df_resid,
        "n": fit.nobs,
    }


ATTRIBUTES = sorted(statsmodels_reference(*DATA_SETS["case-5-sessions"]))


def test_every_regression_attribute_is_compared():
    assert set(ATTRIBUTES) == set(Regression.__dataclass_fields__)


@pytest.mark.parametrize("name", ATTRIBUTES)
@pytest.mark.parametrize("data_set", sorted(DATA_SETS))
def test_regression_matches_statsmodels(data_set, name):
    x, y = DATA_SETS[data_set]
    ours = getattr(simple_regression(x, y), name)
    expected = statsmodels_reference(x, y)[name]
    assert ours == pytest.approx(expected, rel=1e-7)


@pytest.mark.parametrize("data_set", sorted(DATA_SETS))
def test_counts_are_integers(data_set):
    result = simple_regression(*DATA_SETS[data_set])
    for value in (result.n, result.df_regression, result.df_residual):
        assert type(value) is int


def test_r_is_never_negative_and_beta_carries_the_sign():
    x, y = DATA_SETS["continuous-30-negative"]
    result = simple_regression(x, y)
    pearson = scipy_stats.pearsonr(x, y).statistic
    assert pearson < 0
    assert result.r == pytest.approx(abs(pearson), rel=1e-12)
    assert result.beta == pytest.approx(pearson, rel=1e-12)  # one predictor: Beta = r
    assert result.slope < 0 and result.slope_t < 0


def test_anscombe_set_one_gives_the_published_line():
    # Anscombe (1973), "Graphs in statistical analysis", set I: mean x 9, variance x 11,
    # mean y 7.50, r 0.816, y = 3.00 + 0.500 x, R² 0.67 (published to these digits).
    x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
    y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]
    result = simple_regression(x, y)
    assert result.intercept == pytest.approx(3.00, abs=0.005)
    assert result.slope == pytest.approx(0.500, abs=0.0005)
    assert result.r == pytest.approx(0.816, abs=0.0005)
    assert result.r_squared == pytest.approx(0.67, abs=0.005)
    assert result.n == 11


# A perfect fit ------------------------------------------------------------------------------


def regression_without_warnings(x, y) -> Regression:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a division by zero inside numpy/scipy would fail
        return simple_regression(x, y)


def test_perfect_fit_gives_infinite_t_and_f_and_zero_p():
    result = regression_without_warnings([1, 2, 3, 4], [3, 5, 7, 9])  # y = 1 + 2x exactly
    assert (result.slope, result.intercept) == (2.0, 1.0)
    assert result.r == 1.0 and result.r_squared == 1.0 and result.adj_r_squared == 1.0
    assert result.ss_residual == 0.0 and result.std_error_estimate == 0.0
    assert result.f == math.inf and result.f_p == 0.0
    assert result.slope_t == math.inf and result.slope_p == 0.0
    assert result.intercept_t == math.inf and result.intercept_p == 0.0


def test_perfect_falling_line_has_minus_infinite_t_and_r_one():
    result = regression_without_warnings([12, 20, 35, 60], [40, 32, 17, -8])  # y = 52 − x
    assert result.r == 1.0 and result.beta == -1.0
    assert result.slope_t == -math.inf and result.slope_p == 0.0
    assert result.f == math.inf and result.f_p == 0.0


def test_line_with_rounding_noise_counts_as_perfect():
    x = [10, 13, 16, 19, 22]
    y = [0.3 + 0.1 * value for value in x]  # 1.3, 1.6, … not exact in binary
    result = regression_without_warnings(x, y)
    assert result.ss_residual == 0.0
    assert result.f == math.inf and result.slope_t == math.inf


def test_perfect_fit_through_the_origin_has_no_t_for_a_zero_intercept():
    # y = 3x: the intercept is exactly 0 with a standard error of exactly 0, so t = 0/0.
    result = regression_without_warnings([1, 2, 3], [3, 6, 9])
    assert result.intercept == 0.0 and result.intercept_se == 0.0
    assert math.isnan(result.intercept_t) and math.isnan(result.intercept_p)
    assert result.slope_t == math.inf


# Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "y", "code"),
    [
        ([], [], "too_few"),
        ([40], [20], "too_few"),
        ([40, 50], [20, 15], "too_few"),
        ([60, 60, 60, 60], [20, 18, 25, 22], "constant_x"),
        ([60, 60, 60], [20, 20, 20], "constant_x"),
        ([40, 50, 60], [20, 20, 20], "constant_y"),
        ([40, None, 60], [20, 18, 15], "missing"),
        ([40, 50, 60], [20, float("nan"), 15], "missing"),
        ([40, 50, 60], [20, float("inf"), 15], "missing"),
        ([40, 50, 60], [20, 18], "length_mismatch"),
        ([40, 50], [20, 18, 15], "length_mismatch"),
    ],
)
def test_bad_data_raises_a_statistics_error_with_its_code(x, y, code):
    with pytest.raises(StatisticsError) as caught:
        simple_regression(x, y)
    assert caught.value.code == code
    assert isinstance(caught.value, ValueError)


def test_constant_anxiety_is_explained_in_words():
    with pytest.raises(StatisticsError, match="never changed"):
        simple_regression([40, 50, 60, 55], [22, 22, 22, 22])


def test_missing_value_message_says_where():
    with pytest.raises(StatisticsError, match="position 2"):
        simple_regression([40, 50, 60], [20, None, 15])

"""analytics.stats checked against an independent computation with numpy/scipy and
against published values (Anscombe's quartet, set I)."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analytics.stats import (
    alpha_if_deleted,
    corrected_item_total,
    cronbach_alpha,
    mean,
    pearson_r,
    sample_variance,
)

TOLERANCE = {"rel": 1e-12, "abs": 1e-12}

# A fixed, hand-written 6 respondents × 4 items matrix on a 1–5 scale.
FIXED_6_BY_4 = [
    [4, 5, 4, 3],
    [2, 3, 2, 2],
    [5, 5, 4, 5],
    [3, 2, 3, 3],
    [1, 2, 2, 1],
    [4, 4, 5, 4],
]


def factor_matrix(seed: int, respondents: int, items: int) -> list[list[int]]:
    """Integer answers 1–5 driven by one common factor plus item noise, so the items
    correlate and alpha is positive."""
    rng = np.random.default_rng(seed)
    factor = rng.normal(size=(respondents, 1))
    noise = rng.normal(size=(respondents, items))
    answers = np.clip(np.rint(3 + 1.2 * factor + 0.9 * noise), 1, 5).astype(int)
    return answers.tolist()


DATA_SETS = {
    "fixed-6x4": FIXED_6_BY_4,
    "random-30x12": factor_matrix(seed=20240501, respondents=30, items=12),
    "random-40x9": factor_matrix(seed=7, respondents=40, items=9),
}


def numpy_alpha(rows) -> float:
    """Alpha from the item covariance matrix: k/(k−1) · (1 − trace(C) / sum(C))."""
    covariance = np.cov(np.asarray(rows, dtype=float), rowvar=False)  # ddof = 1
    k = covariance.shape[0]
    return k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())


def scipy_corrected_item_total(rows, columns=None) -> list[float]:
    """Each item's Pearson r with the sum of the other items (the rest score)."""
    data = np.asarray(rows, dtype=float)
    totals = data.sum(axis=1)
    if columns is None:
        columns = range(data.shape[1])
    return [scipy_stats.pearsonr(data[:, j], totals - data[:, j]).statistic for j in columns]


def numpy_alpha_if_deleted(rows) -> list[float]:
    data = np.asarray(rows, dtype=float)
    return [numpy_alpha(np.delete(data, j, axis=1)) for j in range(data.shape[1])]


@pytest.fixture(params=list(DATA_SETS), ids=list(DATA_SETS))
def rows(request):
    return DATA_SETS[request.param]


def test_data_sets_have_varying_items_and_positive_alpha(rows):
    # Guard for the data: every item varies and the common factor makes alpha positive.
    data = np.asarray(rows)
    assert data.min() >= 1
    assert data.max() <= 5
    assert all(np.var(data[:, j]) > 0 for j in range(data.shape[1]))
    assert numpy_alpha(rows) > 0.5


def test_cronbach_alpha_matches_the_covariance_matrix_formula(rows):
    assert cronbach_alpha(rows) == pytest.approx(numpy_alpha(rows), **TOLERANCE)


def test_corrected_item_total_matches_scipy_pearsonr_with_the_rest_score(rows):
    expected = scipy_corrected_item_total(rows)

    assert corrected_item_total(rows) == pytest.approx(expected, **TOLERANCE)


def test_alpha_if_deleted_matches_numpy_alpha_of_remaining_columns(rows):
    expected = numpy_alpha_if_deleted(rows)

    assert alpha_if_deleted(rows) == pytest.approx(expected, **TOLERANCE)


def test_functions_accept_tuples_and_floats(rows):
    as_tuples = tuple(tuple(float(value) for value in row) for row in rows)

    assert cronbach_alpha(as_tuples) == pytest.approx(numpy_alpha(rows), **TOLERANCE)


def test_two_perfectly_correlated_items_with_equal_variance_give_alpha_exactly_one():
    # By hand: item variances 1 and 1; totals 3, 5, 7 have variance 4;
    # alpha = 2/(2−1) · (1 − 2/4) = 1.
    rows = [[1, 2], [2, 3], [3, 4]]

    assert cronbach_alpha(rows) == 1.0
    assert corrected_item_total(rows) == pytest.approx([1.0, 1.0], **TOLERANCE)
    # Leaving one of two items out leaves a single item: alpha is undefined.
    assert alpha_if_deleted(rows) == [None, None]


def test_sample_variance_divides_by_n_minus_one():
    values = [2, 4, 4, 4, 5, 5, 7, 9]

    # Sum of squared deviations from the mean 5 is 32; 32 / 7.
    assert sample_variance(values) == pytest.approx(32 / 7, **TOLERANCE)
    assert sample_variance(values) == pytest.approx(np.var(values, ddof=1), **TOLERANCE)


# --- Pearson's r --------------------------------------------------------------------

ANSCOMBE_I_X = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5]
ANSCOMBE_I_Y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68]


def test_anscombe_set_one_has_the_published_summary_statistics():
    assert mean(ANSCOMBE_I_X) == 9
    assert sample_variance(ANSCOMBE_I_X) == 11
    assert round(mean(ANSCOMBE_I_Y), 2) == 7.50
    assert round(pearson_r(ANSCOMBE_I_X, ANSCOMBE_I_Y), 3) == 0.816


def test_pearson_r_matches_scipy_on_anscombe_set_one():
    expected = scipy_stats.pearsonr(ANSCOMBE_I_X, ANSCOMBE_I_Y).statistic

    assert pearson_r(ANSCOMBE_I_X, ANSCOMBE_I_Y) == pytest.approx(expected, **TOLERANCE)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pearson_r_matches_scipy_on_random_data(seed):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=50)
    ys = 0.5 * xs + rng.normal(size=50)
    expected = scipy_stats.pearsonr(xs, ys).statistic

    assert pearson_r(xs.tolist(), ys.tolist()) == pytest.approx(expected, **TOLERANCE)


def test_pearson_r_of_exactly_linear_data_is_plus_or_minus_one():
    xs = [1, 2, 3, 4, 5]

    assert pearson_r(xs, [2 * x + 1 for x in xs]) == pytest.approx(1.0, **TOLERANCE)
    assert pearson_r(xs, [10 - x for x in xs]) == pytest.approx(-1.0, **TOLERANCE)


def test_pearson_r_is_none_when_a_variable_does_not_vary():
    assert pearson_r([3, 3, 3, 3], [1, 2, 3, 4]) is None
    assert pearson_r([1, 2, 3, 4], [2, 2, 2, 2]) is None


def test_pearson_r_refuses_lists_of_different_lengths():
    with pytest.raises(ValueError):
        pearson_r([1, 2, 3], [1, 2])


def test_pearson_r_is_none_for_a_constant_non_integer_variable():
    assert pearson_r([0.1, 0.1, 0.1], [1, 2, 3]) is None


# --- Undefined cases ----------------------------------------------------------------


@pytest.mark.parametrize(
    "rows",
    [
        [],  # no respondents
        [[1, 2, 3]],  # one respondent
        [[1], [2], [3], [4]],  # one item
        [[1, 5], [5, 1], [3, 3]],  # items vary but every total is 6
        [[3, 3, 3], [3, 3, 3]],  # nothing varies
    ],
    ids=["no-rows", "one-row", "one-item", "constant-totals", "all-constant"],
)
def test_cronbach_alpha_is_none_when_undefined(rows):
    assert cronbach_alpha(rows) is None


def test_corrected_item_total_is_none_for_every_item_with_fewer_than_two_rows():
    assert corrected_item_total([[1, 2, 3]]) == [None, None, None]
    assert corrected_item_total([]) == []


def test_corrected_item_total_is_none_for_a_single_item():
    assert corrected_item_total([[1], [2], [3]]) == [None]


def test_item_that_does_not_vary_has_no_item_total_correlation():
    rows = [[3, 1, 2], [3, 2, 3], [3, 4, 4], [3, 5, 4], [3, 3, 5]]

    result = corrected_item_total(rows)

    assert result[0] is None
    # The other items are still correlated with their rest scores, as scipy says.
    assert result[1:] == pytest.approx(
        scipy_corrected_item_total(rows, columns=[1, 2]), **TOLERANCE
    )


def test_alpha_if_deleted_is_empty_without_rows_and_none_with_one_row():
    assert alpha_if_deleted([]) == []
    assert alpha_if_deleted([[1, 2, 3]]) == [None, None, None]

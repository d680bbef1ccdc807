"""Pure statistics: plain Python numbers in, numbers out, no database.

Every function here is tested against an independent computation (numpy/scipy) and
published values; see tests/analytics/.
"""

import math
from collections.abc import Sequence

Matrix = Sequence[Sequence[float]]  # one row per respondent, one column per item


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

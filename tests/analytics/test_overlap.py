"""Single-case statistics in analytics.stats: overlap between two phases (PND, PEM, NAP,
Tau-U) and the Jacobson–Truax reliable change index, checked against published worked
examples, scipy, and hand computations written out below."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analytics.stats import (
    ReliableChange,
    StatisticsError,
    TauU,
    nap,
    pem,
    pnd,
    reliable_change_index,
    tau_u,
)

# Parker, Vannest & Davis (2011), "Effect size in single-case research: a review of nine
# nonoverlap techniques", Behavior Modification 35(4), worked example 1. Its published
# answers are encoded in SingleCaseES's tests/testthat/test-parker-vannest-davis-2011.R
# (PND 5/7, PEM 7/7, NAP 38.5/42, Tau (38 − 3)/42); NAP = 0.9166667 is also printed in
# the SingleCaseES documentation for NAP().
PARKER_A = [20, 20, 26, 25, 22, 23]
PARKER_B = [28, 25, 24, 27, 30, 30, 29]


def mirrored(values, around=50):
    return [around - value for value in values]


def test_parker_example_one_gives_the_published_values():
    assert nap(PARKER_A, PARKER_B) == pytest.approx(0.9166667, abs=5e-8)
    assert nap(PARKER_A, PARKER_B) == pytest.approx(38.5 / 42, rel=1e-15)
    assert pnd(PARKER_A, PARKER_B) == pytest.approx(5 / 7, rel=1e-15)
    assert pem(PARKER_A, PARKER_B) == 1.0
    result = tau_u(PARKER_A, PARKER_B)
    assert (result.s, result.pairs) == (35, 42)
    assert result.tau == pytest.approx((38 - 3) / 42, rel=1e-15)


@pytest.mark.parametrize("mirror", [mirrored, lambda values: [-value for value in values]])
def test_mirrored_data_with_decreasing_gives_the_same_values(mirror):
    a, b = mirror(PARKER_A), mirror(PARKER_B)
    assert nap(a, b, decreasing=True) == nap(PARKER_A, PARKER_B)
    assert pnd(a, b, decreasing=True) == pnd(PARKER_A, PARKER_B)
    assert pem(a, b, decreasing=True) == pem(PARKER_A, PARKER_B)
    for trend in (False, True):
        assert tau_u(a, b, decreasing=True, baseline_trend=trend) == tau_u(
            PARKER_A, PARKER_B, baseline_trend=trend
        )


def test_mirrored_data_without_decreasing_reads_as_getting_worse():
    a, b = mirrored(PARKER_A), mirrored(PARKER_B)
    assert nap(a, b) == pytest.approx(1 - 38.5 / 42)
    assert pnd(a, b) == 0.0
    assert tau_u(a, b).s == -35


def test_tau_u_with_baseline_trend_matches_the_singlecasees_documentation():
    # SingleCaseES reference page for Tau_U (jepusto.github.io/SingleCaseES/reference/
    # Tau_U.html) prints Tau_U(A, B) = 0.7380952 for this data: Parker et al.'s Tau-U,
    # (S(A vs. B) − S(trend A)) / (nA · nB). We keep S and use scan's "complete" pairs.
    result = tau_u(PARKER_A, PARKER_B, baseline_trend=True)
    assert result.s / (len(PARKER_A) * len(PARKER_B)) == pytest.approx(0.7380952, abs=5e-8)
    assert result.pairs == 6 * 7 + 6 * 5 // 2
    assert result.tau == pytest.approx(result.s / 57, rel=1e-15)


def test_tau_u_parker_example_two():
    # Parker, Vannest & Davis (2011), example 2, as encoded in SingleCaseES's
    # test-parker-vannest-davis-2011.R: Tau = 16/20 and Tau-U = 11/20.
    # By hand: A vs. B pairs: 3 < all five B (twice) = 10 up; 4: ties 4, below 5,6,7,7 =
    # 4 up 1 tie; 5: above 4, ties 5, below 6,7,7 = 3 up 1 down 1 tie → S = 17 − 1 = 16.
    # Trend A (3, 3, 4, 5): 3–3 tie, then five rising pairs → S = 5; 16 − 5 = 11.
    a, b = [3, 3, 4, 5], [4, 5, 6, 7, 7]
    plain = tau_u(a, b)
    assert (plain.s, plain.pairs, plain.tau) == (16, 20, 16 / 20)
    trend = tau_u(a, b, baseline_trend=True)
    assert trend.s == 11
    assert trend.s / 20 == 11 / 20  # the published Tau-U (Parker's denominator)
    assert trend.pairs == 20 + 6 and trend.tau == pytest.approx(11 / 26, rel=1e-15)


def test_tau_u_tarlow_example():
    # SingleCaseES test-tarlow-2017.R (Tarlow, 2017): A = 1..5, B = 6..10 gives Tau = 1
    # and Tau-U = 0.6: S = 25 − 10 (A rises in all 10 of its pairs) over 25 pairs.
    a, b = [1, 2, 3, 4, 5], [6, 7, 8, 9, 10]
    assert tau_u(a, b).tau == 1.0
    trend = tau_u(a, b, baseline_trend=True)
    assert trend.s == 15 and trend.s / 25 == 0.6
    assert trend.pairs == 35


def test_tau_u_z_and_p_for_the_example_in_the_scan_documentation():
    # scan's tau_u() documentation replicates Parker et al. (2011) with
    # A = 2, 3, 5, 3 and B = 4, 5, 5, 7, 6. By hand: A vs. B: 2 and both 3s lie below all
    # five B values (15 up); 5 lies above 4, ties 5 and 5, below 7 and 6 (2 up, 1 down)
    # → S = 17 − 1 = 16 over 20 pairs. Trend A: 2<3, 2<5, 2<3, 3<5 up, 3=3 tie, 5>3 down
    # → S = 3; 16 − 3 = 13 over 20 + 6 pairs. Kendall's variance without ties for
    # N = 9: 9 · 8 · 23 / 18 = 92, so z = S / √92 and p = 2 · P(Z > |z|).
    a, b = [2, 3, 5, 3], [4, 5, 5, 7, 6]
    plain = tau_u(a, b)
    assert (plain.s, plain.pairs) == (16, 20)
    assert plain.z == pytest.approx(16 / math.sqrt(92), rel=1e-12)
    assert plain.p == pytest.approx(2 * scipy_stats.norm.sf(16 / math.sqrt(92)), rel=1e-9)
    trend = tau_u(a, b, baseline_trend=True)
    assert (trend.s, trend.pairs) == (13, 26)
    assert trend.tau == pytest.approx(0.5, rel=1e-15)
    assert trend.z == pytest.approx(13 / math.sqrt(92), rel=1e-12)
    assert trend.p == pytest.approx(2 * scipy_stats.norm.sf(13 / math.sqrt(92)), rel=1e-9)


# Against independent computations on random phases -------------------------------------


def random_phases(seed: int) -> tuple[list[int], list[int]]:
    """Integer scores with ties, like three weekly AMAS totals and some sessions."""
    rng = np.random.default_rng(seed)
    n_a, n_b = int(rng.integers(3, 8)), int(rng.integers(3, 13))
    a = rng.integers(15, 30, size=n_a).tolist()
    b = rng.integers(10, 28, size=n_b).tolist()
    return a, b


SEEDS = [1, 2, 3, 17, 42, 2024, 31337]


@pytest.mark.parametrize("decreasing", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_nap_is_mann_whitney_u_over_all_pairs(seed, decreasing):
    a, b = random_phases(seed)
    better, worse = (a, b) if decreasing else (b, a)
    u = scipy_stats.mannwhitneyu(better, worse).statistic  # ties count one half
    assert nap(a, b, decreasing=decreasing) == pytest.approx(u / (len(a) * len(b)), rel=1e-12)


@pytest.mark.parametrize("decreasing", [False, True])
@pytest.mark.parametrize("seed", SEEDS)
def test_tau_a_vs_b_is_two_nap_minus_one(seed, decreasing):
    a, b = random_phases(seed)
    result = tau_u(a, b, decreasing=decreasing)
    assert result.tau == pytest.approx(2 * nap(a, b, decreasing=decreasing) - 1, abs=1e-12)
    assert result.pairs == len(a) * len(b)


def kendall_s_by_scipy(values: list[int]) -> int:
    """Kendall's S of the values against time from scipy's tau-b:
    tau_b = S / √((n0 − ties in time) · (n0 − ties in values)); time has no ties."""
    n0 = len(values) * (len(values) - 1) // 2
    tied = sum(count * (count - 1) // 2 for count in np.unique(values, return_counts=True)[1])
    tau_b = scipy_stats.kendalltau(range(len(values)), values).statistic
    return round(tau_b * math.sqrt(n0 * (n0 - tied)))


def kendall_s_by_counting(values: list[int]) -> int:
    """Kendall's S as a plain count of later-higher minus later-lower pairs."""
    ups = sum(1 for first, second in itertools.combinations(values, 2) if second > first)
    downs = sum(1 for first, second in itertools.combinations(values, 2) if second < first)
    return ups - downs


@pytest.mark.parametrize("seed", SEEDS)
def test_baseline_trend_subtracts_kendall_s_within_a(seed):
    a, b = random_phases(seed)
    assert len(set(a)) > 1  # scipy's tau is undefined for a constant phase
    s_trend = kendall_s_by_scipy(a)
    assert s_trend == kendall_s_by_counting(a)
    plain = tau_u(a, b)
    trend = tau_u(a, b, baseline_trend=True)
    assert trend.s == plain.s - s_trend
    n_a, n_b = len(a), len(b)
    assert trend.pairs == n_a * n_b + n_a * (n_a - 1) // 2
    assert trend.tau == pytest.approx(trend.s / trend.pairs, rel=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_decreasing_flips_the_sign_of_s_for_both_tau_rows(seed):
    a, b = random_phases(seed)
    for trend in (False, True):
        up = tau_u(a, b, baseline_trend=trend)
        down = tau_u(a, b, decreasing=True, baseline_trend=trend)
        assert (down.s, down.pairs, down.z) == (-up.s, up.pairs, -up.z)
        assert down.p == up.p


@pytest.mark.parametrize("seed", SEEDS)
def test_tau_u_z_and_p_use_kendalls_variance_for_all_n_values(seed):
    a, b = random_phases(seed)
    n = len(a) + len(b)
    variance = n * (n - 1) * (2 * n + 5) / 18
    for trend in (False, True):
        result = tau_u(a, b, decreasing=True, baseline_trend=trend)
        assert result.z == pytest.approx(result.s / math.sqrt(variance), rel=1e-12, abs=1e-15)
        expected_p = 2 * scipy_stats.norm.sf(abs(result.s) / math.sqrt(variance))
        assert result.p == pytest.approx(expected_p, rel=1e-9)


# Hand-computed small cases ---------------------------------------------------------------


def test_pnd_counts_a_tie_with_the_baseline_extreme_as_overlap():
    # Highest A is 5. B: 5 (tie, overlaps), 6 (above), 4 (below), 7 (above) → 2 of 4.
    assert pnd([3, 5, 4], [5, 6, 4, 7]) == 0.5
    # Decreasing: lowest A is 3. B: 3 (tie), 2 (below), 1 (below), 4 → 2 of 4.
    assert pnd([3, 5, 4], [3, 2, 1, 4], decreasing=True) == 0.5


def test_pem_counts_a_tie_with_the_median_as_not_exceeding():
    # A = 1, 2, 3 has median 2. B: 2 (tie, not counted), 2 (tie), 3 (above), 1 → 1 of 4.
    # (SingleCaseES would count each tie as one half: (1 + 2 · 0.5) / 4 = 0.5.)
    assert pem([1, 2, 3], [2, 2, 3, 1]) == 0.25
    # An even number of A values: median of 1, 2, 3, 4 is 2.5; B 3 and 4 exceed → 2 of 3.
    assert pem([4, 1, 3, 2], [3, 2, 4]) == pytest.approx(2 / 3)
    # Decreasing: B values below the median 2.5 are 2 and 1 → 2 of 3.
    assert pem([4, 1, 3, 2], [2, 1, 3], decreasing=True) == pytest.approx(2 / 3)


def test_nap_counts_ties_as_one_half():
    # A = 2, 4; B = 4, 5. Pairs: (2,4) up, (2,5) up, (4,4) tie, (4,5) up → (3 + 0.5) / 4.
    assert nap([2, 4], [4, 5]) == 3.5 / 4
    # Decreasing: (2,4) worse, (2,5) worse, (4,4) tie, (4,5) worse → 0.5 / 4.
    assert nap([2, 4], [4, 5], decreasing=True) == 0.5 / 4


def test_a_single_baseline_value_has_no_trend():
    # One A value: no pairs within A, S(trend A) = 0; 7 < 8, 7 < 9, 7 = 7 → S = 2 of 3.
    plain = tau_u([7], [8, 9, 7])
    trend = tau_u([7], [8, 9, 7], baseline_trend=True)
    assert (plain.s, plain.pairs) == (2, 3)
    assert (trend.s, trend.pairs) == (2, 3)


def test_no_difference_gives_z_zero_and_p_one():
    result = tau_u([5, 5, 5], [5, 5])
    assert result == TauU(tau=0.0, s=0, pairs=6, z=0.0, p=1.0)


# Errors ----------------------------------------------------------------------------------

OVERLAP_FUNCTIONS = [pnd, pem, nap, tau_u]


@pytest.mark.parametrize("function", OVERLAP_FUNCTIONS)
@pytest.mark.parametrize(("a", "b"), [([], [20, 18]), ([22, 21], []), ([], [])])
def test_an_empty_phase_is_too_few(function, a, b):
    with pytest.raises(StatisticsError) as caught:
        function(a, b)
    assert caught.value.code == "too_few"


@pytest.mark.parametrize("function", OVERLAP_FUNCTIONS)
@pytest.mark.parametrize(("a", "b"), [([22, None], [20, 18]), ([22, 21], [float("nan"), 18])])
def test_a_missing_value_in_a_phase_is_missing(function, a, b):
    with pytest.raises(StatisticsError) as caught:
        function(a, b, decreasing=True)
    assert caught.value.code == "missing"


# Reliable change (Jacobson & Truax, 1991) -------------------------------------------------
# No worked example with numbers from Jacobson & Truax (1991) could be found in the
# sources searched, so the cases below are computed by hand from their formulas:
# SE = SD · √(1 − r), S_diff = √(2 · SE²), RC = (post − pre) / S_diff.


def test_reliable_fall_in_anxiety_is_an_improvement():
    # pre 30, post 20, r = .85, SD = 6:
    # SE = 6 · √0.15 = 6 · 0.3872983346 = 2.3237900077
    # S_diff = √(2 · 2.3237900077²) = √10.8 = 3.2863353450
    # RC = (20 − 30) / 3.2863353450 = −3.0429030972 → |RC| > 1.96: reliable.
    result = reliable_change_index(30, 20, reliability=0.85, sd=6, decreasing=True)
    assert result.se_measurement == pytest.approx(2.3237900077, abs=1e-9)
    assert result.s_diff == pytest.approx(math.sqrt(10.8), rel=1e-12)
    assert result.rci == pytest.approx(-3.0429030972, abs=1e-9)
    assert result == ReliableChange(
        se_measurement=result.se_measurement,
        s_diff=result.s_diff,
        rci=result.rci,
        is_reliable=True,
        is_improvement=True,
    )


def test_reliable_fall_is_a_deterioration_when_higher_is_better():
    result = reliable_change_index(30, 20, reliability=0.85, sd=6)  # e.g. alliance
    assert result.is_reliable and not result.is_improvement


def test_reliable_rise_is_an_improvement_when_higher_is_better():
    result = reliable_change_index(40, 52, reliability=0.85, sd=6)
    assert result.rci == pytest.approx(12 / math.sqrt(10.8), rel=1e-12)
    assert result.is_reliable and result.is_improvement


def test_small_change_is_not_reliable():
    # 30 → 24 with r = .85, SD = 6: RC = −6 / 3.2863353450 = −1.8257 → |RC| ≤ 1.96.
    result = reliable_change_index(30, 24, reliability=0.85, sd=6, decreasing=True)
    assert result.rci == pytest.approx(-1.8257418584, abs=1e-9)
    assert not result.is_reliable and not result.is_improvement


def test_just_over_the_threshold_is_reliable():
    # r = .5, SD = 10: SE = 10 · √0.5, S_diff = √(2 · 50) = 10; a change of 19.7 → 1.97.
    result = reliable_change_index(10, 29.7, reliability=0.5, sd=10)
    assert result.s_diff == pytest.approx(10.0, rel=1e-12)
    assert result.is_reliable
    assert not reliable_change_index(10, 29.5, reliability=0.5, sd=10).is_reliable  # 1.95


@pytest.mark.parametrize("reliability", [0.0, 1.0, -0.2, 1.5, float("nan")])
def test_reliability_outside_zero_to_one_is_refused(reliability):
    with pytest.raises(StatisticsError) as caught:
        reliable_change_index(30, 20, reliability=reliability, sd=6)
    assert caught.value.code == "bad_reliability"


@pytest.mark.parametrize("sd", [0.0, -3.0, float("nan")])
def test_non_positive_sd_is_refused(sd):
    with pytest.raises(StatisticsError) as caught:
        reliable_change_index(30, 20, reliability=0.85, sd=sd)
    assert caught.value.code == "bad_sd"


@pytest.mark.parametrize(("pre", "post"), [(None, 20), (30, float("nan"))])
def test_missing_score_is_refused(pre, post):
    with pytest.raises(StatisticsError) as caught:
        reliable_change_index(pre, post, reliability=0.85, sd=6)
    assert caught.value.code == "missing"

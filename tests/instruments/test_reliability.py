"""Reliability of the AMAS on collected responses: Cronbach's alpha of the whole scale and
of each subscale, and per item the mean, SD, corrected item–total correlation and alpha
if deleted, checked against an independent computation (numpy covariance matrix,
scipy.stats.pearsonr) and against values worked out by hand.

AMAS subscales: Learning = items 1, 3, 6, 7, 9; Evaluation = items 2, 4, 5, 8.
"""

import math

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from scipy import stats as scipy_stats

from instruments.reliability import reliability_report
from tests.factories import AdministrationFactory, ResponseFactory

pytestmark = pytest.mark.django_db

EXACT = {"abs": 1e-12}
WHOLE = list(range(1, 10))
LEARNING = [1, 3, 6, 7, 9]
EVALUATION = [2, 4, 5, 8]

# Eight respondents × nine AMAS items (item 1 … item 9), picked by hand: mostly rising
# together, with some disagreement so no correlation is perfect. Every column varies in
# the first five rows already.
MATRIX_8 = [
    [1, 2, 1, 2, 2, 1, 1, 2, 1],
    [2, 2, 2, 3, 2, 2, 1, 3, 2],
    [3, 4, 2, 4, 3, 3, 2, 4, 3],
    [4, 4, 3, 5, 4, 3, 4, 5, 4],
    [5, 5, 4, 5, 5, 4, 5, 5, 5],
    [2, 3, 3, 2, 3, 2, 2, 2, 1],
    [3, 3, 4, 4, 2, 3, 3, 3, 2],
    [4, 5, 5, 4, 4, 5, 4, 4, 3],
]


def respond(student, answers: list[int], instrument: str = "amas", **fields):
    administration = AdministrationFactory(student=student, instrument_code=instrument)
    return ResponseFactory(
        administration=administration,
        answers={str(number): value for number, value in enumerate(answers, 1)},
        **fields,
    )


def amas_report(counselor, whole_school: bool = False):
    reports = reliability_report(counselor=counselor, whole_school=whole_school)
    return next(report for report in reports if report.instrument.code == "amas")


# --- The independent computation -------------------------------------------------------


def numpy_alpha(matrix: np.ndarray) -> float:
    """alpha = k/(k−1) · (1 − trace(C) / sum(C)), C the items' covariance matrix."""
    covariance = np.cov(matrix, rowvar=False)
    k = matrix.shape[1]
    return k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())


def columns(rows: list[list[int]], numbers: list[int]) -> np.ndarray:
    return np.array([[row[number - 1] for number in numbers] for row in rows], dtype=float)


def assert_scale_matches_numpy(
    scale, rows: list[list[int]], numbers: list[int], *, with_means: bool = True
) -> None:
    matrix = columns(rows, numbers)
    assert [item.number for item in scale.items] == numbers
    assert scale.alpha == pytest.approx(numpy_alpha(matrix), **EXACT)
    totals = matrix.sum(axis=1)
    for index, item in enumerate(scale.items):
        column = matrix[:, index]
        rest = totals - column  # the other items of the same (sub)scale
        expected_r = scipy_stats.pearsonr(column, rest).statistic
        assert item.item_total == pytest.approx(expected_r, **EXACT), item.number
        if with_means:
            assert item.mean == pytest.approx(column.mean(), **EXACT), item.number
            assert item.sd == pytest.approx(column.std(ddof=1), **EXACT), item.number
        else:  # the whole school: means would give a new response away by subtraction
            assert (item.mean, item.sd) == (None, None)
        expected_alpha = numpy_alpha(np.delete(matrix, index, axis=1))
        assert item.alpha_if_deleted == pytest.approx(expected_alpha, **EXACT), item.number
        assert item.is_flagged == (expected_r < 0.30), item.number


def assert_report_matches_numpy(report, rows: list[list[int]], *, with_means: bool = True) -> None:
    assert report.responses == len(rows)
    assert report.has_enough
    whole, learning, evaluation = report.scales
    assert_scale_matches_numpy(whole, rows, WHOLE, with_means=with_means)
    assert_scale_matches_numpy(learning, rows, LEARNING, with_means=with_means)
    assert_scale_matches_numpy(evaluation, rows, EVALUATION, with_means=with_means)


# --- Tests -------------------------------------------------------------------------------


def test_alpha_and_item_statistics_match_numpy_and_scipy(student, counselor):
    for answers in MATRIX_8:
        respond(student, answers)
    report = amas_report(counselor)
    assert_report_matches_numpy(report, MATRIX_8)
    # Sanity of the data set itself: a coherent scale, as the numbers above promise.
    assert report.scales[0].alpha > 0.8


def test_alpha_of_a_small_data_set_equals_the_value_worked_out_by_hand(student, counselor):
    # The Evaluation subscale (items 2, 4, 5, 8) of five respondents:
    #
    #        item 2  item 4  item 5  item 8 | total
    #   R1      1       2       1       2   |   6
    #   R2      2       2       3       3   |  10
    #   R3      3       3       3       2   |  11
    #   R4      4       4       3       4   |  15
    #   R5      5       4       5       4   |  18
    #
    # Every item mean is 3. Squared deviations summed: item 2 4+1+0+1+4 = 10,
    # item 4 1+1+0+1+1 = 4, item 5 4+0+0+0+4 = 8, item 8 1+0+1+1+1 = 4; with n − 1 = 4
    # the variances are 2.5, 1, 2, 1 (sum 6.5). Totals: mean 60/5 = 12, deviations
    # −6, −2, −1, 3, 6, squares 36+4+1+9+36 = 86, variance 86/4 = 21.5.
    # alpha = 4/3 · (1 − 6.5/21.5) = 4/3 · 15/21.5 = 40/43.
    #
    # Item 2 against the sum of the other three (5, 8, 8, 11, 13; mean 9, deviations
    # −4, −1, −1, 2, 4): Sxy = 8+1+0+2+8 = 19, Sxx = 10, Syy = 16+1+1+4+16 = 38,
    # r = 19/√380 = √(19/20). Without item 2: item variances 1+2+1 = 4, variance of
    # the rest 38/4 = 9.5, alpha = 3/2 · (1 − 4/9.5) = 33/38. Item 2: mean 3, SD √2.5.
    evaluation = {
        "R1": (1, 2, 1, 2),
        "R2": (2, 2, 3, 3),
        "R3": (3, 3, 3, 2),
        "R4": (4, 4, 3, 4),
        "R5": (5, 4, 5, 4),
    }
    for position, (item2, item4, item5, item8) in enumerate(evaluation.values(), 1):
        learning = position  # items 1, 3, 6, 7, 9: any answers, they are not checked here
        respond(
            student,
            [learning, item2, learning, item4, item5, learning, learning, item8, learning],
        )
    report = amas_report(counselor)
    assert report.responses == 5
    scale = report.scales[2]
    assert [item.number for item in scale.items] == EVALUATION
    assert scale.alpha == pytest.approx(40 / 43, **EXACT)
    item2 = scale.items[0]
    assert item2.item_total == pytest.approx(math.sqrt(19 / 20), **EXACT)
    assert item2.alpha_if_deleted == pytest.approx(33 / 38, **EXACT)
    assert item2.mean == pytest.approx(3, **EXACT)
    assert item2.sd == pytest.approx(math.sqrt(2.5), **EXACT)


def test_an_item_unrelated_to_the_rest_is_flagged(student, counselor):
    # Items 1–8 all answer b = (1, 1, 2, 2, 4, 4, 5, 5); item 9 answers
    # c = (1, 5, 1, 5, 1, 5, 1, 5). Both have mean 3; deviations b: −2 −2 −1 −1 1 1 2 2
    # (sum of squares 20), c: −2 2 −2 2 −2 2 −2 2 (sum of squares 32). Their cross
    # product is 4 − 4 + 2 − 2 − 2 + 2 − 4 + 4 = 0: item 9 is uncorrelated with any sum
    # of the others (r = 0, flagged), and items 1–8 are not flagged.
    b = [1, 1, 2, 2, 4, 4, 5, 5]
    c = [1, 5, 1, 5, 1, 5, 1, 5]
    for answer_b, answer_c in zip(b, c, strict=True):
        respond(student, [answer_b] * 8 + [answer_c])
    whole, learning, evaluation = amas_report(counselor).scales

    # Whole scale: item 1 against 7b + c: r = 7·20 / √(20 · (49·20 + 32)) = 140/√20240.
    # Totals 8b + c deviate −18 −14 −10 −6 6 10 14 18 (squares sum 1312); item variances
    # sum (8·20 + 32)/7 = 192/7; alpha = 9/8 · (1 − 192/1312) = 315/328.
    # Without item 1 (7b + c, squares sum 1012; item variances 172/7):
    # alpha = 8/7 · (1 − 172/1012) = 240/253. Without item 9 eight equal items: alpha 1.
    assert [item.is_flagged for item in whole.items] == [False] * 8 + [True]
    assert whole.flagged_count == 1
    assert whole.items[8].item_total == pytest.approx(0, **EXACT)
    for item in whole.items[:8]:
        assert item.item_total == pytest.approx(140 / math.sqrt(20240), **EXACT)
        assert item.alpha_if_deleted == pytest.approx(240 / 253, **EXACT)
        assert item.mean == pytest.approx(3, **EXACT)
        assert item.sd == pytest.approx(math.sqrt(20 / 7), **EXACT)
    assert whole.items[8].alpha_if_deleted == pytest.approx(1, **EXACT)
    assert whole.items[8].sd == pytest.approx(math.sqrt(32 / 7), **EXACT)
    assert whole.alpha == pytest.approx(315 / 328, **EXACT)

    # Learning (1, 3, 6, 7 = b; 9 = c): item 1 against 3b + c, r = 60/√(20 · 212);
    # totals 4b + c deviate −10 −6 −6 −2 2 6 6 10 (squares 352), item variances
    # (4·20 + 32)/7 = 112/7, alpha = 5/4 · (1 − 112/352) = 75/88.
    assert [item.is_flagged for item in learning.items] == [False] * 4 + [True]
    assert learning.items[0].item_total == pytest.approx(60 / math.sqrt(4240), **EXACT)
    assert learning.items[4].item_total == pytest.approx(0, **EXACT)
    assert learning.alpha == pytest.approx(75 / 88, **EXACT)

    # Evaluation (2, 4, 5, 8 = b): four identical items, alpha 1 and every r 1.
    assert evaluation.flagged_count == 0
    assert evaluation.alpha == pytest.approx(1, **EXACT)
    assert [item.item_total for item in evaluation.items] == pytest.approx([1] * 4, **EXACT)


def test_voided_total_only_and_incomplete_responses_are_left_out(student, counselor):
    kept = MATRIX_8[:6]
    for answers in kept:
        respond(student, answers)
    # Each of these would change the numbers if it were counted.
    respond(
        student,
        [5, 1, 5, 1, 5, 1, 5, 1, 5],
        voided_at=timezone.now(),
        voided_by=counselor,
        void_reason="Dijawab oleh teman.",
    )
    ResponseFactory(
        administration=AdministrationFactory(student=student, instrument_code="amas"),
        answers={},
        total=30,
        band="high",
        subscale_scores={},
        is_imported=True,
    )
    respond(student, [5, 5, 5, 5, 5, 5, 5, 5])  # item 9 missing
    report = amas_report(counselor)
    assert_report_matches_numpy(report, kept)


@pytest.mark.parametrize(("complete", "enough"), [(4, False), (5, True)])
def test_alpha_needs_at_least_five_complete_responses(student, counselor, complete, enough):
    for answers in MATRIX_8[:complete]:
        respond(student, answers)
    # Neither counts towards the five.
    respond(student, MATRIX_8[6], voided_at=timezone.now(), void_reason="Salah siswa.")
    ResponseFactory(
        administration=AdministrationFactory(student=student, instrument_code="amas"),
        answers={},
        total=25,
        is_imported=True,
    )
    report = amas_report(counselor)
    assert report.responses == complete
    assert report.has_enough is enough
    if enough:
        assert_report_matches_numpy(report, MATRIX_8[:complete])
    else:
        assert report.scales == []


def test_no_responses_gives_a_report_without_scales(counselor):
    reports = reliability_report(counselor=counselor, whole_school=True)
    # Only scored instruments are reported (not the service evaluation).
    assert sorted(report.instrument.code for report in reports) == ["amas", "wai-sr"]
    assert all(report.responses == 0 and report.scales == [] for report in reports)


def test_each_instrument_counts_only_its_own_responses(student, counselor):
    for answers in MATRIX_8:
        respond(student, answers)
    for answers in MATRIX_8[:3]:
        respond(student, [*answers, 3, 3, 3], instrument="wai-sr")
    reports = {
        report.instrument.code: report
        for report in reliability_report(counselor=counselor, whole_school=False)
    }
    assert reports["amas"].responses == 8
    assert reports["wai-sr"].responses == 3
    assert not reports["wai-sr"].has_enough


@pytest.fixture
def foreign_client(foreign_student, foreign_counselor):
    foreign_student.student_profile.counselor = foreign_counselor
    foreign_student.student_profile.save()
    return foreign_student


def test_the_whole_school_includes_other_counselors_clients_but_never_another_school(
    student, counselor, other_student, other_counselor, foreign_client, foreign_counselor
):
    mine, theirs = MATRIX_8 * 2, MATRIX_8[::-1] * 2  # 16 + 16: above the school minimum
    for answers in mine:
        respond(student, answers)
    for answers in theirs:
        respond(other_student, answers)
    # Another school's responses: all 5s and all 1s, which would change every number.
    foreign = [[5] * 9, [1] * 9, [5] * 9, [1] * 9, [5, 4, 5, 4, 5, 4, 5, 4, 5]] * 6
    for answers in foreign:
        respond(foreign_client, answers)

    assert_report_matches_numpy(amas_report(counselor, whole_school=False), mine)
    school = amas_report(counselor, whole_school=True)
    assert_report_matches_numpy(school, mine + theirs, with_means=False)
    assert amas_report(other_counselor, whole_school=False).responses == 16
    assert amas_report(other_counselor, whole_school=True).responses == 32
    # The other school sees only its own.
    assert_report_matches_numpy(
        amas_report(foreign_counselor, whole_school=True), foreign, with_means=False
    )


def test_the_whole_school_needs_thirty_responses(student, counselor, other_student):
    for answers in MATRIX_8 * 3:  # 24 of the counselor's own: enough for "my clients"
        respond(student, answers)
    for answers in MATRIX_8[:5]:
        respond(other_student, answers)

    assert amas_report(counselor, whole_school=False).has_enough
    school = amas_report(counselor, whole_school=True)
    assert (school.responses, school.has_enough, school.scales) == (29, False, [])
    respond(other_student, MATRIX_8[5])
    assert amas_report(counselor, whole_school=True).has_enough


@pytest.mark.parametrize(("query", "expected"), [("", 5), ("?scope=school", 8)])
def test_the_reliability_page_reports_the_chosen_scope(
    client, student, counselor, other_student, query, expected
):
    for answers in MATRIX_8[:5]:
        respond(student, answers)
    for answers in MATRIX_8[5:]:
        respond(other_student, answers)
    client.force_login(counselor)
    response = client.get(reverse("instruments:reliability") + query)
    assert response.status_code == 200
    reports = {report.instrument.code: report for report in response.context["reports"]}
    assert reports["amas"].responses == expected
    assert ('id="school-scope-note"' in response.content.decode()) == (query == "?scope=school")

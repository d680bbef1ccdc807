"""Scoring of the shipped instruments against hand-checked answer sets.

Every expected number below was worked out by hand from the published scoring keys
(Hatcher & Gillaspy 2006 for the WAI-SR; Hopko et al. 2003 for the AMAS) and the
score bands in the definition files; none was produced by running the code under test.

WAI-SR: 12 items on 1–5. Task = 1, 2, 10, 12; Bond = 3, 5, 7, 9; Goal = 4, 6, 8, 11.
        Total 12–60; bands low 12–27, medium 28–43, high 44–60.
AMAS:   9 items on 1–5. Learning = 1, 3, 6, 7, 9; Evaluation = 2, 4, 5, 8.
        Total 9–45; bands low 9–12, fairly_low 13–17, medium 18–22,
        fairly_high 23–27, high 28–45.
"""

import pytest

from instruments.definitions import BUILT_IN_DIRECTORY, load_definition, parse_definition
from instruments.scoring import Score, ScoringError, keyed_value, score_answers, score_total


@pytest.fixture(scope="module")
def wai_sr():
    return load_definition(BUILT_IN_DIRECTORY / "wai-sr.json")


@pytest.fixture(scope="module")
def amas():
    return load_definition(BUILT_IN_DIRECTORY / "amas.json")


@pytest.fixture(scope="module")
def service_evaluation():
    return load_definition(BUILT_IN_DIRECTORY / "service-evaluation.json")


# --- WAI-SR -------------------------------------------------------------------------

# (answers by item number, total, band, subscale sums), each sum added up by hand.
WAI_SR_CASES = {
    "all-1s": (
        dict.fromkeys(range(1, 13), 1),
        12,
        "low",
        {"task": 4, "bond": 4, "goal": 4},
    ),
    "all-5s": (
        dict.fromkeys(range(1, 13), 5),
        60,
        "high",
        {"task": 20, "bond": 20, "goal": 20},
    ),
    # Task 3+2+2+2 = 9, Bond 2+2+2+2 = 8, Goal 3+2+3+2 = 10 → 27, top of "low".
    "total-27": (
        {1: 3, 2: 2, 3: 2, 4: 3, 5: 2, 6: 2, 7: 2, 8: 3, 9: 2, 10: 2, 11: 2, 12: 2},
        27,
        "low",
        {"task": 9, "bond": 8, "goal": 10},
    ),
    # As above with item 9 (Bond) raised to 3: Bond 9 → 28, bottom of "medium".
    "total-28": (
        {1: 3, 2: 2, 3: 2, 4: 3, 5: 2, 6: 2, 7: 2, 8: 3, 9: 3, 10: 2, 11: 2, 12: 2},
        28,
        "medium",
        {"task": 9, "bond": 9, "goal": 10},
    ),
    # Task 4+4+4+3 = 15, Bond 3+3+4+4 = 14, Goal 4+3+3+4 = 14 → 43, top of "medium".
    "total-43": (
        {1: 4, 2: 4, 3: 3, 4: 4, 5: 3, 6: 3, 7: 4, 8: 3, 9: 4, 10: 4, 11: 4, 12: 3},
        43,
        "medium",
        {"task": 15, "bond": 14, "goal": 14},
    ),
    # As above with item 12 (Task) raised to 4: Task 16 → 44, bottom of "high".
    "total-44": (
        {1: 4, 2: 4, 3: 3, 4: 4, 5: 3, 6: 3, 7: 4, 8: 3, 9: 4, 10: 4, 11: 4, 12: 4},
        44,
        "high",
        {"task": 16, "bond": 14, "goal": 14},
    ),
    # Subscales far apart so a wrong key is caught: Task 5+4+5+5 = 19,
    # Bond 1+2+1+1 = 5, Goal 3+3+2+3 = 11 → 35. (Items 1–4 as one block would give 13.)
    "mixed": (
        {1: 5, 2: 4, 3: 1, 4: 3, 5: 2, 6: 3, 7: 1, 8: 2, 9: 1, 10: 5, 11: 3, 12: 5},
        35,
        "medium",
        {"task": 19, "bond": 5, "goal": 11},
    ),
}


@pytest.mark.parametrize(
    ("answers", "total", "band", "subscales"),
    list(WAI_SR_CASES.values()),
    ids=list(WAI_SR_CASES),
)
def test_wai_sr_answers_give_the_hand_checked_total_band_and_subscales(
    wai_sr, answers, total, band, subscales
):
    score = score_answers(wai_sr, answers)

    assert score == Score(total=total, band=band, subscales=subscales)


def test_wai_sr_subscales_follow_the_published_key(wai_sr):
    assert {subscale.code: subscale.items for subscale in wai_sr.subscales} == {
        "task": (1, 2, 10, 12),
        "bond": (3, 5, 7, 9),
        "goal": (4, 6, 8, 11),
    }
    assert wai_sr.reverse_keyed == frozenset()


@pytest.mark.parametrize(
    ("total", "band"),
    [(12, "low"), (27, "low"), (28, "medium"), (43, "medium"), (44, "high"), (60, "high")],
)
def test_wai_sr_total_alone_gets_its_band(wai_sr, total, band):
    assert score_total(wai_sr, total) == Score(total=total, band=band)


@pytest.mark.parametrize("total", [11, 61, 0, -12])
def test_wai_sr_total_outside_12_to_60_is_refused(wai_sr, total):
    with pytest.raises(ScoringError, match=f"total {total} is outside 12–60"):
        score_total(wai_sr, total)


# --- AMAS ---------------------------------------------------------------------------

AMAS_CASES = {
    "all-1s": (dict.fromkeys(range(1, 10), 1), 9, "low", {"learning": 5, "evaluation": 4}),
    "all-5s": (dict.fromkeys(range(1, 10), 5), 45, "high", {"learning": 25, "evaluation": 20}),
    # Learning 1+1+1+1+1 = 5, Evaluation 2+2+1+2 = 7 → 12, top of "low".
    "total-12": (
        {1: 1, 2: 2, 3: 1, 4: 2, 5: 1, 6: 1, 7: 1, 8: 2, 9: 1},
        12,
        "low",
        {"learning": 5, "evaluation": 7},
    ),
    # Item 5 (Evaluation) raised to 2: Evaluation 8 → 13, bottom of "fairly_low".
    "total-13": (
        {1: 1, 2: 2, 3: 1, 4: 2, 5: 2, 6: 1, 7: 1, 8: 2, 9: 1},
        13,
        "fairly_low",
        {"learning": 5, "evaluation": 8},
    ),
    # Learning 2+1+1+2+1 = 7, Evaluation 2+3+2+3 = 10 → 17, top of "fairly_low".
    "total-17": (
        {1: 2, 2: 2, 3: 1, 4: 3, 5: 2, 6: 1, 7: 2, 8: 3, 9: 1},
        17,
        "fairly_low",
        {"learning": 7, "evaluation": 10},
    ),
    # Item 9 (Learning) raised to 2: Learning 8 → 18, bottom of "medium".
    "total-18": (
        {1: 2, 2: 2, 3: 1, 4: 3, 5: 2, 6: 1, 7: 2, 8: 3, 9: 2},
        18,
        "medium",
        {"learning": 8, "evaluation": 10},
    ),
    # Learning 2+2+2+2+2 = 10, Evaluation 3+4+3+2 = 12 → 22, top of "medium".
    "total-22": (
        {1: 2, 2: 3, 3: 2, 4: 4, 5: 3, 6: 2, 7: 2, 8: 2, 9: 2},
        22,
        "medium",
        {"learning": 10, "evaluation": 12},
    ),
    # Item 8 (Evaluation) raised to 3: Evaluation 13 → 23, bottom of "fairly_high".
    "total-23": (
        {1: 2, 2: 3, 3: 2, 4: 4, 5: 3, 6: 2, 7: 2, 8: 3, 9: 2},
        23,
        "fairly_high",
        {"learning": 10, "evaluation": 13},
    ),
    # Learning 3+3+2+3+2 = 13, Evaluation 3+4+3+4 = 14 → 27, top of "fairly_high".
    "total-27": (
        {1: 3, 2: 3, 3: 3, 4: 4, 5: 3, 6: 2, 7: 3, 8: 4, 9: 2},
        27,
        "fairly_high",
        {"learning": 13, "evaluation": 14},
    ),
    # Item 6 (Learning) raised to 3: Learning 14 → 28, bottom of "high".
    "total-28": (
        {1: 3, 2: 3, 3: 3, 4: 4, 5: 3, 6: 3, 7: 3, 8: 4, 9: 2},
        28,
        "high",
        {"learning": 14, "evaluation": 14},
    ),
    # Subscales far apart so a wrong key is caught: Learning 1+2+1+1+2 = 7,
    # Evaluation 5+5+4+5 = 19 → 26. (Odd items 1, 3, 5, 7, 9 would give 10.)
    "mixed": (
        {1: 1, 2: 5, 3: 2, 4: 5, 5: 4, 6: 1, 7: 1, 8: 5, 9: 2},
        26,
        "fairly_high",
        {"learning": 7, "evaluation": 19},
    ),
}


@pytest.mark.parametrize(
    ("answers", "total", "band", "subscales"),
    list(AMAS_CASES.values()),
    ids=list(AMAS_CASES),
)
def test_amas_answers_give_the_hand_checked_total_band_and_subscales(
    amas, answers, total, band, subscales
):
    score = score_answers(amas, answers)

    assert score == Score(total=total, band=band, subscales=subscales)


def test_amas_subscales_follow_the_published_key(amas):
    assert {subscale.code: subscale.items for subscale in amas.subscales} == {
        "learning": (1, 3, 6, 7, 9),
        "evaluation": (2, 4, 5, 8),
    }
    assert amas.reverse_keyed == frozenset()


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (9, "low"),
        (12, "low"),
        (13, "fairly_low"),
        (17, "fairly_low"),
        (18, "medium"),
        (22, "medium"),
        (23, "fairly_high"),
        (27, "fairly_high"),
        (28, "high"),
        (45, "high"),
    ],
)
def test_amas_total_alone_gets_its_band(amas, total, band):
    assert score_total(amas, total) == Score(total=total, band=band)


@pytest.mark.parametrize("total", [8, 46])
def test_amas_total_outside_9_to_45_is_refused(amas, total):
    with pytest.raises(ScoringError, match=f"total {total} is outside 9–45"):
        score_total(amas, total)


# --- Refused answers ----------------------------------------------------------------


def test_missing_answer_is_refused_naming_the_item(wai_sr):
    answers = dict.fromkeys(range(1, 13), 3)
    del answers[7]

    with pytest.raises(ScoringError, match="item 7 has no answer"):
        score_answers(wai_sr, answers)


def test_empty_answers_are_refused(amas):
    with pytest.raises(ScoringError, match="item 1 has no answer"):
        score_answers(amas, {})


@pytest.mark.parametrize("answer", [0, 6, -1, 50])
def test_answer_outside_the_scale_is_refused_naming_item_and_value(wai_sr, amas, answer):
    for instrument in (wai_sr, amas):
        answers = dict.fromkeys(range(1, len(instrument.items) + 1), 3)
        answers[2] = answer

        with pytest.raises(ScoringError, match=f"item 2: {answer} is outside 1–5"):
            score_answers(instrument, answers)


def test_scoring_error_is_a_value_error():
    assert issubclass(ScoringError, ValueError)


# --- Reverse keying -----------------------------------------------------------------


def reverse_keyed_definition() -> dict:
    """Three items on 1–5, item 2 reverse-keyed; total 3–15."""
    return {
        "code": "reverse-test",
        "version": "1.0",
        "name": {"id": "Uji", "en": "Test"},
        "citation": "Written for this test.",
        "scale": {
            "min": 1,
            "max": 5,
            "labels": {str(point): {"id": f"T{point}", "en": f"P{point}"} for point in range(1, 6)},
        },
        "items": [
            {"number": number, "text": {"id": f"Butir {number}", "en": f"Item {number}"}}
            for number in (1, 2, 3)
        ],
        "reverse_keyed": [2],
        "subscales": [
            {"code": "with-reversed", "name": {"id": "A", "en": "A"}, "items": [1, 2]},
            {"code": "plain", "name": {"id": "B", "en": "B"}, "items": [3]},
        ],
        "bands": [
            {"code": "low", "label": {"id": "Rendah", "en": "Low"}, "min": 3, "max": 9},
            {"code": "high", "label": {"id": "Tinggi", "en": "High"}, "min": 10, "max": 15},
        ],
    }


@pytest.mark.parametrize(("answer", "keyed"), [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)])
def test_reverse_keyed_item_counts_as_six_minus_the_answer(answer, keyed):
    instrument = parse_definition(reverse_keyed_definition())

    assert keyed_value(instrument, 2, answer) == keyed
    # Items not listed as reverse-keyed count as answered.
    assert keyed_value(instrument, 1, answer) == answer


def test_reverse_keyed_item_is_keyed_in_the_total_and_its_subscale():
    instrument = parse_definition(reverse_keyed_definition())

    # Item 2 answered 1 counts 5: total 4 + 5 + 3 = 12 (not 8), subscale 4 + 5 = 9.
    score = score_answers(instrument, {1: 4, 2: 1, 3: 3})

    assert score == Score(total=12, band="high", subscales={"with-reversed": 9, "plain": 3})


def test_reverse_keying_uses_scale_min_plus_max():
    definition = reverse_keyed_definition()
    definition["scale"] = {
        "min": 0,
        "max": 3,
        "labels": {str(point): {"id": f"T{point}", "en": f"P{point}"} for point in range(4)},
    }
    definition["bands"] = [
        {"code": "all", "label": {"id": "Semua", "en": "All"}, "min": 0, "max": 9},
    ]
    instrument = parse_definition(definition)

    # On 0–3 a reverse-keyed answer counts 3 − answer: 0 → 3, 3 → 0.
    assert [keyed_value(instrument, 2, answer) for answer in range(4)] == [3, 2, 1, 0]
    assert score_answers(instrument, {1: 1, 2: 0, 3: 2}).total == 1 + 3 + 2


# --- Instruments that are not scored -----------------------------------------------


def test_unscored_instrument_returns_no_total_band_or_subscales(service_evaluation):
    # Item 4 is a free-text item: it takes no scale answer.
    score = score_answers(service_evaluation, {1: 4, 2: 5, 3: 2})

    assert score == Score(total=None, band="", subscales={})


def test_unscored_instrument_still_refuses_a_missing_scale_answer(service_evaluation):
    with pytest.raises(ScoringError, match="item 3 has no answer"):
        score_answers(service_evaluation, {1: 4, 2: 5})

"""Where the reliable change index gets its reliability and SD: the instrument's
definition when it gives them, otherwise this school's own data once there is enough."""

import json
import math

import numpy as np
import pytest
from django.urls import reverse
from django.utils import translation

from analytics.selectors import (
    MIN_REFERENCE_CLIENTS,
    MIN_REFERENCE_RESPONSES,
    client_report,
    reference_from_school,
)
from instruments.definitions import (
    BUILT_IN_DIRECTORY,
    DefinitionError,
    get_instrument,
    parse_definition,
    registry_load,
)
from instruments.models import Response
from instruments.scoring import keyed_value
from tests.analytics.study import english, study
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


def amas_definition() -> dict:
    return json.loads((BUILT_IN_DIRECTORY / "amas.json").read_text(encoding="utf-8"))


@pytest.fixture
def restore_registry(settings):
    yield settings
    settings.INSTRUMENT_DIRS = []
    registry_load()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"reliability": 1.2, "sd": 5, "source": {"id": "a", "en": "a"}}, "between 0 and 1"),
        ({"reliability": 0.8, "sd": 0, "source": {"id": "a", "en": "a"}}, "positive number"),
        ({"reliability": 0.8, "sd": 5}, "source"),
        ({"reliability": "high", "sd": 5, "source": {"id": "a", "en": "a"}}, "a number"),
    ],
)
def test_a_bad_reference_in_a_definition_is_refused(block, message):
    definition = amas_definition()
    definition["reliable_change"] = block
    with pytest.raises(DefinitionError, match=message):
        parse_definition(definition)


def test_the_definitions_reference_is_used_for_the_reliable_change(
    restore_registry, tmp_path, client, counselor, student
):
    definition = amas_definition()
    definition["reliable_change"] = {
        "reliability": 0.85,
        "sd": 6.0,
        "source": {"id": "Contoh acuan", "en": "Example reference"},
    }
    (tmp_path / "amas.json").write_text(json.dumps(definition), encoding="utf-8")
    restore_registry.INSTRUMENT_DIRS = [str(tmp_path)]
    registry_load()
    assert get_instrument("amas").reference.sd == 6.0
    study(student, baseline=[30, 32, 31], sessions=[(40, 25)], follow_up=[20, 22, 21])
    with translation.override("en"):
        report = client_report(counselor=counselor, student=student)
    # By hand (Jacobson & Truax): SE = 6·√(1 − .85) = 2.32379; S_diff = √2·SE = 3.28634;
    # RC = (21 − 31) / 3.28634 = −3.04290: a reliable fall in anxiety, an improvement.
    change = report.change
    assert (change.pre_mean, change.post_mean) == (31, 21)
    assert change.result.se_measurement == pytest.approx(6 * math.sqrt(0.15), rel=1e-12)
    assert change.result.rci == pytest.approx(-10 / (math.sqrt(2) * 6 * math.sqrt(0.15)))
    assert change.result.rci == pytest.approx(-3.04290, abs=1e-5)
    assert change.result.is_improvement is True
    assert change.source == "Example reference"
    client.force_login(counselor)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:report", args=[student.pk])).content.decode()
    assert "Reliable improvement" in html


def test_without_a_reference_the_school_needs_enough_data_of_its_own(counselor, student):
    study(student, baseline=[30, 32, 31], sessions=[(40, 25)], follow_up=[20, 22, 21])
    reference, problem = reference_from_school(student.school_id, "amas")
    assert reference is None
    assert str(MIN_REFERENCE_RESPONSES) in problem
    report = client_report(counselor=counselor, student=student)
    assert report.change is None
    assert report.change_problem == problem


def test_the_schools_own_alpha_and_baseline_sd_serve_once_there_is_enough(counselor, school):
    totals = [[28, 31, 35], [22, 25, 24], [33, 36, 30], [18, 21, 20], [26, 27, 29],
              [30], [19, 23], [25], [34, 32], [21, 20, 22]]  # fmt: skip
    for baseline in totals:
        user = StudentFactory(school=school)
        user.student_profile.counselor = counselor
        user.student_profile.save()
        study(user, baseline=baseline, sessions=[(45, 20), (48, 19)])
    responses = Response.objects.filter(administration__instrument_code="amas")
    assert responses.count() >= MIN_REFERENCE_RESPONSES
    reference, problem = reference_from_school(school.pk, "amas")
    assert problem == ""
    # Independent: alpha from the item covariance matrix, SD with numpy (ddof = 1).
    amas = get_instrument("amas")
    rows = np.array(
        [
            [
                keyed_value(amas, item.number, answers[str(item.number)])
                for item in amas.choice_items
            ]
            for answers in responses.values_list("answers", flat=True)
        ],
        dtype=float,
    )
    covariance = np.cov(rows, rowvar=False)
    k = covariance.shape[0]
    alpha = k / (k - 1) * (1 - np.trace(covariance) / covariance.sum())
    # One value per student: the mean of their baseline scores.
    baselines = [np.mean(baseline) for baseline in totals]
    assert len(baselines) >= MIN_REFERENCE_CLIENTS
    assert reference.reliability == pytest.approx(alpha, rel=1e-12)
    assert reference.sd == pytest.approx(np.std(baselines, ddof=1), rel=1e-12)

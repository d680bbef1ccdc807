"""What a student sees of their own scores: nothing until their counselor shares the
anxiety trend, then the anxiety trend only, never the alliance."""

import pytest
from django.urls import reverse
from django.utils import translation

from tests.analytics.study import english, study

pytestmark = pytest.mark.django_db


@pytest.fixture
def studied(student):
    study(student, baseline=[31, 32], sessions=[(41, 29), (47, 26)], follow_up=[19])
    return student


def share(client, counselor, student, visible: str):
    client.force_login(counselor)
    response = client.post(
        reverse("analytics:trend-share", args=[student.pk]), {"visible": visible}
    )
    assert response.status_code == 302
    student.student_profile.refresh_from_db()
    return student.student_profile.can_see_anxiety_trend


def test_sharing_is_off_by_default_and_the_counselor_turns_it_on_and_off(
    client, counselor, studied
):
    assert studied.student_profile.can_see_anxiety_trend is False
    assert share(client, counselor, studied, "1") is True
    assert share(client, counselor, studied, "0") is False


def test_the_student_sees_their_anxiety_trend_but_never_the_alliance(client, counselor, studied):
    share(client, counselor, studied, "1")
    client.force_login(studied)
    english(client)
    with translation.override("en"):
        home = client.get(reverse("accounts:student-home")).content.decode()
        response = client.get(reverse("analytics:my-anxiety"))
    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("analytics:my-anxiety") in home  # the menu offers the page
    assert 'id="my-anxiety-chart"' in html
    assert "Latest score: 19" in html
    for alliance_word in ("WAI", "alliance", "Alliance", ">41<", ">47<"):
        assert alliance_word not in html


def test_the_menu_has_no_progress_page_while_nothing_is_shared(client, studied):
    client.force_login(studied)
    home = client.get(reverse("accounts:student-home")).content.decode()
    assert reverse("analytics:my-anxiety") not in home


def test_a_student_without_answers_sees_an_explanation(client, counselor, student):
    share(client, counselor, student, "1")
    client.force_login(student)
    english(client)
    with translation.override("en"):
        html = client.get(reverse("analytics:my-anxiety")).content.decode()
    assert "nothing to show yet" in html

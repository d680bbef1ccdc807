"""Who may see a client's trends, report, PDF and CSV: only the client's counselor.

The student, another student, another counselor of the school, the school admin,
someone from another school and an anonymous visitor are all refused, and the
counselor's own caseload never lists someone else's client.
"""

import pytest
from django.urls import reverse

from tests.analytics.study import study

pytestmark = pytest.mark.django_db

CLIENT_PAGES = ["analytics:client-trends", "analytics:report", "analytics:report-pdf",
                "analytics:report-csv"]  # fmt: skip
PEOPLE_REFUSED = ["student", "other_student", "other_counselor", "school_admin",
                  "foreign_counselor", "foreign_student", "foreign_admin"]  # fmt: skip


@pytest.fixture
def studied(student):
    study(student, baseline=[30, 31, 30], sessions=[(40, 28), (46, 25), (50, 22)],
          follow_up=[18, 17])  # fmt: skip
    return student


@pytest.mark.parametrize("url_name", CLIENT_PAGES)
def test_the_clients_counselor_gets_every_page(client, counselor, studied, url_name):
    client.force_login(counselor)
    response = client.get(reverse(url_name, args=[studied.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("url_name", CLIENT_PAGES)
@pytest.mark.parametrize("person", PEOPLE_REFUSED)
def test_nobody_else_gets_a_clients_trends_report_or_files(
    client, request, studied, url_name, person
):
    client.force_login(request.getfixturevalue(person))
    response = client.get(reverse(url_name, args=[studied.pk]))
    # Other roles are refused by role (403); another counselor finds no such client (404).
    assert response.status_code in (403, 404)
    assert b"%PDF" not in response.content


@pytest.mark.parametrize("url_name", CLIENT_PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client, studied, url_name):
    response = client.get(reverse(url_name, args=[studied.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("person", ["other_counselor", "foreign_counselor"])
def test_another_counselor_cannot_share_a_clients_trend(client, request, studied, person):
    client.force_login(request.getfixturevalue(person))
    response = client.post(reverse("analytics:trend-share", args=[studied.pk]), {"visible": "1"})
    assert response.status_code == 404
    studied.student_profile.refresh_from_db()
    assert studied.student_profile.can_see_anxiety_trend is False


@pytest.mark.parametrize("person", ["student", "school_admin"])
def test_the_student_and_the_admin_cannot_share_the_trend(client, request, studied, person):
    client.force_login(request.getfixturevalue(person))
    response = client.post(reverse("analytics:trend-share", args=[studied.pk]), {"visible": "1"})
    assert response.status_code == 403
    studied.student_profile.refresh_from_db()
    assert studied.student_profile.can_see_anxiety_trend is False


@pytest.mark.parametrize("url_name", ["analytics:caseload", "analytics:multiple-baseline"])
@pytest.mark.parametrize("person", ["student", "school_admin", "foreign_admin"])
def test_only_counselors_open_the_caseload_pages(client, request, url_name, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", ["analytics:caseload", "analytics:multiple-baseline"])
def test_caseload_pages_list_only_the_counselors_own_clients(
    client, other_counselor, studied, url_name
):
    client.force_login(other_counselor)
    response = client.get(reverse(url_name) + f"?client={studied.pk}")
    assert response.status_code == 200
    assert studied.display_name.encode() not in response.content
    assert f'client-{studied.pk}"'.encode() not in response.content
    assert f'data-client="{studied.username}"'.encode() not in response.content


def test_multiple_baseline_ignores_a_client_id_of_another_counselor(
    client, counselor, other_student, studied
):
    study(other_student, baseline=[33, 34], sessions=[(45, 30)])
    client.force_login(counselor)
    response = client.get(reverse("analytics:multiple-baseline") + f"?client={other_student.pk}")
    assert response.status_code == 200
    assert other_student.display_name.encode() not in response.content


@pytest.mark.parametrize("person", ["counselor", "school_admin", "other_student"])
def test_only_students_have_a_my_progress_page(client, request, studied, person):
    studied.student_profile.can_see_anxiety_trend = True
    studied.student_profile.save()
    client.force_login(request.getfixturevalue(person))
    response = client.get(reverse("analytics:my-anxiety"))
    # Another student has their own (unshared) page: 404, never this student's data.
    assert response.status_code in (403, 404)


def test_the_students_trend_is_hidden_until_the_counselor_shares_it(client, studied):
    client.force_login(studied)
    assert client.get(reverse("analytics:my-anxiety")).status_code == 404

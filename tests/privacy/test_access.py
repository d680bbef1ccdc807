"""Who may download or erase a student's data: the student their own, the admin of their
school; nobody else (another student, the counselor, another counselor, an admin of
another school, an anonymous visitor)."""

import datetime

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from privacy.models import DataRequest
from privacy.services import PrivacyError, data_export_record, student_erase

pytestmark = pytest.mark.django_db

REQUEST = {"requester": "guardian", "request_date": "2026-01-05", "reference": "Surat 7"}
ADMIN_URLS = ("privacy:student-export", "privacy:student-erase")


def no_data_left_the_building():
    assert not DataRequest.objects.exists()
    assert not LogEntry.objects.filter(action=LogEntry.Action.ACCESS).exists()


def test_an_anonymous_visitor_is_sent_to_sign_in(client, student):
    for url in [
        reverse("privacy:my-data"),
        reverse("privacy:request-list"),
        *(reverse(name, args=[student.pk]) for name in ADMIN_URLS),
    ]:
        response = client.post(url, REQUEST)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
    no_data_left_the_building()


@pytest.mark.parametrize("person", ["counselor", "school_admin", "foreign_admin"])
def test_only_students_have_a_download_of_their_own(client, request, person):
    client.force_login(request.getfixturevalue(person))
    assert client.post(reverse("privacy:my-data")).status_code == 403
    no_data_left_the_building()


@pytest.mark.parametrize(
    ("person", "status"),
    [
        ("student", 403),  # the student themself: only through their own page
        ("other_student", 403),
        ("counselor", 403),  # the student's own counselor
        ("other_counselor", 403),
        ("foreign_counselor", 403),
        ("foreign_admin", 404),  # another school's admin does not learn the account exists
    ],
)
@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_nobody_but_the_schools_admin_downloads_or_erases_a_students_data(
    client, request, student, person, status, url_name
):
    client.force_login(request.getfixturevalue(person))
    url = reverse(url_name, args=[student.pk])
    assert client.get(url).status_code == status
    assert client.post(url, {**REQUEST, "confirmed": "1"}).status_code == status
    no_data_left_the_building()
    student.refresh_from_db()
    assert student.is_active


@pytest.mark.parametrize("url_name", ADMIN_URLS)
def test_the_admin_reaches_students_of_their_school_only(
    client, school_admin, foreign_student, counselor, url_name
):
    client.force_login(school_admin)
    # Another school's student, and an account of the admin's school that is no student.
    for account in (foreign_student, counselor, school_admin):
        assert client.get(reverse(url_name, args=[account.pk])).status_code == 404
        assert client.post(reverse(url_name, args=[account.pk]), REQUEST).status_code == 404
    no_data_left_the_building()


def test_the_admin_gets_a_students_archive(client, school_admin, student):
    client.force_login(school_admin)
    response = client.post(reverse("privacy:student-export", args=[student.pk]), REQUEST)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"


def test_the_services_refuse_whoever_the_views_let_through_by_mistake(
    school_admin, foreign_admin, student, counselor, other_student
):
    written = {"requester": "guardian", "request_date": datetime.date(2026, 1, 5), "reference": "x"}
    cases = [
        (lambda: data_export_record(processed_by=foreign_admin, student=student, **written),
         "other_school"),
        (lambda: data_export_record(processed_by=counselor, student=student, **written),
         "not_allowed"),
        (lambda: data_export_record(processed_by=other_student, student=student, **written),
         "not_allowed"),
        (lambda: data_export_record(processed_by=school_admin, student=counselor, **written),
         "not_a_student"),
        (lambda: student_erase(admin=foreign_admin, student=student, **written), "other_school"),
        (lambda: student_erase(admin=counselor, student=student, **written), "not_allowed"),
        (lambda: student_erase(admin=school_admin, student=counselor, **written),
         "not_a_student"),
        (lambda: student_erase(admin=school_admin, student=school_admin, **written),
         "not_a_student"),
    ]  # fmt: skip
    for call, code in cases:
        with pytest.raises(PrivacyError) as refused:
            call()
        assert refused.value.code == code
    assert not DataRequest.objects.exists()


def test_the_request_list_shows_the_admins_own_school_only(
    client, school_admin, foreign_admin, student, foreign_student
):
    client.force_login(school_admin)
    client.post(reverse("privacy:student-export", args=[student.pk]), REQUEST)
    client.force_login(foreign_admin)
    page = client.get(reverse("privacy:request-list"))
    assert page.status_code == 200
    assert list(page.context["requests"]) == []
    client.force_login(school_admin)
    page = client.get(reverse("privacy:request-list"))
    assert [r.student for r in page.context["requests"]] == [student]


@pytest.mark.parametrize("person", ["student", "counselor"])
def test_the_request_list_is_for_admins(client, request, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(reverse("privacy:request-list")).status_code == 403

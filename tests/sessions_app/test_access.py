"""Who may open a session and act on it: only its student and its counselor. Another
student, another counselor, the school admin, people from another school and anonymous
visitors are refused, and nothing changes."""

import pytest
from django.urls import reverse

from sessions_app.models import CounselingSession
from tests.factories import CounselingSessionFactory

pytestmark = pytest.mark.django_db

OUTSIDERS = [
    "other_student",
    "other_counselor",
    "school_admin",
    "foreign_student",
    "foreign_counselor",
    "foreign_admin",
]


@pytest.fixture
def session(student):
    return CounselingSessionFactory(student=student, status="requested")


def detail_urls(session):
    return [
        reverse("sessions:session-detail", args=[session.pk]),
        reverse("sessions:session-calendar", args=[session.pk]),
    ]


@pytest.mark.parametrize("person", ["student", "counselor"])
def test_the_sessions_student_and_counselor_open_its_page(client, request, session, person):
    client.force_login(request.getfixturevalue(person))
    response = client.get(reverse("sessions:session-detail", args=[session.pk]))
    assert response.status_code == 200
    assert session.description in response.content.decode()


@pytest.mark.parametrize("person", OUTSIDERS)
def test_nobody_else_opens_a_session_or_its_calendar_file(client, request, session, person):
    session.status = "confirmed"
    session.save()
    client.force_login(request.getfixturevalue(person))
    for url in detail_urls(session):
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert session.description not in response.content.decode()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, session):
    for url in detail_urls(session):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("person", OUTSIDERS)
@pytest.mark.parametrize("action", ["confirm", "decline", "cancel"])
def test_nobody_else_can_act_on_a_session(client, request, session, person, action):
    client.force_login(request.getfixturevalue(person))
    url = reverse("sessions:session-action", args=[session.pk, action])
    response = client.post(url, {"reason": "x"})
    assert response.status_code in (403, 404)
    session.refresh_from_db()
    assert session.status == CounselingSession.Status.REQUESTED


def test_a_student_cannot_confirm_their_own_request(client, student, session):
    client.force_login(student)
    response = client.post(reverse("sessions:session-action", args=[session.pk, "confirm"]))
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.status == CounselingSession.Status.REQUESTED


def test_an_unknown_action_is_not_found(client, counselor, session):
    client.force_login(counselor)
    response = client.post(reverse("sessions:session-action", args=[session.pk, "explode"]))
    assert response.status_code == 404


def test_actions_need_post(client, counselor, session):
    client.force_login(counselor)
    response = client.get(reverse("sessions:session-action", args=[session.pk, "confirm"]))
    assert response.status_code == 405


STUDENT_PAGES = ["sessions:book", "sessions:my-sessions"]
COUNSELOR_PAGES = ["sessions:schedule", "sessions:availability", "sessions:session-create"]
ADMIN_PAGES = ["sessions:booking-settings", "sessions:statistics"]


@pytest.mark.parametrize(
    ("person", "allowed"),
    [
        ("student", STUDENT_PAGES),
        ("counselor", COUNSELOR_PAGES),
        ("school_admin", ADMIN_PAGES),
    ],
)
def test_each_role_opens_its_own_pages_and_is_refused_the_others(client, request, person, allowed):
    client.force_login(request.getfixturevalue(person))
    for url_name in STUDENT_PAGES + COUNSELOR_PAGES + ADMIN_PAGES:
        response = client.get(reverse(url_name))
        expected = 200 if url_name in allowed else 403
        assert response.status_code == expected, url_name


@pytest.mark.parametrize("url_name", STUDENT_PAGES + COUNSELOR_PAGES + ADMIN_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_a_counselor_cannot_remove_another_counselors_window(client, other_counselor, counselor):
    from tests.factories import AvailabilityFactory

    window = AvailabilityFactory(counselor=counselor)
    client.force_login(other_counselor)
    url = reverse("sessions:availability-delete", args=["window", window.pk])
    assert client.post(url).status_code == 404
    window.refresh_from_db()


def test_a_counselor_cannot_schedule_another_counselors_client(client, counselor, other_student):
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:session-create"),
        {
            "student": other_student.pk,
            "date": "2030-01-07",
            "time": "10:00",
            "minutes": 45,
            "mode": "chat",
            "field": "social",
        },
    )
    assert response.status_code == 200
    assert "student" in response.context["form"].errors
    assert not CounselingSession.objects.exists()


def test_the_school_admin_sees_counts_but_never_intake_text(client, school_admin, student):
    CounselingSessionFactory(student=student, description="Rahasia: saya dirundung.")
    client.force_login(school_admin)
    response = client.get(reverse("sessions:statistics"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Rahasia" not in body
    assert student.display_name not in body
    by_status = dict(response.context["by_status"])
    assert by_status[CounselingSession.Status.CONFIRMED.label] == 1


def test_the_admin_statistics_count_only_the_admins_school(
    client, school_admin, student, foreign_student, foreign_counselor
):
    foreign_student.student_profile.counselor = foreign_counselor
    foreign_student.student_profile.save()
    CounselingSessionFactory(student=student)
    CounselingSessionFactory(student=foreign_student)
    client.force_login(school_admin)
    response = client.get(reverse("sessions:statistics"))
    assert response.context["total"] == 1


def test_notifications_are_only_the_readers_own(client, student, other_student, session):
    from notifications.models import Notification

    mine = Notification.objects.create(user=student, kind="session_confirmed", session=session)
    client.force_login(other_student)
    response = client.post(reverse("notifications:notification-open", args=[mine.pk]))
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.read_at is None
    assert (
        list(client.get(reverse("notifications:notification-list")).context["notifications"]) == []
    )

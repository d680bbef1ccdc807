"""Defects a review of the booking change found, each with the test that broke it."""

import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from notifications.models import Notification
from sessions_app.models import CounselingSession, SessionEvent, dial_href
from sessions_app.services import (
    BookingError,
    requests_expire,
    session_cancel,
    session_consent_give,
    session_create_for_client,
    session_request,
    session_reschedule_answer,
    session_reschedule_propose,
    session_start,
)
from tests.factories import AvailabilityFactory, CounselingSessionFactory, StudentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
SLOT = datetime.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB
Status = CounselingSession.Status


def refused(call, code: str) -> None:
    with pytest.raises(BookingError) as caught:
        call()
    assert caught.value.code == code


def confirmed_at(student, starts_at, **kwargs):
    kwargs.setdefault("status", Status.CONFIRMED)
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        **kwargs,
    )


def test_a_notification_keeps_the_times_it_announced(student, counselor):
    session = confirmed_at(student, datetime.datetime(2026, 12, 8, 6, 0, tzinfo=UTC))
    new_time = datetime.datetime(2026, 12, 9, 7, 0, tzinfo=UTC)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=new_time, now=NOW)
    session_reschedule_answer(student=student, session=session, accept=True, now=NOW)
    proposal = Notification.objects.get(kind=Notification.Kind.RESCHEDULE_PROPOSED)
    with translation.override("en"):
        text = proposal.message(student.school.zone())
    assert "Tuesday, 8 December 2026 13:00" in text  # the old time, 06:00 UTC in WIB
    assert text.endswith("Wednesday, 9 December 2026 14:00.")


def test_a_counselor_cannot_start_a_session_the_student_has_not_consented_to(student, counselor):
    starts_at = NOW + datetime.timedelta(minutes=10)
    session = confirmed_at(student, starts_at, consent_given_at=None)
    assert "start" not in session.actions_for(counselor, now=NOW)
    refused(lambda: session_start(counselor=counselor, session=session, now=NOW), "consent_missing")
    session_consent_give(student=student, session=session, now=NOW)
    session.refresh_from_db()
    assert "start" in session.actions_for(counselor, now=NOW)
    assert session_start(counselor=counselor, session=session, now=NOW).status == "in_progress"


def test_consent_cannot_be_given_to_a_cancelled_session(student):
    session = confirmed_at(student, SLOT, consent_given_at=None, status=Status.CANCELLED)
    refused(lambda: session_consent_give(student=student, session=session), "invalid_transition")


def test_a_second_tap_on_send_returns_the_first_request(student, counselor):
    AvailabilityFactory(counselor=counselor)
    intake = {"mode": "chat", "field": "social", "consent_given": True, "now": NOW}
    first = session_request(student=student, starts_at=SLOT, **intake)
    second = session_request(student=student, starts_at=SLOT, **intake)
    assert first.pk == second.pk
    assert CounselingSession.objects.count() == 1
    assert Notification.objects.filter(kind="session_requested").count() == 1


def test_a_proposed_time_cannot_be_given_to_someone_else(student, counselor, school):
    session = confirmed_at(student, datetime.datetime(2026, 12, 8, 6, 0, tzinfo=UTC))
    proposed = datetime.datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=proposed, now=NOW)
    another = StudentFactory(school=school)
    another.student_profile.counselor = counselor
    another.student_profile.save()
    refused(
        lambda: session_create_for_client(
            counselor=counselor,
            student=another,
            starts_at=proposed,
            minutes=45,
            mode="chat",
            field="social",
            now=NOW,
        ),
        "slot_taken",
    )


def test_a_pending_proposal_is_not_overwritten(student, counselor):
    session = confirmed_at(student, datetime.datetime(2026, 12, 8, 6, 0, tzinfo=UTC))
    first = datetime.datetime(2026, 12, 9, 6, 0, tzinfo=UTC)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=first, now=NOW)
    refused(
        lambda: session_reschedule_propose(
            counselor=counselor, session=session, starts_at=first + datetime.timedelta(days=1)
        ),
        "proposal_pending",
    )


def test_a_session_that_has_begun_cannot_be_moved(student, counselor):
    session = confirmed_at(student, NOW - datetime.timedelta(minutes=5))
    refused(
        lambda: session_reschedule_propose(
            counselor=counselor,
            session=session,
            starts_at=NOW + datetime.timedelta(days=2),
            now=NOW,
        ),
        "session_started",
    )


def test_unanswered_requests_expire_once_and_the_student_is_told(student, counselor):
    past = CounselingSessionFactory(
        student=student, status=Status.REQUESTED, starts_at=NOW - datetime.timedelta(hours=1)
    )
    future = CounselingSessionFactory(
        student=student, status=Status.REQUESTED, starts_at=NOW + datetime.timedelta(days=3)
    )
    assert requests_expire(now=NOW) == 1
    assert requests_expire(now=NOW) == 0
    past.refresh_from_db()
    future.refresh_from_db()
    assert (past.status, future.status) == (Status.DECLINED, Status.REQUESTED)
    assert past.status_reason
    assert SessionEvent.objects.filter(session=past, kind="declined", actor=None).exists()
    assert (
        Notification.objects.filter(user=student, session=past, kind="session_declined").count()
        == 1
    )


def test_the_cron_command_expires_requests_too(student, capsys):
    CounselingSessionFactory(
        student=student,
        status=Status.REQUESTED,
        starts_at=timezone.now() - datetime.timedelta(hours=1),
    )
    call_command("send_reminders")
    assert "1 unanswered request(s) expired" in capsys.readouterr().out
    assert CounselingSession.objects.get().status == Status.DECLINED


@pytest.mark.parametrize(
    ("phone", "href"),
    [
        ("112", "tel:112"),
        ("129 / WhatsApp 08111-129-129", "tel:129"),
        ("119 ext. 8", "tel:119"),
        ("+62 812-3456-7890", "tel:+6281234567890"),
        ("https://healing119.id", ""),
    ],
)
def test_emergency_numbers_become_tap_to_call_links(phone, href):
    assert dial_href(phone) == href


def test_the_help_box_numbers_can_be_tapped(client, student):
    client.force_login(student)
    body = client.get(reverse("sessions:my-sessions")).content.decode()
    assert 'href="tel:112"' in body


def test_the_intake_survives_when_no_free_time_is_left(client, student):
    """The last free time went to someone else: no slots are left to offer, but what the
    student typed is still on the page."""
    client.force_login(student)
    start = (timezone.now() + datetime.timedelta(days=2)).replace(microsecond=0)
    response = client.post(
        reverse("sessions:book"),
        {
            "slot": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "mode": "chat",
            "field": "personal",
            "description": "Tolong, saya butuh bicara.",
            "consent": "on",
        },
    )
    body = response.content.decode()
    assert not response.context["days"]
    assert response.context["form"].non_field_errors()
    assert "Tolong, saya butuh bicara." in body
    assert "Kirim permintaan" not in body
    assert not CounselingSession.objects.exists()


def test_a_far_away_date_in_the_schedule_url_shows_today(client, counselor):
    client.force_login(counselor)
    response = client.get(reverse("sessions:schedule") + "?date=9999-12-31")
    assert response.status_code == 200
    assert response.context["day"] == response.context["today"]


def test_weekly_statistics_only_count_the_weeks_they_list(client, school_admin, student):
    CounselingSessionFactory(
        student=student, starts_at=timezone.now() + datetime.timedelta(days=90)
    )
    client.force_login(school_admin)
    response = client.get(reverse("sessions:statistics"))
    assert sum(count for _week, count in response.context["by_week"]) == 0
    assert response.context["total"] == 1


def test_a_student_can_still_cancel_after_a_declined_proposal(student, counselor):
    session = confirmed_at(student, datetime.datetime(2026, 12, 8, 6, 0, tzinfo=UTC))
    session_reschedule_propose(
        counselor=counselor,
        session=session,
        starts_at=datetime.datetime(2026, 12, 9, 6, 0, tzinfo=UTC),
        now=NOW,
    )
    session_reschedule_answer(student=student, session=session, accept=False, now=NOW)
    cancelled = session_cancel(user=student, session=session, reason="Sakit", now=NOW)
    assert cancelled.status == Status.CANCELLED


def test_blocking_time_warns_about_sessions_already_booked_in_it(client, counselor, student):
    session = CounselingSessionFactory(student=student, status=Status.CONFIRMED)
    day = timezone.localtime(session.starts_at, student.school.zone()).date()
    client.force_login(counselor)
    response = client.post(
        reverse("sessions:availability"),
        {
            "form": "exception",
            "kind": "blocked",
            "first_day": day.isoformat(),
            "session_minutes": 45,
        },
        follow=True,
    )
    warnings = [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "1" in str(warnings[0])
    session.refresh_from_db()
    assert session.status == Status.CONFIRMED  # nothing moves by itself

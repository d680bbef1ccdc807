"""Withdrawing the guardian's consent stops new sessions and questionnaires, and cancels
the sessions still to come (both sides are told)."""

import datetime

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from accounts.services import guardian_consent_record
from instruments.models import Administration, Response
from instruments.selectors import student_open_administrations
from instruments.services import (
    InstrumentError,
    administrations_announce,
    administrations_for_session,
    administrations_schedule,
)
from notifications.models import Notification
from sessions_app.models import CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.services import (
    BookingError,
    session_confirm,
    session_create_for_client,
    session_request,
    session_start,
)
from sessions_app.slots import counselor_slots
from tests.factories import AdministrationFactory, AvailabilityFactory, CounselingSessionFactory
from tests.sessions_app.room_helpers import session_now

pytestmark = pytest.mark.django_db

AMAS_ANSWERS = {f"item_{n}": "3" for n in range(1, 10)}


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def withdraw(client, school_admin, student):
    english(client).force_login(school_admin)
    response = client.post(
        reverse("accounts:account-consent", args=[student.pk]), {"guardian_consent_date": ""}
    )
    assert response.status_code == 302
    student.student_profile.refresh_from_db()
    assert not student.student_profile.has_guardian_consent


@pytest.fixture
def weekly_windows(counselor):
    return [
        AvailabilityFactory(
            counselor=counselor, weekday=day, start_time=datetime.time(8),
            end_time=datetime.time(16),
        )
        for day in range(7)
    ]  # fmt: skip


def first_free_slot(student):
    counselor = student.student_profile.counselor
    return counselor_slots(counselor=counselor, policy=booking_policy_for(student.school))[0]


def test_withdrawal_cancels_sessions_to_come_and_tells_both(
    client, school_admin, student, counselor
):
    upcoming = CounselingSessionFactory(student=student, status="confirmed")
    requested = CounselingSessionFactory(
        student=student,
        status="requested",
        starts_at=upcoming.starts_at + datetime.timedelta(hours=3),
    )
    past = CounselingSessionFactory(
        student=student,
        status="completed",
        starts_at=upcoming.starts_at - datetime.timedelta(days=7),
    )
    withdraw(client, school_admin, student)
    for session in (upcoming, requested):
        session.refresh_from_db()
        assert session.status == "cancelled"
        assert session.events.filter(kind="cancelled", actor=school_admin).exists()
        for person in (student, counselor):
            assert Notification.objects.filter(
                user=person, kind="session_cancelled", session=session
            ).exists()
    past.refresh_from_db()
    assert past.status == "completed"


def test_the_student_cannot_book_and_reads_why(client, school_admin, student, weekly_windows):
    slot = first_free_slot(student)
    withdraw(client, school_admin, student)
    english(client).force_login(student)
    home = client.get(reverse("accounts:student-home")).content.decode()
    assert 'id="guardian-consent-missing"' in home
    data = {"slot": slot.key, "mode": "chat", "field": "learning", "consent": "on"}
    page = client.post(reverse("sessions:book"), data)
    assert page.status_code == 200
    assert "guardian" in " ".join(page.context["form"].non_field_errors())
    assert not CounselingSession.objects.exists()
    with pytest.raises(BookingError) as refused:
        session_request(
            student=student, starts_at=slot.starts_at, mode="chat", field="learning",
            consent_given=True,
        )  # fmt: skip
    assert refused.value.code == "guardian_consent_missing"


def test_a_student_whose_consent_was_never_recorded_cannot_book(student, weekly_windows):
    profile = student.student_profile
    profile.has_guardian_consent, profile.guardian_consent_date = False, None
    profile.save()
    with pytest.raises(BookingError) as refused:
        session_request(
            student=student, starts_at=first_free_slot(student).starts_at, mode="chat",
            field="learning", consent_given=True,
        )  # fmt: skip
    assert refused.value.code == "guardian_consent_missing"


def test_the_counselor_cannot_schedule_confirm_or_start(client, school_admin, student, counselor):
    requested = CounselingSessionFactory(student=student, status="requested")
    withdraw(client, school_admin, student)
    # A request that slipped through (made before the rule) cannot be confirmed either.
    CounselingSession.objects.filter(pk=requested.pk).update(status="requested")
    with pytest.raises(BookingError) as refused:
        session_confirm(counselor=counselor, session=requested)
    assert refused.value.code == "guardian_consent_missing"
    with pytest.raises(BookingError) as refused:
        session_create_for_client(
            counselor=counselor, student=student,
            starts_at=timezone.now() + datetime.timedelta(days=3), minutes=45, mode="chat",
            field="learning",
        )  # fmt: skip
    assert refused.value.code == "guardian_consent_missing"
    now = session_now(student, status="confirmed")
    with pytest.raises(BookingError) as refused:
        session_start(counselor=counselor, session=now)
    assert refused.value.code == "guardian_consent_missing"
    now.refresh_from_db()
    assert now.status == "confirmed"


def test_an_open_questionnaire_cannot_be_answered(client, school_admin, student):
    administration = AdministrationFactory(student=student)
    english(client).force_login(student)
    assert student_open_administrations(student=student) == [administration]
    withdraw(client, school_admin, student)
    english(client).force_login(student)
    url = reverse("instruments:answer", args=[administration.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="questionnaire-refused"' in html
    assert "guardian" in html
    response = client.post(url, AMAS_ANSWERS)
    assert response.status_code == 409
    assert not Response.objects.exists()
    assert student_open_administrations(student=student) == []


def test_no_questionnaire_is_sent_scheduled_or_announced(client, school_admin, student, counselor):
    scheduled = AdministrationFactory(
        student=student, notified_at=None, opens_at=timezone.now() - datetime.timedelta(minutes=5)
    )
    withdraw(client, school_admin, student)
    completed = CounselingSessionFactory(
        student=student, status="completed",
        starts_at=timezone.now() - datetime.timedelta(days=2),
    )  # fmt: skip
    assert administrations_for_session(session=completed) == 0
    with pytest.raises(InstrumentError) as refused:
        administrations_schedule(
            counselor=counselor, student=student, instrument_code="amas", phase="baseline",
            first_date=timezone.localdate(), count=1, interval_days=7, open_days=3,
        )  # fmt: skip
    assert refused.value.code == "guardian_consent_missing"
    assert administrations_announce() == 0
    scheduled.refresh_from_db()
    assert scheduled.notified_at is None
    assert Administration.objects.filter(student=student).count() == 1


def test_consent_given_again_reopens_the_questionnaire(client, school_admin, student):
    administration = AdministrationFactory(student=student)
    withdraw(client, school_admin, student)
    guardian_consent_record(
        admin=school_admin,
        profile=student.student_profile,
        has_consent=True,
        consent_date=timezone.localdate(),
    )
    english(client).force_login(student)
    response = client.post(reverse("instruments:answer", args=[administration.pk]), AMAS_ANSWERS)
    assert response.status_code == 302
    assert Response.objects.filter(administration=administration).count() == 1

"""Booking workflows: who may do what to a session, when, and what each change leaves behind.

`NOW` is Monday 2026-12-07 01:00 UTC (08:00 WIB). The counselor takes sessions on Mondays
13:00–15:00 WIB, which from NOW are the slots 06:00 and 07:00 UTC today and on the next
three Mondays (the default horizon is 28 days, the default notice 2 hours).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.models import User
from notifications.models import Notification
from sessions_app.models import (
    BookingPolicy,
    CounselingSession,
    EmergencyContact,
    SessionEvent,
)
from sessions_app.policy import booking_policy_for, default_consent_text
from sessions_app.services import (
    BookingError,
    session_cancel,
    session_complete,
    session_confirm,
    session_consent_give,
    session_create_for_client,
    session_decline,
    session_mark_no_show,
    session_request,
    session_reschedule_answer,
    session_reschedule_propose,
    session_start,
)
from sessions_app.slots import counselor_slots
from tests.factories import (
    AvailabilityFactory,
    CounselingSessionFactory,
    CounselorFactory,
    SchoolFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
SLOT = datetime.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB
SLOT_2 = datetime.datetime(2026, 12, 7, 7, 0, tzinfo=UTC)  # Monday 14:00 WIB
Status = CounselingSession.Status
Event = SessionEvent.Kind
Kind = Notification.Kind


def utc(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def minutes(n: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


@pytest.fixture
def policy(school):
    return booking_policy_for(school)


@pytest.fixture
def availability(counselor):
    return AvailabilityFactory(counselor=counselor)  # Monday 13:00–15:00, 45 + 15


@pytest.fixture
def client_of(school):
    """Another student of the given counselor."""

    def make(counselor, **kwargs) -> User:
        user = StudentFactory(school=counselor.school, **kwargs)
        user.student_profile.counselor = counselor
        user.student_profile.save()
        return user

    return make


def book(student, starts_at=SLOT, now=NOW, **kwargs) -> CounselingSession:
    kwargs.setdefault("mode", CounselingSession.Mode.CHAT)
    kwargs.setdefault("field", CounselingSession.Field.LEARNING)
    kwargs.setdefault("consent_given", True)
    return session_request(student=student, starts_at=starts_at, now=now, **kwargs)


def session_at(student, starts_at=None, status=Status.CONFIRMED, length=45, **kwargs):
    starts_at = starts_at or utc(8, 6)  # Tuesday 13:00 WIB, 29 hours after NOW
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + minutes(length),
        status=status,
        **kwargs,
    )


def events(session) -> list[tuple[int | None, str]]:
    return list(SessionEvent.objects.filter(session=session).values_list("actor_id", "kind"))


def notifications() -> list[tuple[int, str, int | None]]:
    return list(Notification.objects.order_by("pk").values_list("user_id", "kind", "session_id"))


def assert_refused(call, code: str) -> BookingError:
    with pytest.raises(BookingError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


# --- The model ---------------------------------------------------------------------------


def test_migration_constraints_cover_exactly_the_holding_statuses():
    import importlib

    migration = importlib.import_module("sessions_app.migrations.0002_no_overlapping_sessions")
    statuses = {part.strip(" '") for part in migration.HOLDING.strip("()").split(",")}

    assert statuses == set(CounselingSession.HOLDING_STATUSES)
    assert set(CounselingSession.OPEN_STATUSES) <= statuses
    assert Status.CANCELLED not in statuses
    assert Status.DECLINED not in statuses


def test_database_refuses_a_session_ending_before_it_starts(student):
    with pytest.raises(IntegrityError), transaction.atomic():
        session_at(student, length=0)


def test_database_refuses_a_proposal_ending_before_it_starts(student):
    with pytest.raises(IntegrityError), transaction.atomic():
        session_at(student, proposed_starts_at=utc(9, 3), proposed_ends_at=utc(9, 3))


@pytest.mark.parametrize(
    "half",
    [{"proposed_starts_at": utc(9, 3)}, {"proposed_ends_at": utc(9, 4)}],
    ids=["start-only", "end-only"],
)
def test_database_refuses_half_a_proposal(student, half):
    with pytest.raises(IntegrityError), transaction.atomic():
        session_at(student, **half)


def test_session_properties(student):
    session = session_at(student, status=Status.REQUESTED, length=60)

    assert session.duration == minutes(60)
    assert session.is_open
    assert not session.has_proposal
    session.status = Status.IN_PROGRESS
    assert not session.is_open


# --- Booking policy ----------------------------------------------------------------------


def test_first_policy_lookup_creates_defaults_and_the_national_hotlines(school):
    policy = booking_policy_for(school)

    assert (
        policy.horizon_days,
        policy.min_notice_hours,
        policy.max_open_requests,
        policy.late_cancel_hours,
    ) == (28, 2, 2, 24)
    assert policy.consent_text.strip()
    assert list(
        EmergencyContact.objects.filter(school=school).values_list("phone", flat=True)[:1]
    ) == ["112"]
    assert EmergencyContact.objects.filter(school=school).count() == 3


def test_policy_consent_text_is_in_indonesian_whatever_the_active_language(school):
    from django.utils import translation

    with translation.override("en"):
        policy = booking_policy_for(school)
    with translation.override("id"):
        assert policy.consent_text == default_consent_text()


def test_second_policy_lookup_returns_the_same_policy_and_adds_nothing(school):
    first = booking_policy_for(school)
    first.horizon_days = 10
    first.save()

    again = booking_policy_for(school)

    assert again.pk == first.pk
    assert again.horizon_days == 10
    assert BookingPolicy.objects.count() == 1
    assert EmergencyContact.objects.filter(school=school).count() == 3


def test_school_with_its_own_contacts_keeps_them_when_its_policy_is_created(school):
    EmergencyContact.objects.create(school=school, name="Guru BK", phone="0811")

    booking_policy_for(school)

    assert list(EmergencyContact.objects.filter(school=school).values_list("phone", flat=True)) == [
        "0811"
    ]


def test_each_school_gets_its_own_policy(school, other_school):
    assert booking_policy_for(school).pk != booking_policy_for(other_school).pk


# --- Requesting a session ----------------------------------------------------------------


def test_student_request_creates_a_requested_session_for_their_counselor(
    student, counselor, school, policy, availability
):
    session = book(student, description="  Saya cemas menjelang ujian.  ")

    session.refresh_from_db()
    assert session.status == Status.REQUESTED
    assert (session.student, session.counselor, session.school) == (student, counselor, school)
    assert (session.starts_at, session.ends_at) == (SLOT, SLOT + minutes(45))
    assert session.mode == CounselingSession.Mode.CHAT
    assert session.field == CounselingSession.Field.LEARNING
    assert session.description == "Saya cemas menjelang ujian."
    assert session.consent_text == policy.consent_text
    assert session.consent_given_at == NOW
    assert not session.is_late_cancellation
    assert not session.has_proposal


def test_request_records_an_event_by_the_student(student, availability):
    session = book(student)

    assert events(session) == [(student.pk, Event.REQUESTED)]


def test_request_notifies_the_counselor_and_emails_them_after_commit(
    student, counselor, availability, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = book(student, description="Rahasia: saya dirundung.")

    assert notifications() == [(counselor.pk, Kind.SESSION_REQUESTED, session.pk)]
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [counselor.email]
    assert mail.subject.startswith("RuangBK: ")
    assert "13:00" in mail.body  # the school's wall-clock time, not 06:00 UTC
    assert "06:00" not in mail.body
    assert reverse("sessions:session-detail", args=[session.pk]) in mail.body
    assert "dirundung" not in mail.body  # never what the student wrote


def test_request_email_waits_for_the_commit(
    student, availability, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        book(student)

    assert len(callbacks) == 1
    assert mailoutbox == []


def test_counselor_without_email_gets_the_notification_but_no_email(
    student, counselor, availability, mailoutbox, django_capture_on_commit_callbacks
):
    counselor.email = ""
    counselor.save()

    with django_capture_on_commit_callbacks(execute=True):
        session = book(student)

    assert notifications() == [(counselor.pk, Kind.SESSION_REQUESTED, session.pk)]
    assert mailoutbox == []


def test_student_without_guardian_consent_recorded_cannot_request(student, availability):
    # Counseling a minor needs a guardian's consent (UU PDP); see tests/privacy.
    profile = student.student_profile
    profile.has_guardian_consent, profile.guardian_consent_date = False, None
    profile.save()

    with pytest.raises(BookingError) as refused:
        book(student)

    assert refused.value.code == "guardian_consent_missing"
    assert not CounselingSession.objects.exists()


def test_student_can_request_each_free_slot_start_given_as_any_zone(student, availability):
    import zoneinfo

    local = SLOT.astimezone(zoneinfo.ZoneInfo("Asia/Jakarta"))  # 13:00+07:00

    assert book(student, starts_at=local).starts_at == SLOT


@pytest.mark.parametrize(
    ("starts_at", "now", "code"),
    [
        (NOW - minutes(60), NOW, "slot_in_past"),
        (SLOT, SLOT, "slot_in_past"),  # the start itself is already too late
        (SLOT, SLOT - minutes(119), "slot_too_soon"),  # 1 h 59 min ahead, 2 h needed
        (utc(4, 6, month=1, year=2027), NOW, "slot_too_far"),  # a Monday 28 d + 5 h ahead
        (SLOT + minutes(30), NOW, "slot_unavailable"),  # inside the window, not a slot start
        (utc(8, 6), NOW, "slot_unavailable"),  # Tuesday: no window
        (utc(7, 8), NOW, "slot_unavailable"),  # 15:00 WIB: the window has ended
    ],
    ids=[
        "past",
        "starting-now",
        "too-soon",
        "too-far",
        "not-a-slot-start",
        "no-window",
        "after-window",
    ],
)
def test_request_outside_the_bookable_slots_is_refused(student, availability, starts_at, now, code):
    assert_refused(lambda: book(student, starts_at=starts_at, now=now), code)
    assert CounselingSession.objects.count() == 0
    assert Notification.objects.count() == 0


@pytest.mark.parametrize(
    ("now", "ok"),
    [(SLOT - minutes(120), True), (SLOT - minutes(119), False)],
    ids=["exactly-2h-ahead", "1h59-ahead"],
)
def test_minimum_notice_boundary(student, availability, now, ok):
    if ok:
        assert book(student, now=now).starts_at == SLOT
    else:
        assert_refused(lambda: book(student, now=now), "slot_too_soon")


def test_slot_at_exactly_the_horizon_can_be_booked(student, availability, policy):
    policy.horizon_days = 7
    policy.save()
    # From Monday 06:00 UTC + 7 days is Monday 14 December 06:00 UTC = 13:00 WIB.
    assert book(student, starts_at=utc(14, 6), now=SLOT).starts_at == utc(14, 6)
    assert_refused(
        lambda: book(student, starts_at=utc(14, 7), now=SLOT, mode="video"), "slot_too_far"
    )


def test_slot_held_by_another_students_session_is_taken(
    student, counselor, client_of, availability
):
    session_at(client_of(counselor), SLOT, Status.REQUESTED)

    assert_refused(lambda: book(student), "slot_taken")
    assert CounselingSession.objects.filter(student=student).count() == 0


def test_slot_freed_by_a_declined_session_can_be_requested(
    student, counselor, client_of, availability
):
    session_at(client_of(counselor), SLOT, Status.DECLINED)

    assert book(student).status == Status.REQUESTED


def test_slot_blocked_by_the_students_own_session_elsewhere_is_refused(
    student, other_counselor, availability
):
    CounselingSessionFactory(
        student=student, counselor=other_counselor, starts_at=SLOT, ends_at=SLOT + minutes(45)
    )

    assert_refused(lambda: book(student), "slot_taken")


def test_request_without_consent_is_refused(student, availability):
    assert_refused(lambda: book(student, consent_given=False), "consent_required")
    assert CounselingSession.objects.count() == 0


def test_student_without_a_counselor_cannot_request(student, availability):
    student.student_profile.counselor = None
    student.student_profile.save()

    assert_refused(lambda: book(student), "no_counselor")


def test_student_whose_counselor_was_deactivated_cannot_request(student, counselor, availability):
    counselor.is_active = False
    counselor.save()

    assert_refused(lambda: book(student), "no_counselor")


def test_student_whose_counselor_is_at_another_school_cannot_request(
    student, foreign_counselor, availability
):
    AvailabilityFactory(counselor=foreign_counselor)
    student.student_profile.counselor = foreign_counselor
    student.student_profile.save()

    assert_refused(lambda: book(student), "no_counselor")


@pytest.mark.parametrize("who", ["counselor", "school_admin"])
def test_only_students_can_request(request, who, availability):
    user = request.getfixturevalue(who)

    assert_refused(lambda: book(user), "not_a_student")


def test_deactivated_student_cannot_request(student, availability):
    student.is_active = False
    student.save()

    assert_refused(lambda: book(student), "not_a_student")


def test_student_at_the_open_request_limit_cannot_request_more(student, policy, availability):
    assert policy.max_open_requests == 2
    book(student, starts_at=utc(14, 6))
    book(student, starts_at=utc(21, 6))

    error = assert_refused(lambda: book(student), "too_many_open")
    assert "2" in error.message


def test_open_limit_counts_requested_and_confirmed_sessions(student, policy, availability):
    session_at(student, utc(9, 3), Status.REQUESTED)
    session_at(student, utc(10, 3), Status.CONFIRMED)

    assert_refused(lambda: book(student), "too_many_open")


@pytest.mark.parametrize(
    "status", [Status.CANCELLED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW]
)
def test_closed_sessions_do_not_count_towards_the_open_limit(student, availability, status):
    session_at(student, utc(9, 3), status)
    session_at(student, utc(10, 3), status)

    assert book(student).status == Status.REQUESTED


def test_open_sessions_already_over_do_not_count_towards_the_limit(student, availability):
    session_at(student, NOW - minutes(120), Status.CONFIRMED)
    session_at(student, NOW - minutes(45), Status.REQUESTED)  # ends exactly at NOW

    assert book(student).status == Status.REQUESTED


def test_raised_open_limit_allows_more_requests(student, policy, availability):
    policy.max_open_requests = 3
    policy.save()
    book(student, starts_at=utc(14, 6))
    book(student, starts_at=utc(21, 6))

    assert book(student).status == Status.REQUESTED


def test_request_with_an_unknown_mode_is_refused_and_saves_nothing(student, availability):
    with pytest.raises(ValidationError):
        book(student, mode="telepathy")

    assert CounselingSession.objects.count() == 0
    assert SessionEvent.objects.count() == 0


def test_request_description_longer_than_1000_characters_is_refused(student, availability):
    with pytest.raises(ValidationError):
        book(student, description="a" * 1001)

    assert CounselingSession.objects.count() == 0


def test_request_uses_the_policy_consent_text_at_the_time(student, policy, availability):
    policy.consent_text = "Versi 2 persetujuan."
    policy.save()

    assert book(student).consent_text == "Versi 2 persetujuan."


# --- A counselor schedules a session with a client ---------------------------------------


def create_for(counselor, student, starts_at=None, length=60, **kwargs):
    kwargs.setdefault("mode", CounselingSession.Mode.VIDEO)
    kwargs.setdefault("field", CounselingSession.Field.CAREER)
    kwargs.setdefault("now", NOW)
    return session_create_for_client(
        counselor=counselor,
        student=student,
        starts_at=starts_at or utc(8, 3),
        minutes=length,
        **kwargs,
    )


def test_counselor_creates_a_confirmed_session_with_their_client(
    counselor, student, school, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        session = create_for(counselor, student, description=" Rencana kuliah ")

    session.refresh_from_db()
    assert session.status == Status.CONFIRMED
    assert (session.student, session.counselor, session.school) == (student, counselor, school)
    assert (session.starts_at, session.ends_at) == (utc(8, 3), utc(8, 4))
    assert session.description == "Rencana kuliah"
    assert session.consent_given_at is None  # the student agrees on the session's page
    assert events(session) == [(counselor.pk, Event.CREATED)]
    assert notifications() == [(student.pk, Kind.SESSION_CREATED, session.pk)]
    assert [mail.to for mail in mailoutbox] == [[student.email]]


def test_counselor_may_schedule_outside_their_windows_and_notice(counselor, student):
    # No availability at all, 10 minutes ahead: the counselor agreed it with the student.
    session = create_for(counselor, student, starts_at=NOW + minutes(10), length=30)

    assert session.ends_at == NOW + minutes(40)


@pytest.mark.parametrize("who", ["other_student", "foreign_student", "school_admin", "counselor"])
def test_counselor_cannot_schedule_with_someone_who_is_not_their_client(
    request,
    counselor,
    who,
):
    someone = request.getfixturevalue(who)

    assert_refused(lambda: create_for(counselor, someone), "not_your_client")
    assert CounselingSession.objects.count() == 0


@pytest.mark.parametrize("length", [0, -45, 50])
def test_counselor_cannot_schedule_a_session_without_length(counselor, student, length):
    assert_refused(lambda: create_for(counselor, student, length=length), "invalid_length")

    assert CounselingSession.objects.count() == 0


def test_counselor_cannot_schedule_with_a_deactivated_client(counselor, student):
    student.is_active = False
    student.save()

    assert_refused(lambda: create_for(counselor, student), "not_your_client")


def test_counselor_cannot_schedule_in_the_past(counselor, student):
    assert_refused(lambda: create_for(counselor, student, starts_at=NOW), "slot_in_past")


def test_counselor_cannot_schedule_over_their_own_session(counselor, student, client_of):
    session_at(client_of(counselor), utc(8, 3, 30), Status.REQUESTED)

    assert_refused(lambda: create_for(counselor, student), "slot_taken")


def test_counselor_cannot_schedule_over_the_students_other_session(
    counselor, other_counselor, student
):
    CounselingSessionFactory(
        student=student, counselor=other_counselor, starts_at=utc(8, 3), ends_at=utc(8, 3, 45)
    )

    assert_refused(lambda: create_for(counselor, student), "student_busy")


def test_counselor_may_schedule_back_to_back(counselor, student, client_of):
    session_at(client_of(counselor), utc(8, 2), length=60)  # 02:00–03:00

    assert create_for(counselor, student).starts_at == utc(8, 3)


def test_student_gives_consent_to_a_session_their_counselor_created(counselor, student, policy):
    session = create_for(counselor, student)

    session = session_consent_give(student=student, session=session, now=utc(7, 5))

    session.refresh_from_db()
    assert session.consent_text == policy.consent_text
    assert session.consent_given_at == utc(7, 5)


def test_consent_given_twice_keeps_the_first_time(counselor, student):
    session = create_for(counselor, student)
    session_consent_give(student=student, session=session, now=utc(7, 5))

    session_consent_give(student=student, session=session, now=utc(7, 6))

    session.refresh_from_db()
    assert session.consent_given_at == utc(7, 5)


@pytest.mark.parametrize("who", ["counselor", "other_student"])
def test_only_the_student_can_give_consent(request, counselor, student, who):
    session = create_for(counselor, student)
    user = request.getfixturevalue(who)

    assert_refused(lambda: session_consent_give(student=user, session=session), "not_allowed")
    session.refresh_from_db()
    assert session.consent_given_at is None


# --- Allowed transitions -----------------------------------------------------------------


def test_counselor_confirms_a_request(
    counselor, student, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student, status=Status.REQUESTED)

    with django_capture_on_commit_callbacks(execute=True):
        result = session_confirm(counselor=counselor, session=session, now=NOW)

    session.refresh_from_db()
    assert result.status == session.status == Status.CONFIRMED
    assert events(session) == [(counselor.pk, Event.CONFIRMED)]
    assert notifications() == [(student.pk, Kind.SESSION_CONFIRMED, session.pk)]
    assert [mail.to for mail in mailoutbox] == [[student.email]]


def test_request_whose_time_has_passed_cannot_be_confirmed(counselor, student):
    session = session_at(student, status=Status.REQUESTED)

    assert_refused(
        lambda: session_confirm(counselor=counselor, session=session, now=session.starts_at),
        "session_past",
    )
    session.refresh_from_db()
    assert session.status == Status.REQUESTED


def test_counselor_declines_a_request_with_a_reason(counselor, student):
    session = session_at(student, status=Status.REQUESTED)

    session_decline(counselor=counselor, session=session, reason="  Saya sedang dinas luar.  ")

    session.refresh_from_db()
    assert session.status == Status.DECLINED
    assert session.status_reason == "Saya sedang dinas luar."
    assert list(SessionEvent.objects.values_list("actor_id", "kind", "detail")) == [
        (counselor.pk, Event.DECLINED, "Saya sedang dinas luar.")
    ]
    assert notifications() == [(student.pk, Kind.SESSION_DECLINED, session.pk)]


def test_decline_reason_is_cut_to_500_characters(counselor, student):
    session = session_at(student, status=Status.REQUESTED)

    session_decline(counselor=counselor, session=session, reason="x" * 600)

    session.refresh_from_db()
    assert session.status_reason == "x" * 500


@pytest.mark.parametrize("status", [Status.REQUESTED, Status.CONFIRMED])
def test_student_cancels_an_open_session_and_the_counselor_is_told(
    counselor, student, status, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student, status=status)

    with django_capture_on_commit_callbacks(execute=True):
        session_cancel(user=student, session=session, reason="Sakit", now=NOW)

    session.refresh_from_db()
    assert session.status == Status.CANCELLED
    assert session.status_reason == "Sakit"
    assert list(SessionEvent.objects.values_list("actor_id", "kind", "detail")) == [
        (student.pk, Event.CANCELLED, "Sakit")
    ]
    assert notifications() == [(counselor.pk, Kind.SESSION_CANCELLED, session.pk)]
    assert [mail.to for mail in mailoutbox] == [[counselor.email]]


def test_counselor_cancels_with_a_reason_and_the_student_is_told(counselor, student):
    session = session_at(student)

    session_cancel(user=counselor, session=session, reason="Rapat mendadak", now=NOW)

    session.refresh_from_db()
    assert session.status == Status.CANCELLED
    assert session.status_reason == "Rapat mendadak"
    assert events(session) == [(counselor.pk, Event.CANCELLED)]
    assert notifications() == [(student.pk, Kind.SESSION_CANCELLED, session.pk)]


@pytest.mark.parametrize(
    ("hours_ahead", "late"),
    [(48, False), (24, False), (23.99, True), (1, True)],
    ids=["48h", "exactly-24h", "just-under-24h", "1h"],
)
def test_cancellation_inside_the_late_cancel_window_is_flagged(
    counselor, student, policy, hours_ahead, late
):
    assert policy.late_cancel_hours == 24
    session = session_at(student)
    now = session.starts_at - datetime.timedelta(hours=hours_ahead)

    session_cancel(user=student, session=session, reason="Ada ujian", now=now)

    session.refresh_from_db()
    assert session.is_late_cancellation is late


def test_late_cancel_window_follows_the_policy(counselor, student, policy):
    policy.late_cancel_hours = 0
    policy.save()
    session = session_at(student)

    session_cancel(
        user=student, session=session, reason="Ada ujian", now=session.starts_at - minutes(1)
    )

    session.refresh_from_db()
    assert session.is_late_cancellation is False


def test_cancelling_clears_a_pending_proposal(counselor, student):
    session = session_at(student, proposed_starts_at=utc(9, 3), proposed_ends_at=utc(9, 3, 45))

    session_cancel(user=student, session=session, reason="Tidak bisa", now=NOW)

    session.refresh_from_db()
    assert (session.proposed_starts_at, session.proposed_ends_at) == (None, None)


def test_session_whose_time_has_begun_cannot_be_cancelled(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_cancel(
            user=student, session=session, reason="Terlambat", now=session.starts_at
        ),
        "session_started",
    )


@pytest.mark.parametrize(
    "early", [minutes(15), minutes(1), minutes(0), -minutes(44)], ids=["15", "1", "0", "-44"]
)
def test_counselor_starts_a_confirmed_session_from_15_minutes_before(
    counselor, student, early, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student)

    with django_capture_on_commit_callbacks(execute=True):
        session_start(counselor=counselor, session=session, now=session.starts_at - early)

    session.refresh_from_db()
    assert session.status == Status.IN_PROGRESS
    assert events(session) == [(counselor.pk, Event.STARTED)]
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_session_cannot_be_started_more_than_15_minutes_early(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_start(
            counselor=counselor, session=session, now=session.starts_at - minutes(16)
        ),
        "too_early",
    )


def test_session_cannot_be_started_once_its_time_is_over(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_start(counselor=counselor, session=session, now=session.ends_at),
        "session_over",
    )


def test_starting_a_session_drops_its_pending_proposal(counselor, student, availability):
    policy = booking_policy_for(student.school)
    session = session_at(
        student,
        starts_at=utc(7, 3),
        proposed_starts_at=SLOT_2,
        proposed_ends_at=SLOT_2 + minutes(45),
    )

    session_start(counselor=counselor, session=session, now=utc(7, 3))
    session_complete(counselor=counselor, session=session)

    free = counselor_slots(counselor=counselor, policy=policy, now=utc(7, 3, 45))
    assert SLOT_2 in [slot.starts_at for slot in free]
    session.refresh_from_db()
    assert (session.proposed_starts_at, session.proposed_ends_at) == (None, None)


def test_counselor_completes_a_session_in_progress(counselor, student):
    session = session_at(student, status=Status.IN_PROGRESS)

    session_complete(counselor=counselor, session=session)

    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert events(session) == [(counselor.pk, Event.COMPLETED)]


@pytest.mark.parametrize("after", [minutes(0), minutes(10), minutes(600)])
def test_counselor_marks_a_no_show_from_the_start_time(counselor, student, after):
    session = session_at(student, proposed_starts_at=utc(9, 3), proposed_ends_at=utc(9, 3, 45))

    session_mark_no_show(counselor=counselor, session=session, now=session.starts_at + after)

    session.refresh_from_db()
    assert session.status == Status.NO_SHOW
    assert session.proposed_starts_at is None
    assert events(session) == [(counselor.pk, Event.NO_SHOW)]


def test_no_show_cannot_be_marked_before_the_start(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_mark_no_show(
            counselor=counselor, session=session, now=session.starts_at - minutes(1)
        ),
        "not_started_yet",
    )


def test_reschedule_proposal_then_acceptance_moves_the_session(
    counselor, student, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student)  # Tuesday 8 December 13:00 WIB
    new_start = utc(9, 3)  # Wednesday 9 December 10:00 WIB

    with django_capture_on_commit_callbacks(execute=True):
        session_reschedule_propose(
            counselor=counselor, session=session, starts_at=new_start, now=NOW
        )
    session.refresh_from_db()
    assert (session.starts_at, session.proposed_starts_at, session.proposed_ends_at) == (
        utc(8, 6),
        new_start,
        new_start + minutes(45),
    )
    assert list(SessionEvent.objects.values_list("actor_id", "kind", "detail")) == [
        (counselor.pk, Event.RESCHEDULE_PROPOSED, "2026-12-09 10:00")
    ]

    with django_capture_on_commit_callbacks(execute=True):
        session_reschedule_answer(student=student, session=session, accept=True, now=NOW)

    session.refresh_from_db()
    assert session.status == Status.CONFIRMED
    assert (session.starts_at, session.ends_at) == (new_start, new_start + minutes(45))
    assert (session.proposed_starts_at, session.proposed_ends_at) == (None, None)
    assert events(session)[-1] == (student.pk, Event.RESCHEDULE_ACCEPTED)
    assert notifications() == [
        (student.pk, Kind.RESCHEDULE_PROPOSED, session.pk),
        (counselor.pk, Kind.RESCHEDULE_ACCEPTED, session.pk),
    ]
    assert [mail.to for mail in mailoutbox] == [[student.email], [counselor.email]]


def test_rejecting_a_proposal_keeps_the_time(counselor, student):
    session = session_at(student)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=utc(9, 3), now=NOW)

    session_reschedule_answer(student=student, session=session, accept=False, now=NOW)

    session.refresh_from_db()
    assert (session.starts_at, session.ends_at) == (utc(8, 6), utc(8, 6, 45))
    assert (session.proposed_starts_at, session.proposed_ends_at) == (None, None)
    assert [kind for _, kind in events(session)] == [
        Event.RESCHEDULE_PROPOSED,
        Event.RESCHEDULE_REJECTED,
    ]
    assert notifications()[-1] == (counselor.pk, Kind.RESCHEDULE_REJECTED, session.pk)


def test_session_may_move_to_a_time_overlapping_its_own(counselor, student):
    session = session_at(student)
    session_reschedule_propose(
        counselor=counselor, session=session, starts_at=session.starts_at + minutes(30), now=NOW
    )

    session_reschedule_answer(student=student, session=session, accept=True, now=NOW)

    session.refresh_from_db()
    assert session.starts_at == utc(8, 6, 30)


def test_proposal_keeps_the_sessions_length(counselor, student):
    session = session_at(student, length=60)

    session_reschedule_propose(counselor=counselor, session=session, starts_at=utc(9, 3), now=NOW)

    session.refresh_from_db()
    assert session.proposed_ends_at == utc(9, 4)


def test_proposal_of_the_current_time_is_refused(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_reschedule_propose(
            counselor=counselor, session=session, starts_at=session.starts_at, now=NOW
        ),
        "same_time",
    )


def test_proposal_in_the_past_is_refused(counselor, student):
    session = session_at(student)

    assert_refused(
        lambda: session_reschedule_propose(
            counselor=counselor, session=session, starts_at=NOW, now=NOW
        ),
        "slot_in_past",
    )


def test_proposal_over_another_of_the_counselors_sessions_is_refused(counselor, student, client_of):
    session = session_at(student)
    session_at(client_of(counselor), utc(9, 3))

    assert_refused(
        lambda: session_reschedule_propose(
            counselor=counselor, session=session, starts_at=utc(9, 3, 30), now=NOW
        ),
        "slot_taken",
    )
    session.refresh_from_db()
    assert not session.has_proposal


def test_proposal_over_the_students_other_session_is_refused(counselor, other_counselor, student):
    session = session_at(student)
    CounselingSessionFactory(
        student=student, counselor=other_counselor, starts_at=utc(9, 3), ends_at=utc(9, 3, 45)
    )

    assert_refused(
        lambda: session_reschedule_propose(
            counselor=counselor, session=session, starts_at=utc(9, 3), now=NOW
        ),
        "student_busy",
    )


def test_accepting_a_proposal_whose_time_was_taken_meanwhile_is_refused(
    counselor, student, client_of
):
    session = session_at(student)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=utc(9, 3), now=NOW)
    session_at(client_of(counselor), utc(9, 3))  # e.g. scheduled by another path

    assert_refused(
        lambda: session_reschedule_answer(student=student, session=session, accept=True, now=NOW),
        "slot_taken",
    )
    session.refresh_from_db()
    assert session.starts_at == utc(8, 6)
    assert session.proposed_starts_at == utc(9, 3)  # the student can still reject it


def test_accepting_a_proposal_whose_time_has_passed_is_refused(counselor, student):
    session = session_at(student, starts_at=utc(10, 6))
    session_reschedule_propose(counselor=counselor, session=session, starts_at=utc(8, 3), now=NOW)

    assert_refused(
        lambda: session_reschedule_answer(
            student=student, session=session, accept=True, now=utc(8, 3)
        ),
        "slot_in_past",
    )


def test_answer_without_a_proposal_is_refused(student):
    session = session_at(student)

    assert_refused(
        lambda: session_reschedule_answer(student=student, session=session, accept=True, now=NOW),
        "no_proposal",
    )


def test_proposal_on_a_cancelled_session_cannot_be_answered(student):
    session = session_at(
        student, status=Status.CANCELLED, proposed_starts_at=utc(9, 3), proposed_ends_at=utc(9, 4)
    )

    assert_refused(
        lambda: session_reschedule_answer(student=student, session=session, accept=True, now=NOW),
        "no_proposal",
    )


# --- Forbidden transitions ---------------------------------------------------------------


def confirm(actor, session):
    return session_confirm(counselor=actor, session=session, now=NOW)


def decline(actor, session):
    return session_decline(counselor=actor, session=session, reason="Bentrok jadwal")


def decline_without_reason(actor, session):
    return session_decline(counselor=actor, session=session, reason="   ")


def cancel(actor, session):
    return session_cancel(user=actor, session=session, reason="Berhalangan", now=NOW)


def cancel_without_reason(actor, session):
    return session_cancel(user=actor, session=session, reason="", now=NOW)


def start(actor, session):
    return session_start(counselor=actor, session=session, now=session.starts_at)


def complete(actor, session):
    return session_complete(counselor=actor, session=session)


def no_show(actor, session):
    return session_mark_no_show(counselor=actor, session=session, now=session.ends_at)


def propose(actor, session):
    return session_reschedule_propose(
        counselor=actor, session=session, starts_at=utc(9, 3), now=NOW
    )


def answer(actor, session):
    return session_reschedule_answer(student=actor, session=session, accept=True, now=NOW)


def consent(actor, session):
    return session_consent_give(student=actor, session=session, now=NOW)


FORBIDDEN = [
    # (action, actor fixture, session status, expected code)
    (confirm, "student", Status.REQUESTED, "not_allowed"),
    (confirm, "other_counselor", Status.REQUESTED, "not_allowed"),
    (confirm, "school_admin", Status.REQUESTED, "not_allowed"),
    (confirm, "foreign_counselor", Status.REQUESTED, "not_allowed"),
    (confirm, "counselor", Status.CONFIRMED, "invalid_transition"),
    (confirm, "counselor", Status.DECLINED, "invalid_transition"),
    (confirm, "counselor", Status.CANCELLED, "invalid_transition"),
    (confirm, "counselor", Status.IN_PROGRESS, "invalid_transition"),
    (confirm, "counselor", Status.COMPLETED, "invalid_transition"),
    (confirm, "counselor", Status.NO_SHOW, "invalid_transition"),
    (decline, "student", Status.REQUESTED, "not_allowed"),
    (decline, "other_counselor", Status.REQUESTED, "not_allowed"),
    (decline, "counselor", Status.CONFIRMED, "invalid_transition"),
    (decline, "counselor", Status.DECLINED, "invalid_transition"),
    (decline, "counselor", Status.CANCELLED, "invalid_transition"),
    (decline_without_reason, "counselor", Status.REQUESTED, "reason_required"),
    (cancel, "other_student", Status.CONFIRMED, "not_allowed"),
    (cancel, "other_counselor", Status.CONFIRMED, "not_allowed"),
    (cancel, "school_admin", Status.CONFIRMED, "not_allowed"),
    (cancel, "foreign_student", Status.REQUESTED, "not_allowed"),
    (cancel, "student", Status.CANCELLED, "invalid_transition"),
    (cancel, "student", Status.DECLINED, "invalid_transition"),
    (cancel, "counselor", Status.IN_PROGRESS, "invalid_transition"),
    (cancel, "counselor", Status.COMPLETED, "invalid_transition"),
    (cancel, "counselor", Status.NO_SHOW, "invalid_transition"),
    (cancel_without_reason, "student", Status.CONFIRMED, "reason_required"),
    (cancel_without_reason, "counselor", Status.REQUESTED, "reason_required"),
    (start, "student", Status.CONFIRMED, "not_allowed"),
    (start, "other_counselor", Status.CONFIRMED, "not_allowed"),
    (start, "counselor", Status.REQUESTED, "invalid_transition"),
    (start, "counselor", Status.IN_PROGRESS, "invalid_transition"),
    (start, "counselor", Status.CANCELLED, "invalid_transition"),
    (start, "counselor", Status.DECLINED, "invalid_transition"),
    (start, "counselor", Status.COMPLETED, "invalid_transition"),
    (complete, "student", Status.IN_PROGRESS, "not_allowed"),
    (complete, "other_counselor", Status.IN_PROGRESS, "not_allowed"),
    (complete, "counselor", Status.CANCELLED, "invalid_transition"),
    (complete, "counselor", Status.CONFIRMED, "invalid_transition"),
    (complete, "counselor", Status.REQUESTED, "invalid_transition"),
    (complete, "counselor", Status.COMPLETED, "invalid_transition"),
    (no_show, "student", Status.CONFIRMED, "not_allowed"),
    (no_show, "other_counselor", Status.CONFIRMED, "not_allowed"),
    (no_show, "counselor", Status.REQUESTED, "invalid_transition"),
    (no_show, "counselor", Status.IN_PROGRESS, "invalid_transition"),
    (no_show, "counselor", Status.COMPLETED, "invalid_transition"),
    (no_show, "counselor", Status.CANCELLED, "invalid_transition"),
    (propose, "student", Status.CONFIRMED, "not_allowed"),
    (propose, "other_counselor", Status.CONFIRMED, "not_allowed"),
    (propose, "counselor", Status.REQUESTED, "invalid_transition"),
    (propose, "counselor", Status.IN_PROGRESS, "invalid_transition"),
    (propose, "counselor", Status.CANCELLED, "invalid_transition"),
    (answer, "counselor", Status.CONFIRMED, "not_allowed"),
    (answer, "other_student", Status.CONFIRMED, "not_allowed"),
    (consent, "other_student", Status.CONFIRMED, "not_allowed"),
]


@pytest.mark.parametrize(
    ("action", "actor", "status", "code"),
    FORBIDDEN,
    ids=[f"{a.__name__}-by-{who}-on-{status}" for a, who, status, _ in FORBIDDEN],
)
def test_forbidden_change_is_refused_and_leaves_no_trace(
    request,
    student,
    action,
    actor,
    status,
    code,
):
    # A pending proposal, so that answering it would otherwise be allowed.
    session = session_at(
        student, status=status, proposed_starts_at=utc(9, 3), proposed_ends_at=utc(9, 3, 45)
    )
    user = request.getfixturevalue(actor)

    assert_refused(lambda: action(user, session), code)

    session.refresh_from_db()
    assert session.status == status
    assert (session.starts_at, session.proposed_starts_at) == (utc(8, 6), utc(9, 3))
    assert SessionEvent.objects.count() == 0
    assert Notification.objects.count() == 0


def test_service_rereads_the_session_before_changing_it(counselor, student):
    """A stale copy (the student cancelled meanwhile) cannot be confirmed."""
    session = session_at(student, status=Status.REQUESTED)
    stale = CounselingSession.objects.get(pk=session.pk)
    session_cancel(user=student, session=session, reason="Tidak jadi", now=NOW)

    assert_refused(
        lambda: session_confirm(counselor=counselor, session=stale, now=NOW), "invalid_transition"
    )


# --- A whole life, event by event --------------------------------------------------------


def test_full_lifecycle_records_each_change_with_its_actor(counselor, student, availability):
    session = book(student)
    session_confirm(counselor=counselor, session=session, now=NOW)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=SLOT_2, now=NOW)
    session_reschedule_answer(student=student, session=session, accept=True, now=NOW)
    session_start(counselor=counselor, session=session, now=SLOT_2 - minutes(5))
    session_complete(counselor=counselor, session=session)

    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert events(session) == [
        (student.pk, Event.REQUESTED),
        (counselor.pk, Event.CONFIRMED),
        (counselor.pk, Event.RESCHEDULE_PROPOSED),
        (student.pk, Event.RESCHEDULE_ACCEPTED),
        (counselor.pk, Event.STARTED),
        (counselor.pk, Event.COMPLETED),
    ]
    assert [(user, kind) for user, kind, _ in notifications()] == [
        (counselor.pk, Kind.SESSION_REQUESTED),
        (student.pk, Kind.SESSION_CONFIRMED),
        (student.pk, Kind.RESCHEDULE_PROPOSED),
        (counselor.pk, Kind.RESCHEDULE_ACCEPTED),
        (student.pk, Kind.QUESTIONNAIRES_READY),
    ]


def test_cancelled_request_frees_the_slot_for_another_student(
    counselor, student, client_of, availability
):
    session = book(student)
    session_cancel(user=student, session=session, reason="Tidak jadi", now=NOW)

    other = book(client_of(counselor))

    assert other.starts_at == SLOT


def test_wita_school_books_in_its_own_wall_clock_time(school, client_of):
    wita = SchoolFactory(time_zone="Asia/Makassar")
    counselor = CounselorFactory(school=wita)
    AvailabilityFactory(counselor=counselor)  # Monday 13:00–15:00 WITA = 05:00 UTC
    student = client_of(counselor)

    assert_refused(lambda: book(student, starts_at=SLOT + minutes(60)), "slot_unavailable")
    assert book(student, starts_at=utc(7, 5)).ends_at == utc(7, 5, 45)

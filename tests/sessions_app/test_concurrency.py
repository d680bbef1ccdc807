"""Double booking under real concurrency, and the database's own veto (PostgreSQL only).

Threads are lined up on a barrier and fire at once, each on its own connection. The
services lock the people involved, so the losers see the winner; the exclusion
constraints of migration 0002 refuse overlaps whatever code path writes a session.
"""

import datetime

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from sessions_app.models import (
    AvailabilityException,
    BookingPolicy,
    CounselingSession,
    EmergencyContact,
)
from sessions_app.policy import booking_policy_for
from sessions_app.services import (
    BookingError,
    session_create_for_client,
    session_request,
    session_reschedule_propose,
)
from tests.factories import (
    AvailabilityFactory,
    CounselingSessionFactory,
    CounselorFactory,
    SchoolFactory,
    StudentFactory,
)
from tests.threads import run_at_once

pytestmark = pytest.mark.requires_postgres

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
SLOT = datetime.datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # Monday 13:00 WIB
Status = CounselingSession.Status


def minutes(n: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=n)


def clients_of(counselor, count: int) -> list[User]:
    students = []
    for _ in range(count):
        student = StudentFactory(school=counselor.school)
        student.student_profile.counselor = counselor
        student.student_profile.save()
        students.append(student)
    return students


def codes(results) -> list[str]:
    return sorted(r.code if isinstance(r, BookingError) else repr(r) for r in results)


def request_call(student, starts_at=SLOT, **kwargs):
    return lambda: session_request(
        student=student,
        starts_at=starts_at,
        mode="chat",
        field="personal",
        consent_given=True,
        now=NOW,
        **kwargs,
    )


@pytest.fixture
def booking():
    """A counselor with the Monday 13:00–15:00 WIB window and a policy already made."""
    school = SchoolFactory()
    counselor = CounselorFactory(school=school)
    AvailabilityFactory(counselor=counselor)
    booking_policy_for(school)
    return counselor


# --- Real threads --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_four_students_racing_for_one_slot_leave_exactly_one_session(booking):
    students = clients_of(booking, 24)

    results = run_at_once([request_call(student) for student in students])

    winners = [r for r in results if isinstance(r, CounselingSession)]
    assert len(winners) == 1
    assert codes(results) == sorted(["slot_taken"] * 23 + [repr(winners[0])])
    assert CounselingSession.objects.count() == 1
    session = CounselingSession.objects.get()
    assert (session.pk, session.starts_at, session.status) == (
        winners[0].pk,
        SLOT,
        Status.REQUESTED,
    )
    assert session.events.count() == 1


@pytest.mark.django_db(transaction=True)
def test_students_racing_for_overlapping_slots_of_two_windows_leave_one_session(booking):
    # An extra window on top of the weekly one: 06:30–07:15 UTC overlaps 06:00–06:45.
    AvailabilityException.objects.create(
        counselor=booking,
        kind=AvailabilityException.Kind.EXTRA,
        starts_at=SLOT + minutes(30),
        ends_at=SLOT + minutes(75),
    )
    students = clients_of(booking, 20)

    results = run_at_once(
        [
            request_call(student, starts_at=SLOT + minutes(30 * (n % 2)))
            for n, student in enumerate(students)
        ]
    )

    assert len([r for r in results if isinstance(r, CounselingSession)]) == 1
    assert [c for c in codes(results) if not c.startswith("<")] == ["slot_taken"] * 19
    assert CounselingSession.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_student_racing_past_the_open_request_limit_gets_only_the_limit(booking):
    (student,) = clients_of(booking, 1)
    mondays = [
        SLOT + datetime.timedelta(days=7 * week, hours=h) for week in range(4) for h in (0, 1)
    ]

    results = run_at_once([request_call(student, starts_at=start) for start in mondays])

    limit = BookingPolicy.objects.get(school=booking.school).max_open_requests
    assert limit == 2
    assert CounselingSession.objects.filter(student=student).count() == 2
    assert [c for c in codes(results) if not c.startswith("<")] == ["too_many_open"] * 6


@pytest.mark.django_db(transaction=True)
def test_counselor_scheduling_and_students_requesting_at_once_leave_one_session(booking):
    students = clients_of(booking, 12)
    create = [
        lambda student=student: session_create_for_client(
            counselor=booking,
            student=student,
            starts_at=SLOT + minutes(10),
            minutes=30,
            mode="video",
            field="career",
            now=NOW,
        )
        for student in students[:6]
    ]

    results = run_at_once(create + [request_call(student) for student in students[6:]])

    assert len([r for r in results if isinstance(r, CounselingSession)]) == 1
    assert [c for c in codes(results) if not c.startswith("<")] == ["slot_taken"] * 11
    assert CounselingSession.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_proposals_racing_for_the_same_new_time_leave_only_one(booking):
    """A proposed time is kept free for the student who is asked, so two proposals for
    one time can never both stand (and so never both be accepted)."""
    first, second = clients_of(booking, 2)
    new_start = SLOT + datetime.timedelta(days=1)
    sessions = [
        CounselingSessionFactory(
            student=student,
            starts_at=SLOT + datetime.timedelta(days=2, hours=n),
            ends_at=SLOT + datetime.timedelta(days=2, hours=n, minutes=45),
        )
        for n, student in enumerate((first, second))
    ]

    results = run_at_once(
        [
            lambda s=session: session_reschedule_propose(
                counselor=booking, session=s, starts_at=new_start, now=NOW
            )
            for session in sessions
        ]
    )

    assert [c for c in codes(results) if not c.startswith("<")] == ["slot_taken"]
    assert CounselingSession.objects.filter(proposed_starts_at=new_start).count() == 1


@pytest.mark.django_db(transaction=True)
def test_first_policy_lookups_racing_create_one_policy_and_one_set_of_hotlines():
    school = SchoolFactory()

    results = run_at_once([lambda: booking_policy_for(school) for _ in range(10)])

    assert {r.pk for r in results if isinstance(r, BookingPolicy)} == {
        BookingPolicy.objects.get(school=school).pk
    }
    assert all(isinstance(r, BookingPolicy) for r in results), results
    assert EmergencyContact.objects.filter(school=school).count() == 3


# --- The database's veto -------------------------------------------------------------------


def holding(student, starts_at, status=Status.CONFIRMED, length=45, **kwargs):
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + minutes(length),
        status=status,
        **kwargs,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("status", CounselingSession.HOLDING_STATUSES)
def test_database_refuses_an_overlapping_session_for_the_same_counselor(booking, status):
    first, second = clients_of(booking, 2)
    holding(first, SLOT, status)

    with pytest.raises(IntegrityError, match="session_counselor_no_overlap"), transaction.atomic():
        holding(second, SLOT + minutes(30), Status.REQUESTED)


@pytest.mark.django_db
def test_database_refuses_an_overlapping_session_for_the_same_student(booking):
    (student,) = clients_of(booking, 1)
    holding(student, SLOT)
    elsewhere = CounselorFactory(school=booking.school)

    with pytest.raises(IntegrityError, match="session_student_no_overlap"), transaction.atomic():
        CounselingSessionFactory(
            student=student, counselor=elsewhere, starts_at=SLOT, ends_at=SLOT + minutes(60)
        )


@pytest.mark.django_db
def test_database_allows_back_to_back_sessions(booking):
    first, second = clients_of(booking, 2)
    holding(first, SLOT, length=60)

    holding(second, SLOT + minutes(60))

    assert CounselingSession.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.CANCELLED, Status.DECLINED])
def test_cancelled_or_declined_session_does_not_block_the_database(booking, status):
    first, second = clients_of(booking, 2)
    holding(first, SLOT, status)

    holding(second, SLOT, Status.REQUESTED)
    holding(first, SLOT + minutes(10), status)  # a second released one overlaps nothing held

    assert CounselingSession.objects.filter(status=Status.REQUESTED).count() == 1


@pytest.mark.django_db
def test_database_refuses_reviving_a_cancelled_session_over_a_held_time(booking):
    first, second = clients_of(booking, 2)
    cancelled = holding(first, SLOT, Status.CANCELLED)
    holding(second, SLOT, Status.CONFIRMED)

    cancelled.status = Status.CONFIRMED
    with pytest.raises(IntegrityError, match="no_overlap"), transaction.atomic():
        cancelled.save()


@pytest.mark.django_db
def test_database_refuses_moving_a_session_onto_another(booking):
    first, second = clients_of(booking, 2)
    holding(first, SLOT)
    later = holding(second, SLOT + minutes(120))

    later.starts_at, later.ends_at = SLOT + minutes(40), SLOT + minutes(85)
    with pytest.raises(IntegrityError, match="session_counselor_no_overlap"), transaction.atomic():
        later.save()


@pytest.mark.django_db
def test_sessions_of_different_counselors_may_overlap(booking, other_student):
    (student,) = clients_of(booking, 1)
    holding(student, SLOT)

    holding(other_student, SLOT)

    assert CounselingSession.objects.count() == 2

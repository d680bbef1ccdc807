"""Questionnaire workflows under real concurrency (PostgreSQL only).

Threads are lined up on a barrier and fire at once, each on its own connection. A double
tap on "send" must store one response; completing a session twice at once must send its
questionnaires once; two cron runs must announce a questionnaire once.
"""

import contextlib
import datetime
import threading

import pytest
from django.db import transaction

from counseling_platform.errors import DomainError
from instruments.models import Administration, Response
from instruments.services import (
    InstrumentError,
    administrations_announce,
    administrations_for_session,
    administrations_schedule,
    response_submit,
)
from notifications.models import Notification
from sessions_app.models import CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.services import BookingError, session_complete
from tests.factories import AdministrationFactory, CounselingSessionFactory
from tests.threads import run_at_once

pytestmark = pytest.mark.requires_postgres

UTC = datetime.UTC
SATURDAY = datetime.datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # 08:00 WIB
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
# AMAS: Learning 2+1+2+1+2 = 8, Evaluation 4+5+3+4 = 16; total 24.
AMAS_ANSWERS = {1: 2, 2: 4, 3: 1, 4: 5, 5: 3, 6: 2, 7: 1, 8: 4, 9: 2}
Kind = Notification.Kind


def codes(results) -> list[str]:
    return sorted(r.code for r in results if isinstance(r, DomainError))


@pytest.mark.django_db(transaction=True)
def test_a_double_submit_stores_exactly_one_response(student):
    administration = AdministrationFactory(student=student)  # open AMAS

    def submit():
        return response_submit(student=student, administration=administration, answers=AMAS_ANSWERS)

    results = run_at_once([submit, submit])

    assert codes(results) == ["already_answered"]
    stored = [r for r in results if isinstance(r, Response)]
    assert len(stored) == 1
    assert list(Response.objects.values_list("pk", "total")) == [(stored[0].pk, 24)]


@pytest.mark.django_db(transaction=True)
def test_many_taps_at_once_still_store_one_response(student):
    administration = AdministrationFactory(student=student)

    def submit():
        return response_submit(student=student, administration=administration, answers=AMAS_ANSWERS)

    results = run_at_once([submit] * 6)

    assert codes(results) == ["already_answered"] * 5
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_completing_a_session_twice_at_once_sends_its_questionnaires_once(counselor, student):
    booking_policy_for(student.school)
    session = CounselingSessionFactory(student=student, status="in_progress")

    def complete():
        return session_complete(counselor=counselor, session=session)

    results = run_at_once([complete, complete])

    assert codes(results) == ["invalid_transition"]
    assert [type(r) for r in results].count(CounselingSession) == 1
    assert all(isinstance(r, CounselingSession | BookingError) for r in results)
    codes_sent = sorted(
        Administration.objects.filter(session=session).values_list("instrument_code", flat=True)
    )
    assert codes_sent == ["amas", "service-evaluation", "wai-sr"]
    assert Notification.objects.filter(user=student, kind=Kind.QUESTIONNAIRES_READY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_sending_one_sessions_questionnaires_twice_at_once_creates_three(student):
    booking_policy_for(student.school)
    session = CounselingSessionFactory(student=student, status="completed")

    def send():
        # As in session_complete: inside the transaction that completes the session.
        with transaction.atomic():
            return administrations_for_session(session=session)

    results = run_at_once([send, send])

    assert sorted(results) == [0, 3]
    assert Administration.objects.filter(session=session).count() == 3
    assert Notification.objects.filter(user=student, kind=Kind.QUESTIONNAIRES_READY).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_announcement_runs_at_once_notify_once(student):
    AdministrationFactory(student=student, phase="baseline", opens_at=NOW, notified_at=None)

    def announce():
        return administrations_announce(now=NOW + datetime.timedelta(hours=1))

    results = run_at_once([announce, announce])

    assert sorted(results) == [0, 1]
    assert Notification.objects.filter(user=student, kind=Kind.QUESTIONNAIRE_OPENED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_scheduling_the_same_series_twice_at_once_creates_it_once(monkeypatch, counselor, student):
    # Hold each call just before it commits until the other arrives (or 3 s pass), so
    # both have checked the taken days before either commits. A call that waits on a
    # lock held by the other never arrives; the first then goes on after the timeout.
    meeting = threading.Barrier(2, timeout=3)
    announce = administrations_announce

    def announce_after_meeting(**kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait()
        return announce(**kwargs)

    monkeypatch.setattr("instruments.services.administrations_announce", announce_after_meeting)

    def schedule():
        return administrations_schedule(
            counselor=counselor,
            student=student,
            instrument_code="amas",
            phase="baseline",
            first_date=datetime.date(2026, 12, 7),
            count=3,
            interval_days=7,
            open_days=3,
            now=SATURDAY,
        )

    results = run_at_once([schedule, schedule])

    assert Administration.objects.count() == 3
    assert codes(results) == ["duplicate"]
    assert [isinstance(r, InstrumentError) for r in results].count(False) == 1

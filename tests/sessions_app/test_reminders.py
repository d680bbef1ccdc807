"""Reminders a day and an hour before confirmed sessions, sent once each."""

import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import Notification
from sessions_app.models import CounselingSession, Reminder
from sessions_app.reminders import reminders_send
from sessions_app.services import session_reschedule_answer, session_reschedule_propose
from tests.factories import CounselingSessionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 12, 7, 0, 0, tzinfo=datetime.UTC)
Status = CounselingSession.Status


def session_at(student, starts_at, **fields):
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        **fields,
    )


def reminders(session):
    return sorted(session.reminders.values_list("lead", "starts_at"))


def test_day_reminder_goes_to_student_and_counselor_with_emails(
    student, counselor, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student, NOW + datetime.timedelta(hours=20))
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders_send(now=NOW) == 1
    assert reminders(session) == [("day", session.starts_at)]
    notified = Notification.objects.filter(kind=Notification.Kind.REMINDER, session=session)
    assert sorted(notified.values_list("user__username", flat=True)) == ["konselor", "siswa"]
    assert sorted(address for mail in mailoutbox for address in mail.to) == sorted(
        [student.email, counselor.email]
    )


def test_session_within_the_hour_gets_only_the_hour_reminder(student):
    session = session_at(student, NOW + datetime.timedelta(minutes=40))
    assert reminders_send(now=NOW) == 1
    assert reminders(session) == [("hour", session.starts_at)]
    assert Notification.objects.filter(session=session).count() == 2


def test_day_reminder_then_hour_reminder_as_the_session_nears(student):
    session = session_at(student, NOW + datetime.timedelta(hours=20))
    assert reminders_send(now=NOW) == 1
    # Cron runs every 10 minutes: nothing new until the session is within the hour.
    assert reminders_send(now=NOW + datetime.timedelta(hours=18, minutes=50)) == 0
    assert reminders_send(now=NOW + datetime.timedelta(hours=19, minutes=10)) == 1
    assert reminders_send(now=NOW + datetime.timedelta(hours=19, minutes=20)) == 0
    assert reminders(session) == [("day", session.starts_at), ("hour", session.starts_at)]
    assert Notification.objects.filter(session=session).count() == 4


def test_window_boundaries(student, other_student):
    exactly_a_day = session_at(student, NOW + datetime.timedelta(hours=24))
    just_over_a_day = session_at(other_student, NOW + datetime.timedelta(hours=24, minutes=1))
    assert reminders_send(now=NOW) == 1
    assert reminders(exactly_a_day) == [("day", exactly_a_day.starts_at)]
    assert reminders(just_over_a_day) == []
    assert reminders_send(now=exactly_a_day.starts_at - datetime.timedelta(hours=1)) == 2
    assert reminders(exactly_a_day) == [
        ("day", exactly_a_day.starts_at),
        ("hour", exactly_a_day.starts_at),
    ]
    # Just over an hour ahead is past the hour window: the day reminder, not a second hour one.
    assert reminders(just_over_a_day) == [("day", just_over_a_day.starts_at)]


def test_running_the_command_twice_sends_nothing_twice(
    student, mailoutbox, django_capture_on_commit_callbacks
):
    session = session_at(student, timezone.now() + datetime.timedelta(hours=3))
    outputs = []
    for _run in range(2):
        out = io.StringIO()
        with django_capture_on_commit_callbacks(execute=True):
            call_command("send_reminders", stdout=out)
        outputs.append(out.getvalue())
    assert outputs[0].startswith("1 ")
    assert outputs[1].startswith("0 ")
    assert session.reminders.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER).count() == 2
    assert len(mailoutbox) == 2


@pytest.mark.parametrize(
    "status",
    [Status.REQUESTED, Status.CANCELLED, Status.DECLINED, Status.IN_PROGRESS, Status.NO_SHOW],
)
def test_sessions_that_are_not_confirmed_get_no_reminder(student, status):
    session_at(student, NOW + datetime.timedelta(hours=20), status=status)
    session_at(student, NOW + datetime.timedelta(minutes=30), status=status)
    assert reminders_send(now=NOW) == 0
    assert not Reminder.objects.exists()
    assert not Notification.objects.exists()


def test_past_and_starting_sessions_get_no_reminder(student, other_student):
    session_at(student, NOW - datetime.timedelta(hours=3))
    session_at(student, NOW)
    session_at(other_student, NOW - datetime.timedelta(minutes=10))
    assert reminders_send(now=NOW) == 0
    assert not Reminder.objects.exists()


def test_rescheduled_session_is_reminded_again_for_its_new_time(student, counselor):
    session = session_at(student, NOW + datetime.timedelta(hours=20))
    assert reminders_send(now=NOW) == 1
    new_start = NOW + datetime.timedelta(hours=22)
    session_reschedule_propose(counselor=counselor, session=session, starts_at=new_start, now=NOW)
    session_reschedule_answer(student=student, session=session, accept=True, now=NOW)
    Notification.objects.all().delete()

    assert reminders_send(now=NOW + datetime.timedelta(minutes=10)) == 1
    session.refresh_from_db()
    assert session.starts_at == new_start
    assert reminders(session) == [
        ("day", NOW + datetime.timedelta(hours=20)),
        ("day", new_start),
    ]
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER).count() == 2


def test_a_pending_proposal_does_not_trigger_a_new_reminder(student, counselor):
    session = session_at(student, NOW + datetime.timedelta(hours=20))
    assert reminders_send(now=NOW) == 1
    session_reschedule_propose(
        counselor=counselor,
        session=session,
        starts_at=NOW + datetime.timedelta(hours=22),
        now=NOW,
    )
    assert reminders_send(now=NOW + datetime.timedelta(minutes=10)) == 0


def test_an_already_sent_reminder_reads_only_the_two_windows(student):
    for hours in (0.5, 5, 20):
        session_at(student, NOW + datetime.timedelta(hours=hours))
    reminders_send(now=NOW)
    with CaptureQueriesContext(connection) as queries:
        assert reminders_send(now=NOW) == 0
    assert len(queries) == 2


def test_due_sessions_are_read_with_their_people_in_the_window_queries(other_student, student):
    for hours in (0.5, 5, 20):
        session_at(student, NOW + datetime.timedelta(hours=hours))
        session_at(other_student, NOW + datetime.timedelta(hours=hours, minutes=10))
    with CaptureQueriesContext(connection) as queries:
        assert reminders_send(now=NOW) == 6
    selects = [query["sql"] for query in queries if query["sql"].lstrip().startswith("SELECT")]
    assert len(selects) == 2


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_runs_send_each_reminder_once(student):
    session = session_at(student, timezone.now() + datetime.timedelta(hours=3))
    now = timezone.now()
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def run() -> None:
        try:
            start.wait()
            outcomes.append(reminders_send(now=now))
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [0, 1], outcomes
    assert session.reminders.count() == 1
    assert Notification.objects.filter(kind=Notification.Kind.REMINDER).count() == 2

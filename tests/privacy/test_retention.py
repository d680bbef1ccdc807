"""The retention of chat transcripts: `purge_transcripts` removes the chat of cases
closed longer than RUANGBK_CHAT_RETENTION_MONTHS ago, and only those (a case closed
exactly that long ago stays); each removal is in the audit trail; idempotent; a dry run
writes nothing."""

import datetime
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from privacy.services import months_before, transcripts_purge
from sessions_app.models import ChatMessage, SessionNote, SessionOutcome
from tests.factories import (
    CounselingSessionFactory,
    CounselorFactory,
    SchoolAdminFactory,
    StudentFactory,
)
from tests.privacy.records import chat

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime.datetime(2026, 3, 31, 8, 0), 1, datetime.datetime(2026, 2, 28, 8, 0)),
        (datetime.datetime(2024, 3, 31, 8, 0), 1, datetime.datetime(2024, 2, 29, 8, 0)),
        (datetime.datetime(2026, 1, 15, 8, 0), 13, datetime.datetime(2024, 12, 15, 8, 0)),
        (datetime.datetime(2026, 11, 25, 8, 0), 24, datetime.datetime(2024, 11, 25, 8, 0)),
    ],
)
def test_months_before_counts_calendar_months(moment, months, expected):
    assert months_before(moment, months) == expected


def months_ago(months: int, *, extra: datetime.timedelta = datetime.timedelta()):
    return months_before(timezone.now(), months) + extra


def a_session(student, ends_at, status="completed", *, outcome=None, messages=2):
    session = CounselingSessionFactory(
        student=student, starts_at=ends_at - datetime.timedelta(minutes=45), ends_at=ends_at,
        status=status,
    )  # fmt: skip
    if outcome:
        referral = {"referred_to": "Psikolog puskesmas", "referral_reason": "Perlu asesmen."}
        SessionOutcome.objects.create(
            session=session, kind=outcome, **(referral if outcome == "referral" else {})
        )
    chat(session, *[(student, f"pesan {n}") for n in range(messages)])
    return session


@pytest.fixture
def cases(school, counselor):
    """Students of one counselor whose cases ended at various times (24 months rule)."""

    def student(name):
        user = StudentFactory(school=school, username=name)
        user.student_profile.counselor = counselor
        user.student_profile.save()
        return user

    resolved = student("resolved")
    dormant = student("dormant")
    returned = student("returned")
    recent = student("recent")
    booked_again = student("booked_again")
    cancelled_later = student("cancelled_later")
    sessions = {
        # Resolved 25 months ago: gone.
        "resolved": a_session(resolved, months_ago(25), outcome="resolved"),
        # "Continue face to face" 30 months ago, no session since: closed, gone.
        "dormant": a_session(dormant, months_ago(30), outcome="face_to_face"),
        # Resolved 26 months ago, but came back a month ago: open, kept.
        "returned_old": a_session(returned, months_ago(26, extra=2 * DAY), outcome="resolved"),
        "returned_new": a_session(returned, months_ago(1)),
        # Last session 23 months ago: kept.
        "recent": a_session(recent, months_ago(23), outcome="referral"),
        # Old case, but a session is booked for next week: open, kept.
        "booked_old": a_session(booked_again, months_ago(25, extra=3 * DAY), outcome="resolved"),
        "booked_new": a_session(
            booked_again, timezone.now() + 7 * DAY, status="confirmed", messages=0
        ),
        # A session cancelled a month ago held no time: the old case is still closed.
        "cancelled_old": a_session(cancelled_later, months_ago(27), outcome="resolved"),
        "cancelled_new": a_session(cancelled_later, months_ago(1), status="cancelled", messages=0),
    }
    SessionNote.objects.create(session=sessions["resolved"], body="catatan profesional")
    return sessions


def messages_of(session) -> int:
    return ChatMessage.objects.filter(session=session).count()


def run(*args: str) -> str:
    out = StringIO()
    call_command("purge_transcripts", *args, stdout=out)
    return out.getvalue()


REMOVED = ("resolved", "dormant", "cancelled_old")
KEPT = ("returned_old", "returned_new", "recent", "booked_old")


def test_only_the_chat_of_cases_closed_long_ago_is_removed(cases):
    output = run()
    for name in REMOVED:
        assert messages_of(cases[name]) == 0, name
        assert f"session {cases[name].pk} " in output
    for name in KEPT:
        assert messages_of(cases[name]) == 2, name
        assert f"session {cases[name].pk} " not in output
    assert "removed 6 message(s) of 3 session(s) of 3 student(s)" in output


def test_the_session_record_and_the_note_stay(cases):
    run()
    session = cases["resolved"]
    session.refresh_from_db()
    assert session.status == "completed"
    assert SessionOutcome.objects.get(session=session).kind == "resolved"
    assert SessionNote.objects.get(session=session).body == "catatan profesional"


def test_running_it_again_removes_nothing_more(cases):
    run()
    left = ChatMessage.objects.count()
    output = run()
    assert ChatMessage.objects.count() == left == 2 * len(KEPT)
    assert "removed 0 message(s) of 0 session(s)" in output


def test_a_dry_run_lists_and_writes_nothing(cases):
    before = ChatMessage.objects.count()
    output = run("--dry-run")
    assert ChatMessage.objects.count() == before
    for name in REMOVED:
        assert f"session {cases[name].pk} " in output
    assert "would remove 6 message(s)" in output
    assert "Dry run" in output


def test_the_period_comes_from_the_setting(cases, settings):
    settings.CHAT_RETENTION_MONTHS = 28
    run()
    assert messages_of(cases["dormant"]) == 0  # 30 months
    assert messages_of(cases["resolved"]) == 2  # 25 months
    assert messages_of(cases["cancelled_old"]) == 2  # 27 months


def test_the_boundary_is_the_end_of_the_last_session(school, counselor):
    def student_with_last_session(name, ends_at):
        user = StudentFactory(school=school, username=name)
        user.student_profile.counselor = counselor
        user.student_profile.save()
        return a_session(user, ends_at)

    just_over = student_with_last_session(
        "just_over", months_ago(24, extra=-datetime.timedelta(hours=1))
    )
    just_under = student_with_last_session(
        "just_under", months_ago(24, extra=datetime.timedelta(hours=1))
    )
    run()
    assert messages_of(just_over) == 0
    assert messages_of(just_under) == 2


def test_a_retention_below_a_month_is_refused(cases):
    with pytest.raises(CommandError):
        run("--months", "-1")
    assert ChatMessage.objects.count() == 2 * (len(REMOVED) + len(KEPT))


UTC = datetime.UTC
SECOND = datetime.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("now", "months", "cutoff"),
    [
        # 24 calendar months before 25 Nov 2026 08:00 is 25 Nov 2024 08:00.
        (
            datetime.datetime(2026, 11, 25, 8, 0, tzinfo=UTC),
            24,
            datetime.datetime(2024, 11, 25, 8, 0, tzinfo=UTC),
        ),
        # One month before 31 March is the last day of February.
        (
            datetime.datetime(2026, 3, 31, 8, 0, tzinfo=UTC),
            1,
            datetime.datetime(2026, 2, 28, 8, 0, tzinfo=UTC),
        ),
    ],
)
def test_a_case_closed_exactly_the_period_ago_is_kept(school, now, months, cutoff):
    def last_session_ending(name, ends_at):
        # A counselor each: one counselor's sessions may not overlap on PostgreSQL.
        user = StudentFactory(school=school, username=name)
        user.student_profile.counselor = CounselorFactory(school=school)
        user.student_profile.save()
        return a_session(user, ends_at)

    exactly = last_session_ending("exactly", cutoff)
    a_second_longer = last_session_ending("longer", cutoff - SECOND)
    a_second_shorter = last_session_ending("shorter", cutoff + SECOND)
    purged = transcripts_purge(months=months, now=now)
    assert [item.session_id for item in purged] == [a_second_longer.pk]
    assert messages_of(a_second_longer) == 0
    assert messages_of(exactly) == 2
    assert messages_of(a_second_shorter) == 2


def purge_entries():
    return LogEntry.objects.filter(
        action=LogEntry.Action.DELETE,
        content_type=ContentType.objects.get_for_model(User),
    )


def test_each_students_purge_is_one_entry_in_the_audit_trail(cases):
    run()
    students = {cases[name].student_id for name in REMOVED}
    entries = list(purge_entries())
    assert sorted(entry.object_id for entry in entries) == sorted(students)
    for entry in entries:
        assert entry.object_pk == str(entry.object_id)
        assert entry.actor is None
        assert entry.object_repr == User.objects.get(pk=entry.object_id).display_name
        assert entry.additional_data == {
            "what": "chat transcripts removed (retention)",
            "messages": 2,  # each removed case had one session of two messages
            "via": "command line",
        }
    kept = {cases[name].student_id for name in KEPT}
    assert not purge_entries().filter(object_id__in=kept).exists()


def test_a_second_run_and_a_dry_run_record_nothing(cases):
    run("--dry-run")
    assert not purge_entries().exists()
    run()
    assert purge_entries().count() == len(REMOVED)
    run()
    assert purge_entries().count() == len(REMOVED)


def test_the_school_admin_never_sees_whose_chat_was_removed(client, cases, school):
    """A purge tells that a student had counseling: not the admin's to know."""
    run()
    client.force_login(SchoolAdminFactory(school=school))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("audit:account-changes"))
    purged = {cases[name].student_id for name in REMOVED}
    assert purge_entries().filter(object_id__in=purged).count() == len(REMOVED)
    assert not [entry for entry in page.context["page"] if entry.action == LogEntry.Action.DELETE]
    assert "retention" not in page.content.decode()

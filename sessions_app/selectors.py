"""Reads for booking pages. Every session is reached through the person asking: a student
through `student`, a counselor through `counselor`; nobody else gets one."""

import datetime
import time
from importlib import import_module

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts.models import User
from accounts.sign_ins import expiry_reason
from sessions_app.models import (
    Availability,
    AvailabilityException,
    ChatMessage,
    CounselingSession,
    SessionEvent,
    SessionNote,
    SessionOutcome,
)

Status = CounselingSession.Status


def _with_people(sessions: QuerySet[CounselingSession]) -> QuerySet[CounselingSession]:
    return sessions.select_related(
        "school",
        "counselor",
        "student__student_profile__school_class",
    )


def session_for_participant(*, user: User, session_id: int) -> CounselingSession:
    """A session of which `user` is the student or the counselor; anyone else gets 404."""
    if not (user.is_student or user.is_counselor):
        raise Http404  # school admins never open a session
    return get_object_or_404(
        _with_people(CounselingSession.objects.all()).prefetch_related(
            Prefetch("events", queryset=SessionEvent.objects.select_related("actor"))
        ),
        Q(student=user) | Q(counselor=user),
        pk=session_id,
    )


def student_counselor(*, student: User) -> User | None:
    """The student's counselor if they can be booked: active and of the same school."""
    profile = getattr(student, "student_profile", None)
    counselor = profile.counselor if profile else None
    if counselor is None or not counselor.is_active or counselor.school_id != student.school_id:
        return None
    return counselor


def student_sessions(
    *, student: User, now: datetime.datetime | None = None
) -> tuple[list[CounselingSession], list[CounselingSession]]:
    """The student's (upcoming, past) sessions: upcoming soonest first, past latest first."""
    now = now or timezone.now()
    sessions = list(_with_people(CounselingSession.objects.filter(student=student)))
    active = (*CounselingSession.OPEN_STATUSES, Status.IN_PROGRESS)
    upcoming = [s for s in sessions if s.ends_at > now and s.status in active]
    past = [s for s in reversed(sessions) if s not in upcoming]
    return upcoming, past


def counselor_requests(*, counselor: User) -> QuerySet[CounselingSession]:
    """Requests waiting for the counselor's answer, soonest first."""
    return _with_people(
        CounselingSession.objects.filter(
            counselor=counselor, status=Status.REQUESTED, starts_at__gt=timezone.now()
        )
    ).order_by("starts_at")


def counselor_schedule(
    *, counselor: User, first_day: datetime.date, days: int, zone: datetime.tzinfo
) -> QuerySet[CounselingSession]:
    """The counselor's sessions from `first_day` for `days` days in the school's zone."""
    start = datetime.datetime.combine(first_day, datetime.time(0), tzinfo=zone)
    end = start + datetime.timedelta(days=days)
    return _with_people(
        CounselingSession.objects.filter(
            counselor=counselor, starts_at__lt=end, ends_at__gt=start
        ).exclude(status=Status.DECLINED)
    ).order_by("starts_at")


def counselor_clients_for_booking(*, counselor: User) -> QuerySet[User]:
    return User.objects.filter(
        student_profile__counselor=counselor, is_active=True, role=User.Role.STUDENT
    ).order_by("first_name", "username")


def counselor_availability(
    *, counselor: User
) -> tuple[QuerySet[Availability], QuerySet[AvailabilityException]]:
    windows = Availability.objects.filter(counselor=counselor)
    exceptions = AvailabilityException.objects.filter(
        counselor=counselor, ends_at__gt=timezone.now()
    )
    return windows, exceptions


def school_session_counts(*, school, weeks: int = 8, months: int = 12) -> dict:
    """Counts for the school admin: per status, field, week and month. Never content."""
    sessions = CounselingSession.objects.filter(school=school)
    by_status = dict(
        sessions.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    by_field = dict(sessions.values_list("field").annotate(n=Count("pk")).values_list("field", "n"))
    zone = school.zone()
    today = timezone.localdate(timezone=zone)
    first_monday = today - datetime.timedelta(days=today.weekday() + 7 * (weeks - 1))
    week_list = [first_monday + datetime.timedelta(weeks=n) for n in range(weeks + 4)]
    since = datetime.datetime.combine(first_monday, datetime.time(0), tzinfo=zone)
    until = since + datetime.timedelta(weeks=len(week_list))
    by_week_rows = (
        sessions.filter(starts_at__gte=since, starts_at__lt=until)
        .exclude(status__in=[Status.CANCELLED, Status.DECLINED])
        .annotate(week=TruncWeek("starts_at", tzinfo=zone))
        .values("week")
        .annotate(n=Count("pk"))
    )
    by_week = {_as_date(row["week"]): row["n"] for row in by_week_rows}
    return {
        "by_month": _by_month(sessions, today, zone, months),
        "by_status": [(label, by_status.get(value, 0)) for value, label in Status.choices],
        "by_field": [
            (label, by_field.get(value, 0)) for value, label in CounselingSession.Field.choices
        ],
        "by_week": [(week, by_week.get(week, 0)) for week in week_list],
        "total": sum(by_status.values()),
        "late_cancellations": sessions.filter(is_late_cancellation=True).count(),
    }


def _by_month(sessions, today: datetime.date, zone, months: int) -> list:
    """Sessions held (completed) in each of the last `months` months, oldest first."""
    firsts = [today.replace(day=1)]
    for _step in range(months - 1):
        firsts.insert(0, (firsts[0] - datetime.timedelta(days=1)).replace(day=1))
    since = datetime.datetime.combine(firsts[0], datetime.time(0), tzinfo=zone)
    rows = (
        sessions.filter(starts_at__gte=since, status=Status.COMPLETED)
        .annotate(month=TruncMonth("starts_at", tzinfo=zone))
        .values("month")
        .annotate(n=Count("pk"))
    )
    counts = {_as_date(row["month"]): row["n"] for row in rows}
    return [(first, counts.get(first, 0)) for first in firsts]


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def room_session_for(*, user: User, session_id: int) -> CounselingSession | None:
    """The session whose room `user` may enter (its active student or counselor)."""
    if not user.is_active or not (user.is_student or user.is_counselor):
        return None
    return (
        _with_people(CounselingSession.objects.all())
        .filter(Q(student=user) | Q(counselor=user), pk=session_id)
        .first()
    )


def room_session_state(*, session_id: int, now: datetime.datetime) -> str | None:
    """The room's state now ("open", …), or None when the session is gone."""
    session = CounselingSession.objects.filter(pk=session_id).first()
    return session.room_state(now) if session else None


def chat_messages_after(
    *, session: CounselingSession, after: int, limit: int = 200
) -> list[ChatMessage]:
    """The session's messages after sequence number `after`, in order, at most `limit`."""
    return list(ChatMessage.objects.filter(session=session, seq__gt=after).order_by("seq")[:limit])


def room_transcript(*, session: CounselingSession) -> list[ChatMessage]:
    """Every message of the session, in order, with its sender (one query)."""
    return list(
        ChatMessage.objects.filter(session=session).select_related("sender").order_by("seq")
    )


def room_access_valid(*, user_id: int, session_id: int, session_key: str) -> bool:
    """Is this sign-in still good for this room: the account active and still a
    participant, the sign-in not ended, the password not changed since?"""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or room_session_for(user=user, session_id=session_id) is None:
        return False
    if not session_key:
        return True  # no cookie session (tests' scope); the checks above still apply
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    if store.get(SESSION_KEY) != str(user.pk):
        return False
    stored_hash = store.get(HASH_SESSION_KEY) or ""
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    if not any(constant_time_compare(stored_hash, known) for known in hashes):
        return False
    # An idle or too old web sign-in opens no room either.
    return expiry_reason(store, user, time.time()) is None


def session_note_and_outcome(
    *, session: CounselingSession
) -> tuple[SessionNote | None, SessionOutcome | None]:
    """The counselor's note and the outcome of a session the caller has checked is theirs."""
    return (
        SessionNote.objects.filter(session=session).first(),
        SessionOutcome.objects.filter(session=session).first(),
    )

"""A session's life after it exists: confirm, decline, cancel, start, complete, no-show,
a new time proposed and answered, consent, and requests that expired unanswered. Each is
one transaction that re-reads the session under lock, records an event and notifies the
other side once the transaction commits."""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from instruments.services import administrations_for_session
from notifications.models import Notification
from notifications.services import notify
from sessions_app.models import CounselingSession, SessionEvent
from sessions_app.policy import booking_policy_for
from sessions_app.realtime import room_changed_on_commit
from sessions_app.services.rules import (
    BookingError,
    check_guardian_consent,
    check_time_free,
    locked_for,
    record_event,
    slot_taken,
)

Status = CounselingSession.Status
Event = SessionEvent.Kind


@transaction.atomic
def session_confirm(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = locked_for(session, counselor, by="counselor", statuses=(Status.REQUESTED,))
    if session.starts_at <= now:
        raise BookingError("session_past", _("The requested time has passed; decline it instead."))
    check_guardian_consent(session.student, asked_by_student=False)
    session.status = Status.CONFIRMED
    session.save(update_fields=["status"])
    record_event(session, counselor, Event.CONFIRMED)
    notify(user=session.student, kind=Notification.Kind.SESSION_CONFIRMED, session=session)
    return session


@transaction.atomic
def session_decline(
    *, counselor: User, session: CounselingSession, reason: str
) -> CounselingSession:
    session = locked_for(session, counselor, by="counselor", statuses=(Status.REQUESTED,))
    reason = _required_reason(reason)
    session.status = Status.DECLINED
    session.status_reason = reason
    session.save(update_fields=["status", "status_reason"])
    record_event(session, counselor, Event.DECLINED, reason)
    notify(user=session.student, kind=Notification.Kind.SESSION_DECLINED, session=session)
    return session


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise BookingError("reason_required", _("Please give a reason."))
    return reason[:500]


@transaction.atomic
def session_cancel(
    *,
    user: User,
    session: CounselingSession,
    reason: str,
    now: datetime.datetime | None = None,
) -> CounselingSession:
    """Either side cancels a session that has not started; late ones are flagged."""
    now = now or timezone.now()
    session = locked_for(session, user, by="either", statuses=CounselingSession.OPEN_STATUSES)
    if session.starts_at <= now:
        raise BookingError(
            "session_started",
            _("This session's time has begun; it can no longer be cancelled."),
        )
    reason = _required_reason(reason)
    policy = booking_policy_for(session.school)
    other = session.counselor if user.pk == session.student_id else session.student
    return session_mark_cancelled(
        session=session,
        actor=user,
        reason=reason,
        is_late=session.starts_at - now < datetime.timedelta(hours=policy.late_cancel_hours),
        tell=[other],
    )


def session_mark_cancelled(
    *,
    session: CounselingSession,
    actor: User,
    reason: str,
    is_late: bool,
    tell: list[User],
) -> CounselingSession:
    """The cancellation itself, for a caller that has locked the session and checked its
    rules: the status and reason, the event, the room, and a notification to `tell`."""
    session.status = Status.CANCELLED
    session.status_reason = reason
    session.is_late_cancellation = is_late
    session.proposed_starts_at = session.proposed_ends_at = None
    session.save(
        update_fields=[
            "status",
            "status_reason",
            "is_late_cancellation",
            "proposed_starts_at",
            "proposed_ends_at",
        ]
    )
    record_event(session, actor, Event.CANCELLED, reason)
    room_changed_on_commit(session.pk)
    for person in tell:
        notify(user=person, kind=Notification.Kind.SESSION_CANCELLED, session=session)
    return session


@transaction.atomic
def session_start(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = locked_for(session, counselor, by="counselor", statuses=(Status.CONFIRMED,))
    if now < session.starts_at - CounselingSession.START_EARLY:
        raise BookingError(
            "too_early", _("A session can be started at most 15 minutes before its time.")
        )
    if now >= session.ends_at:
        raise BookingError(
            "session_over", _("This session's time is over; mark it as a no-show instead.")
        )
    if session.consent_given_at is None:
        raise BookingError(
            "consent_missing",
            _("The student has not agreed to the online counseling consent yet."),
        )
    check_guardian_consent(session.student, asked_by_student=False)
    session.status = Status.IN_PROGRESS
    session.proposed_starts_at = session.proposed_ends_at = None  # the old time holds
    session.save(update_fields=["status", "proposed_starts_at", "proposed_ends_at"])
    record_event(session, counselor, Event.STARTED)
    room_changed_on_commit(session.pk)
    return session


@transaction.atomic
def session_complete(*, counselor: User, session: CounselingSession) -> CounselingSession:
    session = locked_for(session, counselor, by="counselor", statuses=(Status.IN_PROGRESS,))
    session.status = Status.COMPLETED
    session.save(update_fields=["status"])
    record_event(session, counselor, Event.COMPLETED)
    administrations_for_session(session=session)
    room_changed_on_commit(session.pk)
    return session


@transaction.atomic
def session_mark_no_show(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = locked_for(session, counselor, by="counselor", statuses=(Status.CONFIRMED,))
    if now < session.starts_at:
        raise BookingError(
            "not_started_yet", _("A no-show can only be recorded after the start time.")
        )
    session.status = Status.NO_SHOW
    session.proposed_starts_at = session.proposed_ends_at = None
    session.save(update_fields=["status", "proposed_starts_at", "proposed_ends_at"])
    record_event(session, counselor, Event.NO_SHOW)
    room_changed_on_commit(session.pk)
    return session


@transaction.atomic
def session_reschedule_propose(
    *,
    counselor: User,
    session: CounselingSession,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> CounselingSession:
    """The counselor proposes a new time for a confirmed session; the student answers.

    Until then the session keeps its time and the proposed time is kept free.
    """
    now = now or timezone.now()
    session = locked_for(session, counselor, by="counselor", statuses=(Status.CONFIRMED,))
    if session.starts_at <= now:
        raise BookingError(
            "session_started", _("This session's time has begun; it can no longer be moved.")
        )
    if session.has_proposal:
        raise BookingError(
            "proposal_pending", _("A new time is already waiting for the student's answer.")
        )
    if starts_at <= now:
        raise BookingError("slot_in_past", _("That time has already passed."))
    ends_at = starts_at + session.duration
    if starts_at == session.starts_at:
        raise BookingError("same_time", _("That is the session's current time."))
    check_time_free(
        counselor=session.counselor,
        student=session.student,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude=session,
    )
    session.proposed_starts_at, session.proposed_ends_at = starts_at, ends_at
    session.save(update_fields=["proposed_starts_at", "proposed_ends_at"])
    local = timezone.localtime(starts_at, session.school.zone())
    record_event(session, counselor, Event.RESCHEDULE_PROPOSED, local.strftime("%Y-%m-%d %H:%M"))
    notify(user=session.student, kind=Notification.Kind.RESCHEDULE_PROPOSED, session=session)
    return session


@transaction.atomic
def session_reschedule_answer(
    *,
    student: User,
    session: CounselingSession,
    accept: bool,
    now: datetime.datetime | None = None,
) -> CounselingSession:
    """The student accepts the proposed time (the session moves) or keeps the old one."""
    now = now or timezone.now()
    session = locked_for(session, student, by="student", statuses=tuple(Status))
    if session.status != Status.CONFIRMED or not session.has_proposal:
        raise BookingError("no_proposal", _("There is no new time to answer."))
    starts_at, ends_at = session.proposed_starts_at, session.proposed_ends_at
    session.proposed_starts_at = session.proposed_ends_at = None
    fields = ["proposed_starts_at", "proposed_ends_at"]
    if accept:
        if starts_at <= now:
            raise BookingError("slot_in_past", _("The proposed time has already passed."))
        check_time_free(
            counselor=session.counselor,
            student=student,
            starts_at=starts_at,
            ends_at=ends_at,
            exclude=session,
        )
        session.starts_at, session.ends_at = starts_at, ends_at
        fields += ["starts_at", "ends_at"]
    try:
        with transaction.atomic():
            session.save(update_fields=fields)
    except IntegrityError as error:
        raise slot_taken() from error
    if accept:
        record_event(session, student, Event.RESCHEDULE_ACCEPTED)
        room_changed_on_commit(session.pk)
        notify(user=session.counselor, kind=Notification.Kind.RESCHEDULE_ACCEPTED, session=session)
    else:
        record_event(session, student, Event.RESCHEDULE_REJECTED)
        notify(user=session.counselor, kind=Notification.Kind.RESCHEDULE_REJECTED, session=session)
    return session


@transaction.atomic
def session_consent_give(
    *, student: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    """The student agrees to the consent text for a session their counselor created."""
    session = locked_for(session, student, by="student", statuses=CounselingSession.OPEN_STATUSES)
    if session.consent_given_at is None:
        session.consent_text = booking_policy_for(session.school).consent_text
        session.consent_given_at = now or timezone.now()
        session.save(update_fields=["consent_text", "consent_given_at"])
        room_changed_on_commit(session.pk)
    return session


def requests_expire(*, now: datetime.datetime | None = None) -> int:
    """Decline requests nobody answered before their time, telling the student.

    Run by cron with the reminders; idempotent (an expired request is no longer open).
    """
    now = now or timezone.now()
    expired = 0
    stale = CounselingSession.objects.filter(status=Status.REQUESTED, starts_at__lte=now)
    for session_id in stale.values_list("pk", flat=True):
        with transaction.atomic():
            session = (
                CounselingSession.objects.select_for_update()
                .select_related("student", "counselor", "school")
                .filter(pk=session_id, status=Status.REQUESTED)
                .first()
            )
            if session is None:  # answered meanwhile
                continue
            session.status = Status.DECLINED
            session.status_reason = _("The request was not answered before its time.")
            session.save(update_fields=["status", "status_reason"])
            record_event(session, None, Event.DECLINED, session.status_reason)
            notify(user=session.student, kind=Notification.Kind.SESSION_DECLINED, session=session)
            expired += 1
    return expired

"""Booking workflows. Each is one transaction that locks the people involved, checks every
rule, records an event and notifies the other side once the transaction commits.

No two time-holding sessions of one counselor or one student may overlap. The services
check it under a row lock on both users (so concurrent requests queue up and the losers
see the winner), and on PostgreSQL exclusion constraints enforce it whatever the path.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from counseling_platform.errors import DomainError
from notifications.models import Notification
from notifications.services import notify
from sessions_app.models import BookingPolicy, CounselingSession, SessionEvent, SessionLength
from sessions_app.policy import booking_policy_for
from sessions_app.slots import counselor_slots

Status = CounselingSession.Status
Event = SessionEvent.Kind

# How early the counselor may start a session, and how late a session still counts.
START_EARLY = datetime.timedelta(minutes=15)


class BookingError(DomainError):
    """A booking rule was broken; `code` says which."""


def _lock(*users: User) -> None:
    """Queue concurrent workflows on the same people (PostgreSQL row locks; SQLite's
    IMMEDIATE transactions already run one writer at a time)."""
    ids = sorted({user.pk for user in users})
    list(User.objects.select_for_update().filter(pk__in=ids).order_by("pk").values("pk"))


def _check_time_free(
    *,
    counselor: User,
    student: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    exclude: CounselingSession | None = None,
) -> None:
    overlapping = CounselingSession.objects.filter(
        status__in=CounselingSession.HOLDING_STATUSES, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    # A new time proposed to a student stays free until they answer.
    proposed = CounselingSession.objects.filter(
        status=Status.CONFIRMED,
        proposed_starts_at__lt=ends_at,
        proposed_ends_at__gt=starts_at,
    )
    if exclude is not None:
        overlapping = overlapping.exclude(pk=exclude.pk)
        proposed = proposed.exclude(pk=exclude.pk)
    if (
        overlapping.filter(counselor=counselor).exists()
        or proposed.filter(counselor=counselor).exists()
    ):
        raise BookingError("slot_taken", _("That time was just taken. Please choose another."))
    if overlapping.filter(student=student).exists() or proposed.filter(student=student).exists():
        raise BookingError("student_busy", _("The student already has a session at that time."))


def _save_new(session: CounselingSession) -> None:
    """Insert, turning the database's overlap veto into the same error as our check."""
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:
        if "no_overlap" not in str(error):
            raise
        raise BookingError(
            "slot_taken", _("That time was just taken. Please choose another.")
        ) from error


def _event(session: CounselingSession, actor: User | None, kind: str, detail: str = "") -> None:
    SessionEvent.objects.create(session=session, actor=actor, kind=kind, detail=detail)


def _notify(user: User, kind: str, session: CounselingSession) -> None:
    notify(user=user, kind=kind, session=session)


def _check_bookable_time(
    *,
    policy: BookingPolicy,
    starts_at: datetime.datetime,
    now: datetime.datetime,
) -> None:
    if starts_at <= now:
        raise BookingError("slot_in_past", _("That time has already passed."))
    if starts_at < now + datetime.timedelta(hours=policy.min_notice_hours):
        raise BookingError(
            "slot_too_soon",
            _("That time is too soon: book at least %(hours)s hours ahead.")
            % {"hours": policy.min_notice_hours},
        )
    if starts_at > now + datetime.timedelta(days=policy.horizon_days):
        raise BookingError(
            "slot_too_far",
            _("That time is too far ahead: book within %(days)s days.")
            % {"days": policy.horizon_days},
        )


@transaction.atomic
def session_request(
    *,
    student: User,
    starts_at: datetime.datetime,
    mode: str,
    field: str,
    description: str = "",
    consent_given: bool,
    now: datetime.datetime | None = None,
) -> CounselingSession:
    """A student asks their own counselor for one of the counselor's free slots."""
    now = now or timezone.now()
    profile = getattr(student, "student_profile", None) if student.is_student else None
    if profile is None or not student.is_active:
        raise BookingError("not_a_student", _("Only students can book a session."))
    counselor = profile.counselor
    if counselor is None or not counselor.is_active or counselor.school_id != student.school_id:
        raise BookingError(
            "no_counselor",
            _("You have no counselor yet. Ask your school admin to assign one."),
        )
    if not consent_given:
        raise BookingError("consent_required", _("Please read the consent text and agree to it."))
    _lock(student, counselor)
    already = CounselingSession.objects.filter(
        student=student,
        counselor=counselor,
        starts_at=starts_at,
        status__in=CounselingSession.OPEN_STATUSES,
    ).first()
    if already is not None:  # a second tap on "send": the first one went through
        return already
    policy = booking_policy_for(student.school)
    _check_bookable_time(policy=policy, starts_at=starts_at, now=now)

    open_count = CounselingSession.objects.filter(
        student=student, status__in=CounselingSession.OPEN_STATUSES, ends_at__gt=now
    ).count()
    if open_count >= policy.max_open_requests:
        raise BookingError(
            "too_many_open",
            _(
                "You already have %(count)s open sessions. Wait until one has taken place "
                "or cancel one before booking another."
            )
            % {"count": open_count},
        )

    free = {
        slot.starts_at: slot
        for slot in counselor_slots(counselor=counselor, policy=policy, now=now, student=student)
    }
    slot = free.get(starts_at)
    if slot is None:
        ever_free = counselor_slots(counselor=counselor, policy=policy, now=now, include_taken=True)
        if any(candidate.starts_at == starts_at for candidate in ever_free):
            raise BookingError("slot_taken", _("That time was just taken. Please choose another."))
        raise BookingError("slot_unavailable", _("Your counselor is not available at that time."))

    session = CounselingSession(
        school=student.school,
        student=student,
        counselor=counselor,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        status=Status.REQUESTED,
        mode=mode,
        field=field,
        description=description.strip(),
        consent_text=policy.consent_text,
        consent_given_at=now,
    )
    session.full_clean(exclude=["school", "student", "counselor"])
    _check_time_free(
        counselor=counselor, student=student, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    _save_new(session)
    _event(session, student, Event.REQUESTED)
    _notify(counselor, Notification.Kind.SESSION_REQUESTED, session)
    return session


@transaction.atomic
def session_create_for_client(
    *,
    counselor: User,
    student: User,
    starts_at: datetime.datetime,
    minutes: int,
    mode: str,
    field: str,
    description: str = "",
    now: datetime.datetime | None = None,
) -> CounselingSession:
    """A counselor schedules a confirmed session with one of their own clients.

    The student agrees to the consent text on the session's page before it starts.
    """
    now = now or timezone.now()
    profile = getattr(student, "student_profile", None) if student.is_student else None
    if profile is None or profile.counselor_id != counselor.pk or not student.is_active:
        raise BookingError("not_your_client", _("That student is not one of your clients."))
    if starts_at <= now:
        raise BookingError("slot_in_past", _("That time has already passed."))
    if minutes not in SessionLength.values:
        raise BookingError("invalid_length", _("Choose a session length of 30, 45 or 60 minutes."))
    ends_at = starts_at + datetime.timedelta(minutes=minutes)
    _lock(student, counselor)
    session = CounselingSession(
        school=counselor.school,
        student=student,
        counselor=counselor,
        starts_at=starts_at,
        ends_at=ends_at,
        status=Status.CONFIRMED,
        mode=mode,
        field=field,
        description=description.strip(),
    )
    session.full_clean(exclude=["school", "student", "counselor"])
    _check_time_free(counselor=counselor, student=student, starts_at=starts_at, ends_at=ends_at)
    _save_new(session)
    _event(session, counselor, Event.CREATED)
    _notify(student, Notification.Kind.SESSION_CREATED, session)
    return session


def _reload_locked(session: CounselingSession) -> CounselingSession:
    """Lock the people, then re-read the session: its status may have just changed."""
    _lock(session.student, session.counselor)
    return CounselingSession.objects.select_related("student", "counselor", "school").get(
        pk=session.pk
    )


def _forbidden_transition(session: CounselingSession) -> BookingError:
    return BookingError(
        "invalid_transition",
        _("This cannot be done to a session that is %(status)s.")
        % {"status": str(session.get_status_display()).lower()},
    )


def _require(session: CounselingSession, user: User, *, counselor_only: bool) -> None:
    allowed = (
        {session.counselor_id}
        if counselor_only
        else {
            session.counselor_id,
            session.student_id,
        }
    )
    if user.pk not in allowed:
        raise BookingError("not_allowed", _("You are not allowed to change this session."))


@transaction.atomic
def session_confirm(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.REQUESTED:
        raise _forbidden_transition(session)
    if session.starts_at <= now:
        raise BookingError("session_past", _("The requested time has passed; decline it instead."))
    session.status = Status.CONFIRMED
    session.save(update_fields=["status"])
    _event(session, counselor, Event.CONFIRMED)
    _notify(session.student, Notification.Kind.SESSION_CONFIRMED, session)
    return session


@transaction.atomic
def session_decline(
    *, counselor: User, session: CounselingSession, reason: str
) -> CounselingSession:
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.REQUESTED:
        raise _forbidden_transition(session)
    reason = _required_reason(reason)
    session.status = Status.DECLINED
    session.status_reason = reason
    session.save(update_fields=["status", "status_reason"])
    _event(session, counselor, Event.DECLINED, reason)
    _notify(session.student, Notification.Kind.SESSION_DECLINED, session)
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
    session = _reload_locked(session)
    _require(session, user, counselor_only=False)
    if session.status not in CounselingSession.OPEN_STATUSES:
        raise _forbidden_transition(session)
    if session.starts_at <= now:
        raise BookingError(
            "session_started",
            _("This session's time has begun; it can no longer be cancelled."),
        )
    reason = _required_reason(reason)
    policy = booking_policy_for(session.school)
    session.status = Status.CANCELLED
    session.status_reason = reason
    session.is_late_cancellation = session.starts_at - now < datetime.timedelta(
        hours=policy.late_cancel_hours
    )
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
    _event(session, user, Event.CANCELLED, reason)
    other = session.counselor if user.pk == session.student_id else session.student
    _notify(other, Notification.Kind.SESSION_CANCELLED, session)
    return session


@transaction.atomic
def session_start(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.CONFIRMED:
        raise _forbidden_transition(session)
    if now < session.starts_at - START_EARLY:
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
    session.status = Status.IN_PROGRESS
    session.proposed_starts_at = session.proposed_ends_at = None  # the old time holds
    session.save(update_fields=["status", "proposed_starts_at", "proposed_ends_at"])
    _event(session, counselor, Event.STARTED)
    return session


@transaction.atomic
def session_complete(*, counselor: User, session: CounselingSession) -> CounselingSession:
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.IN_PROGRESS:
        raise _forbidden_transition(session)
    session.status = Status.COMPLETED
    session.save(update_fields=["status"])
    _event(session, counselor, Event.COMPLETED)
    return session


@transaction.atomic
def session_mark_no_show(
    *, counselor: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    now = now or timezone.now()
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.CONFIRMED:
        raise _forbidden_transition(session)
    if now < session.starts_at:
        raise BookingError(
            "not_started_yet", _("A no-show can only be recorded after the start time.")
        )
    session.status = Status.NO_SHOW
    session.proposed_starts_at = session.proposed_ends_at = None
    session.save(update_fields=["status", "proposed_starts_at", "proposed_ends_at"])
    _event(session, counselor, Event.NO_SHOW)
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
    session = _reload_locked(session)
    _require(session, counselor, counselor_only=True)
    if session.status != Status.CONFIRMED:
        raise _forbidden_transition(session)
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
    _check_time_free(
        counselor=session.counselor,
        student=session.student,
        starts_at=starts_at,
        ends_at=ends_at,
        exclude=session,
    )
    session.proposed_starts_at, session.proposed_ends_at = starts_at, ends_at
    session.save(update_fields=["proposed_starts_at", "proposed_ends_at"])
    local = timezone.localtime(starts_at, session.school.zone())
    _event(session, counselor, Event.RESCHEDULE_PROPOSED, local.strftime("%Y-%m-%d %H:%M"))
    _notify(session.student, Notification.Kind.RESCHEDULE_PROPOSED, session)
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
    session = _reload_locked(session)
    if session.student_id != student.pk:
        raise BookingError("not_allowed", _("You are not allowed to change this session."))
    if session.status != Status.CONFIRMED or not session.has_proposal:
        raise BookingError("no_proposal", _("There is no new time to answer."))
    starts_at, ends_at = session.proposed_starts_at, session.proposed_ends_at
    session.proposed_starts_at = session.proposed_ends_at = None
    fields = ["proposed_starts_at", "proposed_ends_at"]
    if accept:
        if starts_at <= now:
            raise BookingError("slot_in_past", _("The proposed time has already passed."))
        _check_time_free(
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
        raise BookingError(
            "slot_taken", _("That time was just taken. Please choose another.")
        ) from error
    if accept:
        _event(session, student, Event.RESCHEDULE_ACCEPTED)
        _notify(session.counselor, Notification.Kind.RESCHEDULE_ACCEPTED, session)
    else:
        _event(session, student, Event.RESCHEDULE_REJECTED)
        _notify(session.counselor, Notification.Kind.RESCHEDULE_REJECTED, session)
    return session


@transaction.atomic
def session_consent_give(
    *, student: User, session: CounselingSession, now: datetime.datetime | None = None
) -> CounselingSession:
    """The student agrees to the consent text for a session their counselor created."""
    session = _reload_locked(session)
    if session.student_id != student.pk:
        raise BookingError("not_allowed", _("You are not allowed to change this session."))
    if session.status not in CounselingSession.OPEN_STATUSES:
        raise _forbidden_transition(session)
    if session.consent_given_at is None:
        session.consent_text = booking_policy_for(session.school).consent_text
        session.consent_given_at = now or timezone.now()
        session.save(update_fields=["consent_text", "consent_given_at"])
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
            _event(session, None, Event.DECLINED, session.status_reason)
            _notify(session.student, Notification.Kind.SESSION_DECLINED, session)
            expired += 1
    return expired

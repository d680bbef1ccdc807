"""Rules every booking workflow shares: the error they raise, the row locks that queue
concurrent workflows on the same people, and the no-overlap check.

No two time-holding sessions of one counselor or one student may overlap. The workflows
check it under a row lock on both users (so concurrent requests queue up and the losers
see the winner), and on PostgreSQL exclusion constraints enforce it whatever the path.
"""

import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import has_guardian_consent
from accounts.services import lock_people
from counseling_platform.errors import DomainError
from sessions_app.models import BookingPolicy, CounselingSession, SessionEvent

Status = CounselingSession.Status


class BookingError(DomainError):
    """A booking rule was broken; `code` says which."""


def slot_taken() -> BookingError:
    return BookingError("slot_taken", _("That time was just taken. Please choose another."))


def not_allowed() -> BookingError:
    return BookingError("not_allowed", _("You are not allowed to change this session."))


def check_guardian_consent(student: User, *, asked_by_student: bool) -> None:
    """Counseling a minor needs a guardian's consent (UU PDP): none recorded, or withdrawn,
    means no new session."""
    if has_guardian_consent(student.pk):
        return
    message = (
        _(
            "Counseling sessions need your parent's or guardian's consent, and the school has "
            "none recorded (or it was withdrawn). Ask your school admin."
        )
        if asked_by_student
        else _(
            "This student's parent or guardian has not given consent to counseling (or "
            "withdrew it), so no session can be scheduled or started. The school admin "
            "records consent."
        )
    )
    raise BookingError("guardian_consent_missing", message)


def check_time_free(
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
        raise slot_taken()
    if overlapping.filter(student=student).exists() or proposed.filter(student=student).exists():
        raise BookingError("student_busy", _("The student already has a session at that time."))


def save_new(session: CounselingSession) -> None:
    """Insert, turning the database's overlap veto into the same error as our check."""
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as error:
        if "no_overlap" not in str(error):
            raise
        raise slot_taken() from error


def record_event(
    session: CounselingSession, actor: User | None, kind: str, detail: str = ""
) -> None:
    SessionEvent.objects.create(session=session, actor=actor, kind=kind, detail=detail)


def check_bookable_time(
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


def locked_for(
    session: CounselingSession, user: User, *, by: str, statuses: tuple[str, ...]
) -> CounselingSession:
    """Lock the people, re-read the session (its status may have just changed), and check
    that `user` is the side `by` ("counselor", "student" or "either") and the session is
    in one of `statuses`."""
    lock_people(session.student, session.counselor)
    session = CounselingSession.objects.select_related("student", "counselor", "school").get(
        pk=session.pk
    )
    allowed = {
        "counselor": {session.counselor_id},
        "student": {session.student_id},
        "either": {session.counselor_id, session.student_id},
    }[by]
    if user.pk not in allowed:
        raise not_allowed()
    if session.status not in statuses:
        raise BookingError(
            "invalid_transition",
            _("This cannot be done to a session that is %(status)s.")
            % {"status": str(session.get_status_display()).lower()},
        )
    return session

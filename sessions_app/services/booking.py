"""New sessions: a student's request for a free slot, and a counselor's session for a
client. Each is one transaction that checks every rule and notifies the other side once
the transaction commits."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import lock_people
from notifications.models import Notification
from notifications.services import notify
from sessions_app.models import CounselingSession, SessionEvent, SessionLength
from sessions_app.policy import booking_policy_for
from sessions_app.services.rules import (
    BookingError,
    check_bookable_time,
    check_guardian_consent,
    check_time_free,
    record_event,
    save_new,
    slot_taken,
)
from sessions_app.slots import counselor_slots

Status = CounselingSession.Status
Event = SessionEvent.Kind


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
    lock_people(student, counselor)
    check_guardian_consent(student, asked_by_student=True)
    already = CounselingSession.objects.filter(
        student=student,
        counselor=counselor,
        starts_at=starts_at,
        status__in=CounselingSession.OPEN_STATUSES,
    ).first()
    if already is not None:  # a second tap on "send": the first one went through
        return already
    policy = booking_policy_for(student.school)
    check_bookable_time(policy=policy, starts_at=starts_at, now=now)

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
            raise slot_taken()
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
    check_time_free(
        counselor=counselor, student=student, starts_at=slot.starts_at, ends_at=slot.ends_at
    )
    save_new(session)
    record_event(session, student, Event.REQUESTED)
    notify(user=counselor, kind=Notification.Kind.SESSION_REQUESTED, session=session)
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
    if not student.is_client_of(counselor) or not student.is_active:
        raise BookingError("not_your_client", _("That student is not one of your clients."))
    if starts_at <= now:
        raise BookingError("slot_in_past", _("That time has already passed."))
    if minutes not in SessionLength.values:
        raise BookingError("invalid_length", _("Choose a session length of 30, 45 or 60 minutes."))
    ends_at = starts_at + datetime.timedelta(minutes=minutes)
    lock_people(student, counselor)
    check_guardian_consent(student, asked_by_student=False)
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
    check_time_free(counselor=counselor, student=student, starts_at=starts_at, ends_at=ends_at)
    save_new(session)
    record_event(session, counselor, Event.CREATED)
    notify(user=student, kind=Notification.Kind.SESSION_CREATED, session=session)
    return session

"""Data-protection workflows (UU PDP): recording a data download, erasing a student's
data on a written request, what withdrawing the guardian's consent does to booked
sessions, and the retention of chat transcripts.

What erasure keeps: the session records (date, mode, field, status, phase, outcome and
its events) and the counselor's encrypted notes, which are the school's professional
record of the counseling it gave; the account row stays, anonymised, because those
records point at it. Everything else personal goes (see `student_erase`).
"""

import datetime
from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from accounts.models import PendingCredential, StudentProfile, User
from accounts.selectors import has_guardian_consent
from accounts.services import lock_people
from accounts.sign_ins import sign_ins_end_all
from audit.services import record_transcripts_purged
from counseling_platform.errors import DomainError
from instruments.models import Administration
from notifications.models import Notification
from privacy.models import DataRequest
from privacy.selectors import closed_case_students, is_erased, transcripts_of
from sessions_app.models import ChatMessage, CounselingSession, SessionEvent
from sessions_app.services.lifecycle import session_mark_cancelled

Status = CounselingSession.Status
ERASED_USERNAME = "terhapus-{pk}"


class PrivacyError(DomainError):
    """A data-protection request cannot be processed; `code` says why."""


def _check_admin_of(admin: User, student: User) -> None:
    if not admin.is_school_admin or admin.school_id is None:
        raise PrivacyError("not_allowed", _("Only the school admin can do this."))
    if student.school_id != admin.school_id:
        raise PrivacyError("other_school", _("That account belongs to another school."))
    if not student.is_student or not StudentProfile.objects.filter(user=student).exists():
        raise PrivacyError("not_a_student", _("This can only be done for a student's account."))


def _check_written_request(
    *, requester: str, request_date: datetime.date | None, reference: str, school_today
) -> str:
    if requester not in DataRequest.Requester.values:
        raise PrivacyError("requester_missing", _("Say who made the written request."))
    if request_date is None:
        raise PrivacyError("request_date_missing", _("Enter the date of the written request."))
    if request_date > school_today:
        raise PrivacyError("request_date_future", _("The request's date cannot be in the future."))
    reference = " ".join((reference or "").split())
    if not reference:
        raise PrivacyError(
            "reference_missing", _("Enter a reference or note that identifies the request.")
        )
    return reference[:200]


@transaction.atomic
def data_export_record(
    *,
    processed_by: User,
    student: User,
    requester: str = "",
    request_date: datetime.date | None = None,
    reference: str = "",
    now: datetime.datetime | None = None,
) -> DataRequest:
    """Record a download of `student`'s data: by the student themself, or by their school
    admin on a written request (whose date and reference are required)."""
    now = now or timezone.now()
    if processed_by.pk == student.pk:
        if not student.is_student or not student.is_active:
            raise PrivacyError("not_allowed", _("Only a student can download their own data."))
        requester, request_date, reference = "", None, ""
    else:
        _check_admin_of(processed_by, student)
        reference = _check_written_request(
            requester=requester,
            request_date=request_date,
            reference=reference,
            school_today=timezone.localdate(now, timezone=student.school.zone()),
        )
    if is_erased(student):
        raise PrivacyError("already_erased", _("This student's data has already been erased."))
    return DataRequest.objects.create(
        kind=DataRequest.Kind.EXPORT,
        school_id=student.school_id,
        student=student,
        processed_by=processed_by,
        requester=requester,
        request_date=request_date,
        reference=reference,
        created_at=now,
        completed_at=now,
    )


def _sessions_cancel(
    *, student: User, actor: User, reason: str, now: datetime.datetime, tell_student: bool
) -> int:
    """Cancel the student's sessions still to come (requested or confirmed), telling the
    counselor (and the student, if `tell_student`). Returns how many."""
    upcoming = (
        CounselingSession.objects.select_for_update(of=("self",))
        .select_related("counselor", "student", "school")
        .filter(student=student, status__in=CounselingSession.OPEN_STATUSES, starts_at__gt=now)
    )
    count = 0
    for session in upcoming:
        session_mark_cancelled(
            session=session,
            actor=actor,
            reason=reason,
            is_late=False,  # neither participant's doing
            tell=[session.counselor, session.student] if tell_student else [session.counselor],
        )
        count += 1
    return count


@transaction.atomic
def consent_withdrawal_apply(
    *, admin: User, student: User, now: datetime.datetime | None = None
) -> int:
    """After the guardian's consent is withdrawn: cancel the student's sessions still to
    come, telling both sides. Returns how many were cancelled.

    New bookings and questionnaires are refused where they are made (the booking and
    questionnaire services check the consent); a session already in progress runs to
    its end.
    """
    now = now or timezone.now()
    lock_people(student)
    if has_guardian_consent(student.pk):
        return 0  # consent was given again meanwhile
    return _sessions_cancel(
        student=student,
        actor=admin,
        reason=_("The guardian's consent to counseling was withdrawn."),
        now=now,
        tell_student=True,
    )


@dataclass
class ErasureSummary:
    request: DataRequest
    counts: dict[str, int] = field(default_factory=dict)


def _erased_username(student: User) -> str:
    """ "terhapus-<id>", unless an account happens to be called that already."""
    username = ERASED_USERNAME.format(pk=student.pk)
    if User.objects.filter(username__iexact=username).exclude(pk=student.pk).exists():
        username = f"{username}-{get_random_string(6, 'abcdefghjkmnpqrstuvwxyz23456789')}"
    return username


@transaction.atomic
def student_erase(
    *,
    admin: User,
    student: User,
    requester: str,
    request_date: datetime.date | None,
    reference: str,
    now: datetime.datetime | None = None,
) -> ErasureSummary:
    """Erase a student's personal data on a written request (UU PDP), keeping what the
    school must keep.

    Removed: the chat of every session of the student, their questionnaires and answers,
    their notifications, initial passwords waiting to be handed out, sign-in records
    (lockout counters and sign-in logs), what they wrote when booking or cancelling; the
    account is anonymised (username "terhapus-<id>", no name or e-mail, no usable
    password, deactivated, every sign-in ended), the profile loses NISN, class,
    guardian's name and phone, consent and counselor. Sessions still to come are
    cancelled (the counselor is told).

    Kept: the session records (date, mode, field, status, phase, outcome, events) and
    the counselor's encrypted notes, the school's professional record; the gender (it
    alone identifies no one). The account and profile changes are in the audit trail.
    """
    now = now or timezone.now()
    _check_admin_of(admin, student)
    reference = _check_written_request(
        requester=requester,
        request_date=request_date,
        reference=reference,
        school_today=timezone.localdate(now, timezone=student.school.zone()),
    )
    lock_people(student)
    student = User.objects.select_related("student_profile", "school").get(pk=student.pk)
    if is_erased(student):
        raise PrivacyError("already_erased", _("This student's data has already been erased."))
    running = CounselingSession.objects.filter(
        student=student,
        status=Status.IN_PROGRESS,
        ends_at__gt=now - CounselingSession.ROOM_GRACE,
    )
    if running.exists():
        raise PrivacyError(
            "session_in_progress",
            _("A session of this student is in progress. Erase the data after it has ended."),
        )
    old_username = student.username
    counts: dict[str, int] = {}
    counts["sessions_cancelled"] = _sessions_cancel(
        student=student,
        actor=admin,
        reason=_("The student's data was erased on request."),
        now=now,
        tell_student=False,  # their notifications and e-mail address go now
    )
    counts["chat_messages"] = (
        ChatMessage.objects.filter(session__student=student)
        .delete()[1]
        .get(ChatMessage._meta.label, 0)
    )
    deleted = Administration.objects.filter(student=student).delete()[1]  # with responses
    counts["questionnaires"] = deleted.get(Administration._meta.label, 0)
    counts["questionnaire_responses"] = deleted.get("instruments.Response", 0)
    counts["notifications"] = Notification.objects.filter(user=student).delete()[0]
    counts["pending_credentials"] = PendingCredential.objects.filter(
        username__iexact=old_username
    ).delete()[0]
    counts["sign_in_records"] = sum(
        model.objects.filter(username__iexact=old_username).delete()[0]
        for model in (AccessAttempt, AccessFailureLog, AccessLog)
    )
    # What the student wrote in the session records: the intake text, their reasons.
    sessions = CounselingSession.objects.filter(student=student)
    sessions.update(description="")
    cancelled_by_student = SessionEvent.objects.filter(
        session__student=student, actor=student, kind=SessionEvent.Kind.CANCELLED
    ).values("session_id")
    sessions.filter(pk__in=cancelled_by_student).update(status_reason="")
    SessionEvent.objects.filter(session__student=student, actor=student).update(detail="")

    counts["sign_ins_ended"] = sign_ins_end_all(student)
    student.username = _erased_username(student)
    student.first_name = student.last_name = student.email = ""
    student.set_unusable_password()
    student.is_active = False
    student.must_change_password = False
    student.save()  # through the model, so the audit trail records the change
    profile = student.student_profile
    profile.nisn = None
    profile.school_class = None
    profile.guardian_name = profile.guardian_phone = ""
    profile.has_guardian_consent = False
    profile.guardian_consent_date = None
    profile.counselor = None
    profile.can_see_anxiety_trend = False
    profile.save()
    request = DataRequest.objects.create(
        kind=DataRequest.Kind.ERASURE,
        school_id=student.school_id,
        student=student,
        processed_by=admin,
        requester=requester,
        request_date=request_date,
        reference=reference,
        summary=counts,
        created_at=now,
        completed_at=now,
    )
    return ErasureSummary(request, counts)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same day and time `months` calendar months earlier (the month's last day when
    that day does not exist, e.g. 31 March − 1 month = 28/29 February)."""
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    last_day = (next_month - datetime.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


@dataclass
class PurgedTranscript:
    session_id: int
    student_id: int
    ended_at: datetime.datetime
    messages: int


MAX_RETENTION_MONTHS = 1200  # a century: beyond it the date arithmetic has no meaning


def transcripts_purge(
    *, months: int, now: datetime.datetime | None = None, dry_run: bool = False
) -> list[PurgedTranscript]:
    """Remove the chat transcripts of cases closed more than `months` months ago (see
    `privacy.selectors.closed_case_students`: a case closed exactly `months` months ago
    is kept), writing one audit-trail entry per student. Idempotent: a removed
    transcript is gone, so a second run finds nothing and records nothing. With
    `dry_run`, only report what would go."""
    if not 1 <= months <= MAX_RETENTION_MONTHS:
        raise PrivacyError(
            "bad_retention",
            _("The retention period must be between 1 and %(max)d months.")
            % {"max": MAX_RETENTION_MONTHS},
        )
    now = now or timezone.now()
    cutoff = months_before(now, months)
    purged: list[PurgedTranscript] = []
    for student_id in closed_case_students(cutoff=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            student = User.objects.get(pk=student_id)
            lock_people(student)  # a booking made meanwhile reopens the case
            if not closed_case_students(cutoff=cutoff).filter(pk=student_id).exists():
                continue
            for session in transcripts_of(students=User.objects.filter(pk=student_id)):
                purged.append(
                    PurgedTranscript(session.pk, student_id, session.ends_at, session.message_count)
                )
            if not dry_run:
                deleted = ChatMessage.objects.filter(session__student_id=student_id).delete()
                messages = deleted[1].get(ChatMessage._meta.label, 0)
                record_transcripts_purged(student=student, messages=messages)
    return purged

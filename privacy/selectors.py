"""Reads for the data-protection pages: a student's whole record for the download, the
school's requests, and the students whose case has been closed long enough for the
retention rule."""

import datetime
from dataclasses import dataclass

from auditlog.models import LogEntry
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import SignIn, StudentProfile, User
from instruments.models import Administration, Response
from notifications.models import Notification
from privacy.models import DataRequest
from sessions_app.models import ChatMessage, CounselingSession, SessionEvent


@dataclass
class PersonalData:
    """Everything RuangBK holds about one student that the student may receive.

    Withheld as the counselor's professional record (see the archive's README): the
    counselor's confidential notes and the reason given for a referral.
    """

    student: User
    sessions: list[CounselingSession]
    session_events: list[SessionEvent]
    chat_messages: list[ChatMessage]
    administrations: list[Administration]
    responses: list[Response]
    notifications: list[Notification]
    sign_ins: list[SignIn]
    access_logs: list[AccessLog]
    failed_sign_ins: list[AccessAttempt | AccessFailureLog]
    data_requests: list[DataRequest]
    # When the school admin last recorded or changed the guardian's consent (audit trail).
    guardian_consent_recorded_at: datetime.datetime | None
    # The moment the data was read: a questionnaire's status is as of then.
    read_at: datetime.datetime


CONSENT_FIELDS = ("has_guardian_consent", "guardian_consent_date", "guardian_consent_recorded_by")


def _guardian_consent_recorded_at(profile: StudentProfile) -> datetime.datetime | None:
    touched_consent = Q()
    for name in CONSENT_FIELDS:
        touched_consent |= Q(changes__has_key=name)
    return (
        LogEntry.objects.filter(
            touched_consent,
            content_type=ContentType.objects.get_for_model(StudentProfile),
            object_id=profile.pk,
            action__in=[LogEntry.Action.CREATE, LogEntry.Action.UPDATE],
        )
        # A profile created without consent recorded nothing about consent.
        .exclude(action=LogEntry.Action.CREATE, changes__has_guardian_consent__1=False)
        .order_by("-timestamp", "-pk")
        .values_list("timestamp", flat=True)
        .first()
    )


def student_personal_data(*, student: User, now: datetime.datetime | None = None) -> PersonalData:
    """The student's profile, sessions and their history, the chat of their own sessions,
    every questionnaire sent to them and their responses, their notifications, sign-ins,
    failed sign-in attempts under their username and their data requests, in a fixed
    number of queries."""
    student = User.objects.select_related(
        "school",
        "student_profile__school_class",
        "student_profile__counselor",
        "student_profile__guardian_consent_recorded_by",
    ).get(pk=student.pk)
    sessions = list(
        CounselingSession.objects.filter(student=student)
        .select_related("counselor", "outcome")
        .order_by("starts_at", "pk")
    )
    session_events = list(
        SessionEvent.objects.filter(session__student=student)
        .select_related("actor")
        .order_by("session__starts_at", "session_id", "created_at", "pk")
    )
    chat_messages = list(
        ChatMessage.objects.filter(session__student=student)
        .select_related("sender")
        .order_by("session__starts_at", "session_id", "seq")
    )
    administrations = list(
        Administration.objects.filter(student=student)
        .select_related("counselor")
        .prefetch_related("responses")
        .order_by("opens_at", "pk")
    )
    responses = list(
        Response.objects.filter(administration__student=student)
        .select_related("administration__counselor", "administration__session")
        .order_by("submitted_at", "pk")
    )
    notifications = list(
        Notification.objects.filter(user=student)
        .select_related("session__student", "session__counselor")
        .order_by("created_at", "pk")
    )
    sign_ins = list(SignIn.objects.filter(user=student).order_by("created_at", "pk"))
    # django-axes keys its records by the username typed (lower-cased); RuangBK's settings
    # keep no access or failure log, but rows from an earlier configuration are shown.
    username = student.username
    access_logs = list(
        AccessLog.objects.filter(username__iexact=username).order_by("attempt_time", "pk")
    )
    failed_sign_ins: list[AccessAttempt | AccessFailureLog] = [
        *AccessAttempt.objects.filter(username__iexact=username).order_by("attempt_time", "pk"),
        *AccessFailureLog.objects.filter(username__iexact=username).order_by("attempt_time", "pk"),
    ]
    failed_sign_ins.sort(key=lambda attempt: attempt.attempt_time)
    data_requests = list(
        DataRequest.objects.filter(student=student)
        .select_related("processed_by")
        .order_by("created_at", "pk")
    )
    return PersonalData(
        student=student,
        sessions=sessions,
        session_events=session_events,
        chat_messages=chat_messages,
        administrations=administrations,
        responses=responses,
        notifications=notifications,
        sign_ins=sign_ins,
        access_logs=access_logs,
        failed_sign_ins=failed_sign_ins,
        data_requests=data_requests,
        guardian_consent_recorded_at=_guardian_consent_recorded_at(student.student_profile),
        read_at=now or timezone.now(),
    )


def school_student_get(*, admin: User, user_id: int) -> User:
    """A student of the admin's school; anyone else (another school, not a student) is a
    404."""
    student = get_object_or_404(
        User.objects.select_related("student_profile__school_class"),
        pk=user_id,
        school_id=admin.school_id,
    )
    if not student.is_student or not hasattr(student, "student_profile"):
        raise Http404
    return student


def is_erased(student: User) -> bool:
    return DataRequest.objects.filter(student=student, kind=DataRequest.Kind.ERASURE).exists()


def erasure_of(*, student: User) -> DataRequest | None:
    """The erasure of this student's data, if it has been done."""
    return (
        DataRequest.objects.filter(student=student, kind=DataRequest.Kind.ERASURE)
        .select_related("processed_by")
        .first()
    )


def school_data_requests(*, admin: User) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(school_id=admin.school_id).select_related(
        "student", "processed_by"
    )


def closed_case_students(*, cutoff: datetime.datetime) -> QuerySet[User]:
    """Students with a chat transcript whose case was closed before `cutoff`.

    A student's counseling is one case. It is open while any of their sessions that
    holds a time (requested, confirmed, in progress, completed, no-show) ends at or after
    `cutoff`; once none does, the case counts as closed at the end of its last session,
    whatever the last outcome said (a "resolved" or "referral" outcome closes it, and a
    case continued face to face leaves RuangBK, so a case with no session for the whole
    retention period is closed too). A case whose last session ended exactly at
    `cutoff` has been closed for exactly the period, not longer, and is not returned.
    """
    recent = CounselingSession.objects.filter(
        student=OuterRef("pk"),
        status__in=CounselingSession.HOLDING_STATUSES,
        ends_at__gte=cutoff,
    )
    with_transcript = ChatMessage.objects.filter(session__student=OuterRef("pk"))
    return (
        User.objects.filter(role=User.Role.STUDENT)
        .filter(Exists(with_transcript))
        .exclude(Exists(recent))
        .order_by("pk")
    )


def transcripts_of(*, students: QuerySet[User]) -> QuerySet[CounselingSession]:
    """The sessions of these students that have chat messages, with their counts."""
    return (
        CounselingSession.objects.filter(student__in=students, messages__isnull=False)
        .annotate(message_count=Count("messages"))
        .order_by("student_id", "starts_at", "pk")
    )

"""Reads for the data-protection pages: a student's whole record for the download, the
school's requests, and the students whose case has been closed long enough for the
retention rule."""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.models import User
from instruments.models import Response
from notifications.models import Notification
from privacy.models import DataRequest
from sessions_app.models import ChatMessage, CounselingSession


@dataclass
class PersonalData:
    """Everything RuangBK holds about one student that the student may receive.

    The counselor's confidential notes are not here: they are the counselor's
    professional record (see the archive's README).
    """

    student: User
    sessions: list[CounselingSession]
    chat_messages: list[ChatMessage]
    responses: list[Response]
    notifications: list[Notification]


def student_personal_data(*, student: User) -> PersonalData:
    """The student's profile, sessions, the chat of their own sessions, their
    questionnaire responses and their notifications, in a fixed number of queries."""
    student = User.objects.select_related(
        "school", "student_profile__school_class", "student_profile__counselor"
    ).get(pk=student.pk)
    sessions = list(
        CounselingSession.objects.filter(student=student)
        .select_related("counselor", "outcome")
        .order_by("starts_at", "pk")
    )
    chat_messages = list(
        ChatMessage.objects.filter(session__student=student)
        .select_related("sender")
        .order_by("session__starts_at", "session_id", "seq")
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
    return PersonalData(student, sessions, chat_messages, responses, notifications)


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

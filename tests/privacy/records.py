"""A student's counseling record as the data-protection tests need it: past sessions
with chat, a confidential note and an outcome, an upcoming session, answered
questionnaires and notifications; times fixed so the expected local times are known."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from instruments.services import response_submit
from notifications.models import Notification
from notifications.services import notify
from sessions_app.models import (
    ChatMessage,
    CounselingSession,
    SessionNote,
    SessionOutcome,
)
from tests.factories import AdministrationFactory, CounselingSessionFactory

UTC = datetime.UTC
NOTE = "CONFIDENTIAL-NOTE: suspects trouble at home"
STUDENT_TEXT = '=HYPERLINK("http://x") Saya cemas setiap ulangan'
COUNSELOR_TEXT = "Ceritakan lebih lanjut, ya."
OTHER_TEXT = "OTHER-STUDENT-SECRET: jangan bilang siapa-siapa"


@dataclass
class Record:
    past: CounselingSession
    upcoming: CounselingSession
    past_day: datetime.date


def past_day(days_ago: int = 10) -> datetime.date:
    return (timezone.now() - datetime.timedelta(days=days_ago)).date()


def at_utc(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=UTC)


def chat(session: CounselingSession, *texts: tuple) -> None:
    """texts: (sender, body) pairs, stored in order a minute apart."""
    for seq, (sender, body) in enumerate(texts, start=1):
        ChatMessage.objects.create(
            session=session,
            seq=seq,
            sender=sender,
            client_id=f"00000000-0000-0000-0000-{session.pk:06d}{seq:06d}",
            body=body,
            created_at=session.starts_at + datetime.timedelta(minutes=seq),
        )


def counseling_record(student, *, days_ago: int = 10) -> Record:
    counselor = student.student_profile.counselor
    day = past_day(days_ago)
    # 06:00 UTC is 13:00 in Jakarta (WIB, UTC+7).
    past = CounselingSessionFactory(
        student=student,
        starts_at=at_utc(day, 6),
        ends_at=at_utc(day, 6, 45),
        status="completed",
        description="Saya sulit tidur sebelum ujian.",
    )
    chat(past, (student, STUDENT_TEXT), (counselor, COUNSELOR_TEXT))
    SessionNote.objects.create(session=past, body=NOTE)
    SessionOutcome.objects.create(session=past, kind=SessionOutcome.Kind.RESOLVED)
    upcoming = CounselingSessionFactory(student=student, status="confirmed")
    notify(user=student, kind=Notification.Kind.SESSION_CONFIRMED, session=upcoming)
    administration = AdministrationFactory(student=student, session=past, instrument_code="amas")
    response_submit(
        student=student, administration=administration, answers=dict.fromkeys(range(1, 10), 3)
    )
    return Record(past=past, upcoming=upcoming, past_day=day)


def other_students_chat(other_student) -> CounselingSession:
    session = CounselingSessionFactory(
        student=other_student,
        starts_at=at_utc(past_day(12), 7),
        ends_at=at_utc(past_day(12), 7, 45),
        status="completed",
    )
    chat(session, (other_student, OTHER_TEXT))
    return session

"""A client's single-case study in the database, built the way the platform builds one:
completed sessions send their questionnaires, answers are scored by the definitions."""

import datetime
import itertools

from django.conf import settings
from django.utils import timezone

from instruments.definitions import get_instrument
from instruments.demo import answers_for_total
from instruments.models import Administration
from instruments.scoring import score_answers
from instruments.services import administrations_for_session, response_create
from tests.factories import CounselingSessionFactory

WEEK = datetime.timedelta(days=7)
# Each study starts an hour after the previous one: one counselor, no overlapping sessions.
_hours = itertools.count()


def answer(administration: Administration, total: int, when: datetime.datetime) -> None:
    instrument = get_instrument(administration.instrument_code)
    answers = answers_for_total(instrument, total)
    response_create(
        administration=administration,
        instrument=instrument,
        score=score_answers(instrument, answers),
        answers={str(number): value for number, value in answers.items()},
        submitted_at=when,
    )


def measure(student, phase: str, when: datetime.datetime, total: int | None, code="amas"):
    """One baseline or follow-up questionnaire, answered five hours after it opened."""
    administration = Administration.objects.create(
        school_id=student.school_id,
        student=student,
        counselor=student.student_profile.counselor,
        instrument_code=code,
        phase=phase,
        opens_at=when,
        closes_at=when + datetime.timedelta(days=3),
        notified_at=when,
    )
    if total is not None:
        answer(administration, total, when + datetime.timedelta(hours=5))
    return administration


def session_with_answers(student, starts_at, alliance: int | None, anxiety: int | None):
    session = CounselingSessionFactory(student=student, starts_at=starts_at, status="completed")
    administrations_for_session(session=session, now=session.ends_at)
    for administration in session.administrations.all():
        total = {"wai-sr": alliance, "amas": anxiety}.get(administration.instrument_code)
        if total is not None:
            answer(administration, total, session.ends_at + datetime.timedelta(minutes=10))
    return session


def study(student, *, baseline=(), sessions=(), follow_up=(), start=None):
    """Weekly baseline AMAS totals, then weekly sessions (alliance, anxiety), then weekly
    follow-up AMAS totals, ending last week. Returns the sessions."""
    weeks = len(baseline) + len(sessions) + len(follow_up)
    start = start or (
        timezone.now().replace(minute=0, second=0, microsecond=0)
        - (weeks + 1) * WEEK
        + datetime.timedelta(hours=next(_hours) % 120)
    )
    when = start
    for total in baseline:
        measure(student, "baseline", when, total)
        when += WEEK
    created = []
    for alliance, anxiety in sessions:
        created.append(session_with_answers(student, when, alliance, anxiety))
        when += WEEK
    for total in follow_up:
        measure(student, "follow_up", when, total)
        when += WEEK
    return created


def english(client) -> None:
    """Ask for the pages in English, as the language switcher does."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

"""Questionnaire history for the demo school, so every page has something to show.

siswa03 has a whole single-case study with konselor1: three weekly baseline AMAS, five
counseling sessions each followed by WAI-SR and AMAS, and follow-up AMAS, one of them
open now. siswa04's study starts later (the multiple-baseline view) and ends with an
alliance drop the caseload flags. Other clients of konselor1 took a screening AMAS and
answered once after a session (enough responses for the reliability page and the
reliable change index), and siswa01 has this week's questionnaires still to answer.
"""

import datetime
import random

from django.utils import timezone

from accounts.models import School, User
from instruments.definitions import Instrument, get_instrument
from instruments.models import Administration
from instruments.scoring import score_answers
from instruments.services import administrations_for_session, response_create
from notifications.models import Notification
from sessions_app.models import CounselingSession

Phase = Administration.Phase
WEEK = datetime.timedelta(days=7)


def answers_for_total(instrument: Instrument, total: int) -> dict[int, int]:
    """Item answers that add up to `total`, spread as evenly as the scale allows."""
    items = instrument.choice_items
    base, extra = divmod(total, len(items))
    return {item.number: base + (1 if index < extra else 0) for index, item in enumerate(items)}


def _answer(administration: Administration, answers: dict[int, int], when) -> None:
    instrument = administration.instrument
    response_create(
        administration=administration,
        instrument=instrument,
        score=score_answers(instrument, answers),
        answers={str(number): value for number, value in answers.items()},
        submitted_at=when,
    )


def _measure(student, counselor, code, phase, opens_at, *, answers=None, days_open=3):
    administration = Administration.objects.create(
        school_id=student.school_id,
        student=student,
        counselor=counselor,
        instrument_code=code,
        phase=phase,
        opens_at=opens_at,
        closes_at=opens_at + datetime.timedelta(days=days_open),
        notified_at=opens_at,
        created_by=counselor,
    )
    if answers is not None:
        _answer(administration, answers, opens_at + datetime.timedelta(hours=5))
    return administration


def _past_session(student: User, starts_at: datetime.datetime) -> CounselingSession:
    profile = student.student_profile
    session = CounselingSession.objects.create(
        school_id=student.school_id,
        student=student,
        counselor=profile.counselor,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=45),
        status=CounselingSession.Status.COMPLETED,
        mode=CounselingSession.Mode.CHAT,
        field=CounselingSession.Field.LEARNING,
        consent_text="Persetujuan layanan konseling daring (demo).",
        consent_given_at=starts_at - datetime.timedelta(days=2),
    )
    administrations_for_session(session=session, now=session.ends_at)
    return session


def _session_with_answers(student, starts_at, wai_total, amas_total, answer_items=None):
    session = _past_session(student, starts_at)
    wai, amas = get_instrument("wai-sr"), get_instrument("amas")
    for administration in session.administrations.all():
        if administration.instrument_code == "wai-sr":
            answers = (answer_items or {}).get("wai-sr") or answers_for_total(wai, wai_total)
        elif administration.instrument_code == "amas":
            answers = (answer_items or {}).get("amas") or answers_for_total(amas, amas_total)
        else:
            continue
        _answer(administration, answers, session.ends_at + datetime.timedelta(minutes=10))


def _staggered_study(student, counselor, afternoon, amas) -> None:
    """A second single-case study whose treatment starts three weeks after siswa03's (the
    multiple-baseline design), ending with an alliance drop the caseload flags."""
    for week, total in zip((13, 12, 11, 10, 9, 8, 7), (30, 31, 29, 31, 30, 30, 31), strict=True):
        _measure(student, counselor, "amas", Phase.BASELINE, afternoon - week * WEEK,
                 answers=answers_for_total(amas, total))  # fmt: skip
    later = afternoon + datetime.timedelta(hours=3)  # clear of the other demo sessions
    for week, (wai_total, amas_total) in zip(
        (6, 5, 4, 3, 2, 1),
        ((40, 29), (46, 26), (50, 23), (53, 21), (56, 19), (49, 22)),
        strict=True,
    ):
        _session_with_answers(student, later - week * WEEK, wai_total, amas_total)


def demo_measurements(school: School) -> None:
    if Administration.objects.filter(school=school).exists():
        return
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    zone = school.zone()
    # Sessions at 13:00 school time, the counselor's demo hours.
    afternoon = now.astimezone(zone).replace(hour=13) - datetime.timedelta(days=1)
    study = User.objects.get(username="siswa03")
    counselor = study.student_profile.counselor
    amas = get_instrument("amas")
    for week, total in zip((12, 11, 10), (33, 34, 32), strict=True):
        _measure(study, counselor, "amas", Phase.BASELINE, afternoon - week * WEEK,
                 answers=answers_for_total(amas, total))  # fmt: skip
    for week, (wai_total, amas_total) in zip(
        (9, 8, 7, 6, 5), ((38, 31), (44, 28), (49, 24), (55, 21), (58, 18)), strict=True
    ):
        _session_with_answers(study, afternoon - week * WEEK, wai_total, amas_total)
    for week, total in ((2, 17), (1, 15)):
        _measure(study, counselor, "amas", Phase.FOLLOW_UP, afternoon - week * WEEK,
                 answers=answers_for_total(amas, total))  # fmt: skip
    _measure(study, counselor, "amas", Phase.FOLLOW_UP, now - datetime.timedelta(hours=2))
    _staggered_study(User.objects.get(username="siswa04"), counselor, afternoon, amas)

    # One answered session each for other clients: varied, coherent answers.
    rng = random.Random(4)
    others = User.objects.filter(
        student_profile__counselor=counselor,
        student_profile__has_guardian_consent=True,  # no consent, no questionnaires
        username__in=[f"siswa{n:02d}" for n in range(5, 13)],
    ).select_related("student_profile")
    for index, student in enumerate(others):
        alliance, anxiety = rng.randint(2, 5), rng.randint(1, 5)
        items = {
            "wai-sr": {
                n: min(5, max(1, alliance + rng.choice((-1, 0, 0, 1)))) for n in range(1, 13)
            },
            "amas": {n: min(5, max(1, anxiety + rng.choice((-1, 0, 0, 1)))) for n in range(1, 10)},
        }
        # Distinct times: one counselor cannot hold two sessions at once.
        starts_at = afternoon - (index % 3 + 1) * WEEK + datetime.timedelta(hours=index // 3)
        # The term's screening: one baseline AMAS two weeks before the first session.
        screening = {
            n: min(5, max(1, value + rng.choice((0, 0, 1)))) for n, value in items["amas"].items()
        }
        _measure(
            student, counselor, "amas", Phase.BASELINE, starts_at - 2 * WEEK, answers=screening
        )
        _session_with_answers(student, starts_at, 0, 0, items)
    Notification.objects.filter(user__school=school).update(read_at=now)

    # siswa01 met the counselor yesterday: the questionnaires wait on the home page.
    _past_session(User.objects.get(username="siswa01"), afternoon)

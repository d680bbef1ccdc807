"""Questionnaire workflows: sending, scheduling, answering, voiding, cancelling, rescoring.

Fixed moments: `NOW` is Monday 2026-12-07 01:00 UTC (08:00 WIB); `SATURDAY` is
2026-12-05 01:00 UTC (08:00 WIB). WIB is UTC+7, so 06:00 WIB on a date is 23:00 UTC on the
day before; WITA (Asia/Makassar) is UTC+8, so 06:00 WITA is 22:00 UTC the day before.
Services whose rule depends on the wall clock and take no `now` (cancel, skip, void,
completing a session) are tried on administrations placed around the real time.

Hand-computed answer sets (keys from the issue):
WAI-SR  Task = 1, 2, 10, 12; Bond = 3, 5, 7, 9; Goal = 4, 6, 8, 11; bands low 12–27,
        medium 28–43, high 44–60.
AMAS    Learning = 1, 3, 6, 7, 9; Evaluation = 2, 4, 5, 8; bands low 9–12, fairly_low
        13–17, medium 18–22, fairly_high 23–27, high 28–45.
"""

import datetime
import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from instruments.models import Administration, Response
from instruments.services import (
    InstrumentError,
    administration_cancel,
    administration_skip,
    administrations_announce,
    administrations_for_session,
    administrations_schedule,
    refusal_for,
    response_submit,
    response_void,
    responses_rescore,
)
from notifications.models import Notification
from sessions_app.models import CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.services import (
    BookingError,
    session_cancel,
    session_complete,
    session_mark_no_show,
    session_start,
)
from tests.factories import (
    AdministrationFactory,
    CounselingSessionFactory,
    CounselorFactory,
    ResponseFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB
SATURDAY = datetime.datetime(2026, 12, 5, 1, 0, tzinfo=UTC)  # Saturday 08:00 WIB
MONDAY = datetime.date(2026, 12, 7)
Phase = Administration.Phase
Status = Administration.Status
Kind = Notification.Kind

# WAI-SR: Task 5+4+1+4 = 14, Bond 3+1+4+2 = 10, Goal 2+5+3+5 = 15; total 39 → medium.
WAI_SR_ANSWERS = {1: 5, 2: 4, 3: 3, 4: 2, 5: 1, 6: 5, 7: 4, 8: 3, 9: 2, 10: 1, 11: 5, 12: 4}
# AMAS: Learning 2+1+2+1+2 = 8, Evaluation 4+5+3+4 = 16; total 24 → fairly_high.
AMAS_ANSWERS = {1: 2, 2: 4, 3: 1, 4: 5, 5: 3, 6: 2, 7: 1, 8: 4, 9: 2}
EVALUATION_ANSWERS = {1: 4, 2: 5, 3: 3}


def utc(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, day, hour, minute, tzinfo=UTC)


def days(n: float) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def hours(n: float) -> datetime.timedelta:
    return datetime.timedelta(hours=n)


def assert_refused(call, code: str) -> InstrumentError:
    with pytest.raises(InstrumentError) as caught:
        call()
    assert caught.value.code == code, caught.value.message
    return caught.value


def open_at_now(student, code: str = "amas", **kwargs) -> Administration:
    """Open from an hour before NOW for three days."""
    kwargs.setdefault("opens_at", NOW - hours(1))
    kwargs.setdefault("closes_at", NOW + days(3))
    return AdministrationFactory(student=student, instrument_code=code, **kwargs)


def notifications(user, kind: str) -> int:
    return Notification.objects.filter(user=user, kind=kind).count()


# --- After a completed session -------------------------------------------------------------


def complete_a_session(counselor, student) -> CounselingSession:
    """Start and complete a confirmed session that began five minutes ago."""
    starts_at = timezone.now() - datetime.timedelta(minutes=5)
    session = CounselingSessionFactory(
        student=student, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=45)
    )
    session_start(counselor=counselor, session=session)
    return session_complete(counselor=counselor, session=session)


def test_completing_a_session_sends_each_after_session_questionnaire_once(counselor, student):
    before = timezone.now()
    session = complete_a_session(counselor, student)
    after = timezone.now()

    administrations = list(Administration.objects.order_by("instrument_code"))
    assert [a.instrument_code for a in administrations] == [
        "amas",
        "service-evaluation",
        "wai-sr",
    ]
    for administration in administrations:
        assert administration.session_id == session.pk
        assert administration.phase == Phase.TREATMENT
        assert administration.student_id == student.pk
        assert administration.counselor_id == counselor.pk
        assert administration.school_id == student.school_id
        assert before <= administration.opens_at <= after
        assert administration.closes_at - administration.opens_at == days(3)
        assert administration.notified_at == administration.opens_at
        assert administration.status == Status.OPEN
    assert notifications(student, Kind.QUESTIONNAIRES_READY) == 1
    assert notifications(counselor, Kind.QUESTIONNAIRES_READY) == 0


def test_after_session_questionnaires_stay_open_as_long_as_the_school_says(counselor, student):
    policy = booking_policy_for(student.school)
    policy.questionnaire_open_days = 5
    policy.save()

    complete_a_session(counselor, student)

    spans = {a.closes_at - a.opens_at for a in Administration.objects.all()}
    assert spans == {days(5)}


def test_sending_the_session_questionnaires_again_creates_nothing(counselor, student):
    session = complete_a_session(counselor, student)

    assert administrations_for_session(session=session) == 0

    assert Administration.objects.filter(session=session).count() == 3
    ready = Notification.objects.filter(user=student, kind=Kind.QUESTIONNAIRES_READY)
    assert [n.session_id for n in ready] == [session.pk]


def test_a_cancelled_session_sends_no_questionnaires(counselor, student):
    session = CounselingSessionFactory(student=student)  # two days ahead, confirmed

    session_cancel(user=student, session=session, reason="Sakit")
    with pytest.raises(BookingError):
        session_complete(counselor=counselor, session=session)

    assert not Administration.objects.exists()
    assert notifications(student, Kind.QUESTIONNAIRES_READY) == 0


def test_a_no_show_sends_no_questionnaires(counselor, student):
    starts_at = timezone.now() - hours(2)
    session = CounselingSessionFactory(
        student=student, starts_at=starts_at, ends_at=starts_at + datetime.timedelta(minutes=45)
    )

    session_mark_no_show(counselor=counselor, session=session)
    with pytest.raises(BookingError):
        session_complete(counselor=counselor, session=session)

    assert not Administration.objects.exists()
    assert notifications(student, Kind.QUESTIONNAIRES_READY) == 0


# --- Baseline and follow-up scheduling -----------------------------------------------------


def schedule(counselor, student, **changes) -> list[Administration]:
    arguments = {
        "instrument_code": "amas",
        "phase": Phase.BASELINE,
        "first_date": MONDAY,
        "count": 3,
        "interval_days": 7,
        "open_days": 3,
        "now": SATURDAY,
    }
    arguments.update(changes)
    return administrations_schedule(counselor=counselor, student=student, **arguments)


def test_three_baseline_occasions_open_at_six_school_time_a_week_apart(counselor, student):
    schedule(counselor, student)

    administrations = list(Administration.objects.order_by("opens_at"))
    # 06:00 WIB on 7, 14 and 21 December is 23:00 UTC on 6, 13 and 20 December.
    assert [a.opens_at for a in administrations] == [utc(6, 23), utc(13, 23), utc(20, 23)]
    assert [a.closes_at for a in administrations] == [utc(9, 23), utc(16, 23), utc(23, 23)]
    for administration in administrations:
        assert administration.instrument_code == "amas"
        assert administration.phase == Phase.BASELINE
        assert administration.session_id is None
        assert administration.counselor_id == counselor.pk
        assert administration.created_by_id == counselor.pk
        assert administration.school_id == student.school_id
        assert administration.notified_at is None
        assert administration.status_at(SATURDAY) == Status.SCHEDULED
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 0


def test_scheduled_occasions_open_at_six_in_the_schools_own_time_zone(other_school):
    counselor = CounselorFactory(school=other_school)
    student = StudentFactory(school=other_school)
    student.student_profile.counselor = counselor
    student.student_profile.save()

    schedule(counselor, student, count=2, phase=Phase.FOLLOW_UP)

    # 06:00 WITA (UTC+8) on 7 and 14 December.
    opens = list(Administration.objects.order_by("opens_at").values_list("opens_at", flat=True))
    assert opens == [utc(6, 22), utc(13, 22)]


def test_an_occasion_scheduled_for_today_opens_now_and_is_announced_at_once(counselor, student):
    created = schedule(counselor, student, now=NOW)  # 08:00 WIB on the first date

    first, _second, _third = sorted(created, key=lambda a: a.opens_at)
    first.refresh_from_db()
    assert first.opens_at == NOW
    assert first.notified_at == NOW
    assert first.status_at(NOW) == Status.OPEN
    assert Administration.objects.filter(notified_at__isnull=True).count() == 2
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1


def test_scheduling_today_before_six_waits_for_six(counselor, student):
    before_six = utc(6, 17, 30)  # 00:30 WIB on Monday 7 December

    schedule(counselor, student, count=1, now=before_six)

    administration = Administration.objects.get()
    assert administration.opens_at == utc(6, 23)
    assert administration.notified_at is None
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 0


def test_future_occasions_are_announced_once_when_they_open(counselor, student):
    schedule(counselor, student)
    first, second, _third = Administration.objects.order_by("opens_at")

    assert administrations_announce(now=utc(6, 22, 59)) == 0
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 0

    assert administrations_announce(now=utc(6, 23)) == 1
    assert administrations_announce(now=utc(6, 23)) == 0
    assert administrations_announce(now=utc(8, 12)) == 0

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.notified_at == utc(6, 23)
    assert second.notified_at is None
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1

    assert administrations_announce(now=utc(14, 1)) == 1
    second.refresh_from_db()
    assert second.notified_at == utc(14, 1)
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 2


def test_an_occasion_scheduled_late_today_still_closes_before_the_next_opens(counselor, student):
    evening = utc(7, 13)  # 20:00 WIB on the first date

    schedule(counselor, student, count=2, interval_days=7, open_days=7, now=evening)

    first, second = Administration.objects.order_by("opens_at")
    assert second.opens_at == utc(13, 23)  # 06:00 WIB on 14 December
    assert first.closes_at <= second.opens_at


def test_announcing_skips_cancelled_and_already_closed_questionnaires(counselor, student):
    AdministrationFactory(
        student=student, opens_at=NOW - hours(1), notified_at=None, cancelled_at=NOW - hours(2)
    )
    AdministrationFactory(
        student=student, opens_at=NOW - days(5), closes_at=NOW - days(2), notified_at=None
    )

    assert administrations_announce(now=NOW) == 0
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 0


def test_scheduling_announces_only_that_students_questionnaires(counselor, student, other_student):
    AdministrationFactory(  # due at SATURDAY too, but left for the cron run
        student=other_student,
        opens_at=SATURDAY - hours(1),
        closes_at=SATURDAY + days(3),
        notified_at=None,
    )

    schedule(counselor, student, count=1, first_date=SATURDAY.date())

    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1
    assert notifications(other_student, Kind.QUESTIONNAIRE_OPENED) == 0


def test_one_announcement_per_student_however_many_questionnaires_opened(counselor, student):
    for code in ("amas", "wai-sr"):
        open_at_now(student, code, notified_at=None)

    assert administrations_announce(now=NOW) == 2

    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1
    assert not Administration.objects.filter(notified_at__isnull=True).exists()


def test_open_questionnaires_command_announces_what_has_opened_once(counselor, student):
    opened = AdministrationFactory(student=student, phase=Phase.BASELINE, notified_at=None)
    later = AdministrationFactory(
        student=student,
        phase=Phase.BASELINE,
        opens_at=timezone.now() + days(1),
        notified_at=None,
    )
    before = timezone.now()

    out = io.StringIO()
    call_command("open_questionnaires", stdout=out)
    assert out.getvalue().strip() == "1 questionnaire(s) announced."

    opened.refresh_from_db()
    later.refresh_from_db()
    assert before <= opened.notified_at <= timezone.now()
    assert later.notified_at is None
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1

    out = io.StringIO()
    call_command("open_questionnaires", stdout=out)
    assert out.getvalue().strip() == "0 questionnaire(s) announced."
    assert notifications(student, Kind.QUESTIONNAIRE_OPENED) == 1


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"student": "other_student"}, "not_client", id="other-counselors-client"),
        pytest.param({"counselor": "other_counselor"}, "not_client", id="other-counselor"),
        pytest.param({"counselor": "foreign_counselor"}, "not_client", id="foreign-counselor"),
        pytest.param({"counselor": "school_admin"}, "not_client", id="school-admin"),
        pytest.param({"instrument_code": "phq-9"}, "unknown_instrument", id="unknown"),
        pytest.param({"phase": Phase.TREATMENT}, "bad_phase", id="treatment"),
        pytest.param({"phase": "midpoint"}, "bad_phase", id="made-up-phase"),
        pytest.param({"count": 0}, "bad_count", id="count-0"),
        pytest.param({"count": 11}, "bad_count", id="count-11"),
        pytest.param({"open_days": 8}, "overlapping", id="open-longer-than-interval"),
        pytest.param({"first_date": datetime.date(2026, 12, 4)}, "in_past", id="yesterday"),
    ],
)
def test_scheduling_is_refused_and_creates_nothing(request, counselor, student, changes, code):
    changes = dict(changes)
    people = {"student": student, "counselor": counselor}
    for role in ("student", "counselor"):
        if role in changes:
            people[role] = request.getfixturevalue(changes.pop(role))

    assert_refused(
        lambda: schedule(people["counselor"], people["student"], **changes),
        code,
    )

    assert not Administration.objects.exists()
    assert not Notification.objects.exists()


def test_first_date_in_the_past_is_judged_in_school_time(counselor, student):
    just_after_midnight = utc(6, 17, 30)  # still Sunday 6 December in UTC, Monday in WIB

    assert_refused(
        lambda: schedule(counselor, student, first_date=datetime.date(2026, 12, 6), now=NOW),
        "in_past",
    )
    assert_refused(
        lambda: schedule(
            counselor, student, first_date=datetime.date(2026, 12, 6), now=just_after_midnight
        ),
        "in_past",
    )
    assert not Administration.objects.exists()


def test_an_occasion_already_scheduled_that_day_refuses_the_whole_series(counselor, student):
    # Already an AMAS on Monday 14 December, 09:00 WIB: the series' second occasion.
    AdministrationFactory(
        student=student, phase=Phase.FOLLOW_UP, opens_at=utc(14, 2), notified_at=None
    )

    assert_refused(lambda: schedule(counselor, student, now=NOW), "duplicate")

    assert Administration.objects.count() == 1
    assert not Notification.objects.exists()


def test_an_occasion_overlapping_an_open_window_of_the_same_instrument_is_refused(
    counselor, student
):
    # Already there: AMAS from Monday 7 December 06:00 WIB to Thursday 10 December 06:00.
    AdministrationFactory(
        student=student, opens_at=utc(6, 23), closes_at=utc(9, 23), notified_at=None
    )

    for day in (6, 7, 9):  # Sunday's window (to Wednesday 06:00) overlaps, too
        assert_refused(
            lambda day=day: schedule(counselor, student, count=1, first_date=date(day)),
            "duplicate",
        )
    schedule(counselor, student, count=1, first_date=date(10))  # opens as the other closes
    schedule(counselor, student, count=1, first_date=date(5), open_days=1)  # closes before

    assert Administration.objects.count() == 3


def test_the_overlap_check_uses_the_school_day(counselor, student):
    # 00:30 WIB on Monday 7 December is still Sunday 6 December in UTC: a one-day window
    # from Sunday 06:00 WIB (to Monday 06:00) overlaps it.
    AdministrationFactory(
        student=student, opens_at=utc(6, 17, 30), closes_at=utc(6, 18), notified_at=None
    )

    assert_refused(
        lambda: schedule(counselor, student, count=1, first_date=date(6), open_days=1),
        "duplicate",
    )
    schedule(counselor, student, count=1, first_date=date(5), open_days=1)


def date(day: int) -> datetime.date:
    return datetime.date(2026, 12, day)


def test_a_cancelled_occasion_does_not_block_that_day(counselor, student):
    AdministrationFactory(
        student=student, opens_at=utc(6, 23), notified_at=None, cancelled_at=SATURDAY
    )

    schedule(counselor, student, count=1)

    assert Administration.objects.filter(cancelled_at__isnull=True).count() == 1


def test_another_instrument_on_the_same_day_is_not_a_duplicate(counselor, student):
    schedule(counselor, student, instrument_code="wai-sr")
    schedule(counselor, student, instrument_code="amas")

    assert Administration.objects.filter(instrument_code="amas").count() == 3
    assert Administration.objects.filter(instrument_code="wai-sr").count() == 3


@pytest.mark.parametrize(
    ("count", "interval_days", "open_days"),
    [
        pytest.param(10, 7, 3, id="ten-occasions"),
        pytest.param(1, 7, 3, id="one-occasion"),
        pytest.param(3, 7, 7, id="closes-as-the-next-opens"),
        pytest.param(1, 1, 14, id="one-occasion-may-stay-open-long"),
    ],
)
def test_scheduling_at_the_limits_is_accepted(counselor, student, count, interval_days, open_days):
    created = schedule(
        counselor, student, count=count, interval_days=interval_days, open_days=open_days
    )

    assert len(created) == count
    administrations = list(Administration.objects.order_by("opens_at"))
    assert len(administrations) == count
    for earlier, later in itertools.pairwise(administrations):
        assert earlier.closes_at <= later.opens_at


# --- Answering -----------------------------------------------------------------------------


def test_wai_sr_answers_are_stored_with_their_hand_computed_scores(student):
    administration = open_at_now(student, "wai-sr")

    response = response_submit(
        student=student, administration=administration, answers=WAI_SR_ANSWERS, now=NOW
    )

    response.refresh_from_db()
    assert response.administration_id == administration.pk
    assert response.submitted_at == NOW
    assert response.answers == {str(n): v for n, v in WAI_SR_ANSWERS.items()}
    assert response.total == 39
    assert response.subscale_scores == {"task": 14, "bond": 10, "goal": 15}
    assert response.band == "medium"
    assert response.definition_version == "1.0"
    assert response.is_imported is False
    assert response.voided_at is None


def test_amas_answers_are_stored_with_their_hand_computed_scores(student):
    administration = open_at_now(student, "amas")

    response_submit(student=student, administration=administration, answers=AMAS_ANSWERS, now=NOW)

    response = Response.objects.get()
    assert response.answers == {str(n): v for n, v in AMAS_ANSWERS.items()}
    assert response.total == 24
    assert response.subscale_scores == {"learning": 8, "evaluation": 16}
    assert response.band == "fairly_high"
    assert response.definition_version == "1.0"
    administration.refresh_from_db()
    assert administration.status_at(NOW) == Status.COMPLETED


def test_a_second_submit_is_refused_and_one_response_stays(student):
    administration = open_at_now(student, "amas")
    response_submit(student=student, administration=administration, answers=AMAS_ANSWERS, now=NOW)

    other_answers = dict.fromkeys(range(1, 10), 5)
    assert_refused(
        lambda: response_submit(
            student=student, administration=administration, answers=other_answers, now=NOW
        ),
        "already_answered",
    )

    response = Response.objects.get()
    assert response.total == 24


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        pytest.param(NOW - hours(1) - datetime.timedelta(seconds=1), False, id="before-opening"),
        pytest.param(NOW - hours(1), True, id="at-opening"),
        pytest.param(NOW + days(3) - datetime.timedelta(seconds=1), True, id="last-second"),
        pytest.param(NOW + days(3), False, id="at-closing"),
    ],
)
def test_answers_are_accepted_from_opening_until_closing(student, moment, allowed):
    administration = open_at_now(student, "amas")

    def submit():
        return response_submit(
            student=student, administration=administration, answers=AMAS_ANSWERS, now=moment
        )

    if allowed:
        submit()
        assert Response.objects.count() == 1
    else:
        expected = "not_open_yet" if moment < administration.opens_at else "expired"
        assert_refused(submit, expected)
        assert not Response.objects.exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        pytest.param({"opens_at": NOW - days(5), "closes_at": NOW - days(2)}, "expired", id="exp"),
        pytest.param(
            {"opens_at": NOW + days(2), "closes_at": NOW + days(5)}, "not_open_yet", id="later"
        ),
        pytest.param({"cancelled_at": NOW - hours(2)}, "cancelled", id="cancelled"),
    ],
)
def test_a_questionnaire_that_cannot_be_answered_now_stores_nothing(student, changes, code):
    administration = open_at_now(student, "amas", **changes)

    error = assert_refused(
        lambda: response_submit(
            student=student, administration=administration, answers=AMAS_ANSWERS, now=NOW
        ),
        code,
    )

    assert error.message
    assert not Response.objects.exists()


@pytest.mark.parametrize("who", ["other_student", "foreign_student", "counselor"])
def test_nobody_else_can_answer_a_students_questionnaire(request, student, who):
    administration = open_at_now(student, "amas")
    intruder = request.getfixturevalue(who)

    assert_refused(
        lambda: response_submit(
            student=intruder, administration=administration, answers=AMAS_ANSWERS, now=NOW
        ),
        "not_allowed",
    )

    assert not Response.objects.exists()


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param({n: v for n, v in AMAS_ANSWERS.items() if n != 9}, id="item-9-missing"),
        pytest.param({}, id="nothing"),
        pytest.param({**AMAS_ANSWERS, 4: 6}, id="above-the-scale"),
        pytest.param({**AMAS_ANSWERS, 4: 0}, id="below-the-scale"),
        pytest.param({**AMAS_ANSWERS, 4: "5"}, id="text-for-a-scale-item"),
        pytest.param({**AMAS_ANSWERS, 4: True}, id="boolean"),
    ],
)
def test_incomplete_or_out_of_range_answers_are_refused(student, answers):
    administration = open_at_now(student, "amas")

    assert_refused(
        lambda: response_submit(
            student=student, administration=administration, answers=answers, now=NOW
        ),
        "incomplete",
    )

    assert not Response.objects.exists()
    assert administration.status_at(NOW) == Status.OPEN


def test_service_evaluation_keeps_the_free_comment(student):
    administration = open_at_now(student, "service-evaluation")

    response_submit(
        student=student,
        administration=administration,
        answers={**EVALUATION_ANSWERS, 4: "  Koneksinya lancar, terima kasih.  "},
        now=NOW,
    )

    response = Response.objects.get()
    assert response.answers == {"1": 4, "2": 5, "3": 3, "4": "Koneksinya lancar, terima kasih."}
    assert response.total is None
    assert response.band == ""
    assert response.subscale_scores == {}
    assert response.definition_version == "1.0"


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_service_evaluation_works_without_a_comment(student, comment):
    administration = open_at_now(student, "service-evaluation")
    answers = dict(EVALUATION_ANSWERS)
    if comment is not None:
        answers[4] = comment

    response_submit(student=student, administration=administration, answers=answers, now=NOW)

    assert Response.objects.get().answers == {"1": 4, "2": 5, "3": 3}


def test_service_evaluation_still_needs_its_scale_items(student):
    administration = open_at_now(student, "service-evaluation")

    assert_refused(
        lambda: response_submit(
            student=student,
            administration=administration,
            answers={1: 4, 2: 5, 4: "Bagus"},
            now=NOW,
        ),
        "incomplete",
    )
    assert not Response.objects.exists()


# --- Skipping ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["wai-sr", "amas"])
def test_required_questionnaires_cannot_be_skipped(student, code):
    administration = AdministrationFactory(student=student, instrument_code=code)

    assert_refused(
        lambda: administration_skip(student=student, administration=administration), "required"
    )

    administration.refresh_from_db()
    assert administration.skipped_at is None
    assert administration.status == Status.OPEN


def test_student_skips_the_service_evaluation(student):
    administration = AdministrationFactory(student=student, instrument_code="service-evaluation")

    before = timezone.now()
    administration_skip(student=student, administration=administration)

    administration.refresh_from_db()
    assert before <= administration.skipped_at <= timezone.now()
    assert administration.status == Status.SKIPPED
    assert not Response.objects.exists()


def test_answering_a_skipped_questionnaire_while_open_clears_the_skip(student):
    administration = AdministrationFactory(
        student=student,
        instrument_code="service-evaluation",
        skipped_at=timezone.now() - datetime.timedelta(minutes=5),
    )

    response_submit(student=student, administration=administration, answers=EVALUATION_ANSWERS)

    administration.refresh_from_db()
    assert administration.skipped_at is None
    assert administration.status == Status.COMPLETED
    assert Response.objects.filter(administration=administration).count() == 1


def test_another_student_cannot_skip_a_students_questionnaire(student, other_student):
    administration = AdministrationFactory(student=student, instrument_code="service-evaluation")

    assert_refused(
        lambda: administration_skip(student=other_student, administration=administration),
        "not_allowed",
    )

    administration.refresh_from_db()
    assert administration.skipped_at is None


def test_a_skipped_questionnaire_cannot_be_answered_after_it_closed(student):
    administration = open_at_now(student, "service-evaluation", skipped_at=NOW)
    after_closing = administration.closes_at + hours(1)

    refusal = refusal_for(administration, after_closing)

    assert refusal is not None
    assert refusal.code == "expired"


def test_a_closed_or_answered_questionnaire_cannot_be_skipped(student):
    closed = AdministrationFactory(
        student=student,
        instrument_code="service-evaluation",
        opens_at=timezone.now() - days(5),
        closes_at=timezone.now() - days(1),
    )
    assert_refused(lambda: administration_skip(student=student, administration=closed), "expired")

    answered = AdministrationFactory(student=student, instrument_code="service-evaluation")
    response_submit(student=student, administration=answered, answers=EVALUATION_ANSWERS)
    assert_refused(
        lambda: administration_skip(student=student, administration=answered), "already_answered"
    )
    assert not Administration.objects.filter(skipped_at__isnull=False).exists()


# --- Voiding -------------------------------------------------------------------------------


@pytest.fixture
def answered(student):
    """The student's AMAS answered at NOW (scores worked out by hand above)."""
    return ResponseFactory(
        administration=open_at_now(student, "amas"),
        submitted_at=NOW,
        answers={str(n): v for n, v in AMAS_ANSWERS.items()},
        total=24,
        band="fairly_high",
        subscale_scores={"learning": 8, "evaluation": 16},
    )


def test_counselor_voids_a_response_with_a_reason_and_it_is_kept(counselor, answered):
    before = timezone.now()

    response_void(counselor=counselor, response=answered, reason="  Diisi   oleh\n teman  ")

    answered.refresh_from_db()
    assert before <= answered.voided_at <= timezone.now()
    assert answered.voided_by_id == counselor.pk
    assert answered.void_reason == "Diisi oleh teman"
    assert answered.total == 24
    assert answered.answers == {str(n): v for n, v in AMAS_ANSWERS.items()}
    assert answered.administration.status_at(NOW) == Status.OPEN


@pytest.mark.parametrize("reason", ["", "   ", "\n\t "])
def test_voiding_needs_a_reason(counselor, answered, reason):
    assert_refused(
        lambda: response_void(counselor=counselor, response=answered, reason=reason),
        "reason_required",
    )

    answered.refresh_from_db()
    assert answered.voided_at is None
    assert answered.void_reason == ""


@pytest.mark.parametrize(
    "who", ["other_counselor", "foreign_counselor", "school_admin", "student", "other_student"]
)
def test_only_the_students_counselor_can_void(request, answered, who):
    someone = request.getfixturevalue(who)

    assert_refused(
        lambda: response_void(counselor=someone, response=answered, reason="Salah isi"),
        "not_allowed",
    )

    answered.refresh_from_db()
    assert answered.voided_at is None


def test_a_response_cannot_be_voided_twice(counselor, answered):
    response_void(counselor=counselor, response=answered, reason="Salah isi")
    answered.refresh_from_db()
    first_void = (answered.voided_at, answered.void_reason)

    assert_refused(
        lambda: response_void(counselor=counselor, response=answered, reason="Lagi"),
        "already_voided",
    )

    answered.refresh_from_db()
    assert (answered.voided_at, answered.void_reason) == first_void


def test_after_voiding_the_student_answers_again_while_it_is_open(counselor, student, answered):
    response_void(counselor=counselor, response=answered, reason="Salah isi")
    administration = answered.administration

    again = response_submit(
        student=student,
        administration=administration,
        answers=dict.fromkeys(range(1, 10), 1),
        now=NOW + hours(1),
    )

    responses = list(Response.objects.filter(administration=administration).order_by("pk"))
    assert [r.pk for r in responses] == [answered.pk, again.pk]
    assert responses[0].voided_at is not None
    assert responses[1].voided_at is None
    assert responses[1].total == 9
    assert responses[1].band == "low"
    administration.refresh_from_db()
    assert administration.live_response.pk == again.pk
    assert_refused(
        lambda: response_submit(
            student=student, administration=administration, answers=AMAS_ANSWERS, now=NOW
        ),
        "already_answered",
    )


def test_after_voiding_a_closed_questionnaire_cannot_be_answered_again(
    counselor, student, answered
):
    response_void(counselor=counselor, response=answered, reason="Salah isi")

    assert_refused(
        lambda: response_submit(
            student=student,
            administration=answered.administration,
            answers=AMAS_ANSWERS,
            now=NOW + days(3),
        ),
        "expired",
    )
    assert Response.objects.count() == 1


# --- Cancelling ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "opens_in",
    [pytest.param(hours(-1), id="open"), pytest.param(days(2), id="scheduled")],
)
def test_counselor_cancels_an_unanswered_questionnaire(counselor, student, opens_in):
    administration = AdministrationFactory(
        student=student, phase=Phase.BASELINE, opens_at=timezone.now() + opens_in
    )
    before = timezone.now()

    administration_cancel(counselor=counselor, administration=administration)

    administration.refresh_from_db()
    assert before <= administration.cancelled_at <= timezone.now()
    assert administration.status == Status.CANCELLED
    assert_refused(
        lambda: response_submit(
            student=student, administration=administration, answers=AMAS_ANSWERS
        ),
        "cancelled",
    )


@pytest.mark.parametrize(
    "state",
    ["answered", "expired", "cancelled", "skipped"],
)
def test_only_a_scheduled_or_open_questionnaire_can_be_cancelled(counselor, student, state):
    now = timezone.now()
    if state == "answered":
        administration = ResponseFactory(administration__student=student).administration
    elif state == "expired":
        administration = AdministrationFactory(
            student=student, opens_at=now - days(5), closes_at=now - days(2)
        )
    elif state == "cancelled":
        administration = AdministrationFactory(student=student, cancelled_at=now - hours(1))
    else:
        administration = AdministrationFactory(
            student=student, instrument_code="service-evaluation", skipped_at=now - hours(1)
        )
    cancelled_at = administration.cancelled_at

    assert_refused(
        lambda: administration_cancel(counselor=counselor, administration=administration),
        "not_cancellable",
    )

    administration.refresh_from_db()
    assert administration.cancelled_at == cancelled_at


@pytest.mark.parametrize("who", ["other_counselor", "foreign_counselor", "school_admin", "student"])
def test_only_the_students_counselor_can_cancel(request, student, who):
    administration = AdministrationFactory(student=student)

    assert_refused(
        lambda: administration_cancel(
            counselor=request.getfixturevalue(who), administration=administration
        ),
        "not_allowed",
    )

    administration.refresh_from_db()
    assert administration.cancelled_at is None


# --- Rescoring -----------------------------------------------------------------------------


def stale(student, code: str, **kwargs) -> Response:
    """A response stored under definition version 0.9 with made-up scores."""
    defaults = {
        "administration__student": student,
        "administration__instrument_code": code,
        "definition_version": "0.9",
        "total": 99,
        "band": "low",
        "subscale_scores": {"old": 1},
    }
    return ResponseFactory(**{**defaults, **kwargs})


def test_rescoring_recomputes_stale_responses_from_their_answers(student):
    amas = stale(student, "amas", answers={str(n): v for n, v in AMAS_ANSWERS.items()})
    wai_sr = stale(student, "wai-sr", answers={str(n): v for n, v in WAI_SR_ANSWERS.items()})

    assert responses_rescore() == (2, [])

    amas.refresh_from_db()
    assert (amas.total, amas.band, amas.definition_version) == (24, "fairly_high", "1.0")
    assert amas.subscale_scores == {"learning": 8, "evaluation": 16}
    wai_sr.refresh_from_db()
    assert (wai_sr.total, wai_sr.band, wai_sr.definition_version) == (39, "medium", "1.0")
    assert wai_sr.subscale_scores == {"task": 14, "bond": 10, "goal": 15}

    assert responses_rescore() == (0, [])


def test_rescoring_an_imported_total_only_response_recomputes_its_band(student):
    # AMAS total 13 is the bottom of "fairly_low"; WAI-SR 44 the bottom of "high".
    amas = stale(student, "amas", answers={}, total=13, is_imported=True)
    wai_sr = stale(student, "wai-sr", answers={}, total=44, band="medium", is_imported=True)

    assert responses_rescore() == (2, [])

    amas.refresh_from_db()
    assert (amas.total, amas.band, amas.definition_version) == (13, "fairly_low", "1.0")
    assert amas.subscale_scores == {}
    wai_sr.refresh_from_db()
    assert (wai_sr.total, wai_sr.band, wai_sr.definition_version) == (44, "high", "1.0")


def test_rescoring_leaves_current_responses_alone(student):
    current = stale(
        student,
        "amas",
        answers={str(n): v for n, v in AMAS_ANSWERS.items()},
        definition_version="1.0",
    )

    assert responses_rescore() == (0, [])

    current.refresh_from_db()
    assert (current.total, current.band) == (99, "low")


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param(
            {"answers": {str(n): v for n, v in AMAS_ANSWERS.items() if n != 9}},
            id="item-missing",
        ),
        pytest.param({"answers": {**{str(n): 3 for n in range(1, 10)}, "4": 7}}, id="answer-7"),
        pytest.param({"answers": {}, "total": 50}, id="total-above-45"),
        pytest.param({"answers": {}, "total": None}, id="no-total"),
    ],
)
def test_responses_that_no_longer_fit_are_left_alone_and_reported(student, changes):
    misfit = stale(student, "amas", **changes)
    fine = stale(student, "amas", answers={str(n): v for n, v in AMAS_ANSWERS.items()})

    rescored, problems = responses_rescore()

    assert rescored == 1
    assert len(problems) == 1
    assert problems[0].startswith(f"response {misfit.pk} (amas)")
    kept = Response.objects.get(pk=misfit.pk)
    assert (kept.total, kept.band, kept.definition_version) == (
        changes.get("total", 99),
        "low",
        "0.9",
    )
    assert kept.subscale_scores == {"old": 1}
    fine.refresh_from_db()
    assert fine.definition_version == "1.0"


def test_rescore_command_reports_its_work_and_is_idempotent(student):
    stale(student, "amas", answers={str(n): v for n, v in AMAS_ANSWERS.items()})

    out = io.StringIO()
    call_command("rescore_responses", stdout=out)
    assert out.getvalue().strip() == "1 response(s) rescored."

    out = io.StringIO()
    call_command("rescore_responses", stdout=out)
    assert out.getvalue().strip() == "0 response(s) rescored."
    assert Response.objects.get().total == 24


def test_rescore_command_names_the_responses_it_could_not_rescore(student):
    misfit = stale(student, "amas", answers={"1": 3})
    fine = stale(student, "amas", answers={str(n): v for n, v in AMAS_ANSWERS.items()})

    out, err = io.StringIO(), io.StringIO()
    call_command("rescore_responses", stdout=out, stderr=err)  # the server still starts

    assert f"response {misfit.pk} (amas)" in err.getvalue()
    assert f"response {fine.pk} " not in err.getvalue()
    assert out.getvalue().strip() == "1 response(s) rescored."
    fine.refresh_from_db()
    assert fine.definition_version == "1.0"
    misfit.refresh_from_db()
    assert misfit.definition_version == "0.9"


def test_strict_rescore_command_fails_naming_the_responses_it_could_not_rescore(student):
    misfit = stale(student, "amas", answers={"1": 3})

    with pytest.raises(CommandError, match=f"response {misfit.pk} \\(amas\\)"):
        call_command("rescore_responses", "--strict", stdout=io.StringIO())

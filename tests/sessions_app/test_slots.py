"""Free slots: weekly windows in the school's wall-clock time, returned in UTC.

`NOW` is Monday 2026-12-07 01:00 UTC (08:00 WIB, 09:00 WITA, 10:00 WIT). Expected slots are
computed by hand from the zone offsets (Indonesia has no daylight saving time).
"""

import datetime

import pytest

from accounts.models import School
from sessions_app.models import AvailabilityException, CounselingSession
from sessions_app.policy import booking_policy_for
from sessions_app.slots import Slot, counselor_slots, slot_key_parse, slots_by_day
from tests.factories import AvailabilityFactory, CounselingSessionFactory, StudentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
NOW = datetime.datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
Status = CounselingSession.Status
Kind = AvailabilityException.Kind


def utc(day: int, hour: int, minute: int = 0, month: int = 12, year: int = 2026):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def slot(start: datetime.datetime, minutes: int = 45) -> Slot:
    return Slot(start, start + datetime.timedelta(minutes=minutes))


@pytest.fixture
def policy(school):
    """Two hours' notice, one week ahead: from NOW only Monday 7 December is bookable."""
    policy = booking_policy_for(school)
    policy.min_notice_hours = 2
    policy.horizon_days = 7
    policy.save()
    return policy


@pytest.fixture
def monday_afternoon(counselor):
    """Monday 13:00–15:00 in the school's zone, 45 minutes + 15 minutes' break."""
    return AvailabilityFactory(
        counselor=counselor,
        weekday=0,
        start_time=datetime.time(13, 0),
        end_time=datetime.time(15, 0),
        session_minutes=45,
        buffer_minutes=15,
    )


def slots_of(counselor, policy, now=NOW, **kwargs) -> list[Slot]:
    return counselor_slots(counselor=counselor, policy=policy, now=now, **kwargs)


def set_zone(counselor, zone: str) -> None:
    counselor.school.time_zone = zone
    counselor.school.save()


# --- Wall-clock windows in each zone -----------------------------------------------------


def test_wib_monday_window_gives_13_00_and_14_00_local_as_06_00_and_07_00_utc(
    counselor, policy, monday_afternoon
):
    slots = slots_of(counselor, policy)

    assert slots == [slot(utc(7, 6)), slot(utc(7, 7))]
    zone = counselor.school.zone()
    assert [s.starts_at.astimezone(zone).strftime("%a %H:%M") for s in slots] == [
        "Mon 13:00",
        "Mon 14:00",
    ]


def test_every_slot_is_returned_in_utc(counselor, policy, monday_afternoon):
    for found in slots_of(counselor, policy):
        assert found.starts_at.utcoffset() == datetime.timedelta(0)
        assert found.ends_at.utcoffset() == datetime.timedelta(0)


def test_wita_school_same_window_is_one_hour_earlier_in_utc(counselor, policy, monday_afternoon):
    set_zone(counselor, "Asia/Makassar")

    assert slots_of(counselor, policy) == [slot(utc(7, 5)), slot(utc(7, 6))]


@pytest.mark.parametrize(
    ("zone", "first_utc_hour"),
    [(School.TimeZone.WIB, 6), (School.TimeZone.WITA, 5), (School.TimeZone.WIT, 4)],
)
def test_window_follows_the_schools_zone(counselor, policy, monday_afternoon, zone, first_utc_hour):
    set_zone(counselor, zone)

    assert slots_of(counselor, policy) == [
        slot(utc(7, first_utc_hour)),
        slot(utc(7, first_utc_hour + 1)),
    ]


def test_changing_the_schools_zone_keeps_the_wall_clock_time(counselor, policy, monday_afternoon):
    """A recurrence is wall-clock time: 13:00 stays 13:00 local, the UTC instant moves."""
    before = slots_of(counselor, policy)
    set_zone(counselor, "Asia/Jayapura")
    after = slots_of(counselor, policy)

    assert [s.starts_at - a.starts_at for s, a in zip(before, after, strict=True)] == [
        datetime.timedelta(hours=2)
    ] * 2


def test_window_across_midnight_utc_gives_slots_on_the_previous_utc_date(counselor, policy):
    """WIB Monday 06:00–08:00 is Sunday 23:00 – Monday 01:00 UTC."""
    policy.horizon_days = 8
    policy.save()
    AvailabilityFactory(
        counselor=counselor,
        weekday=0,
        start_time=datetime.time(6, 0),
        end_time=datetime.time(8, 0),
    )

    slots = slots_of(counselor, policy)

    # Monday 7 December's window (Sunday 6th 23:00 UTC) has passed at NOW.
    assert slots == [slot(utc(13, 23)), slot(utc(14, 0))]
    assert slots[0].starts_at.date() == datetime.date(2026, 12, 13)  # a Sunday in UTC
    zone = counselor.school.zone()
    assert [s.starts_at.astimezone(zone).strftime("%Y-%m-%d %a %H:%M") for s in slots] == [
        "2026-12-14 Mon 06:00",
        "2026-12-14 Mon 07:00",
    ]
    assert slots_by_day(slots, zone) == [(datetime.date(2026, 12, 14), slots)]


def test_window_shorter_than_a_session_gives_no_slot(counselor, policy):
    AvailabilityFactory(
        counselor=counselor,
        start_time=datetime.time(13, 0),
        end_time=datetime.time(13, 44),
        session_minutes=45,
    )

    assert slots_of(counselor, policy) == []


def test_last_slot_may_end_exactly_at_the_window_end(counselor, policy):
    AvailabilityFactory(
        counselor=counselor,
        start_time=datetime.time(13, 0),
        end_time=datetime.time(14, 45),
        session_minutes=45,
        buffer_minutes=15,
    )

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


def test_session_length_and_break_set_the_step(counselor, policy):
    AvailabilityFactory(
        counselor=counselor,
        start_time=datetime.time(13, 0),
        end_time=datetime.time(15, 0),
        session_minutes=30,
        buffer_minutes=0,
    )

    assert slots_of(counselor, policy) == [
        slot(utc(7, 6), 30),
        slot(utc(7, 6, 30), 30),
        slot(utc(7, 7), 30),
        slot(utc(7, 7, 30), 30),
    ]


def test_window_on_another_weekday_gives_that_days_slots(counselor, policy):
    AvailabilityFactory(counselor=counselor, weekday=2)  # Wednesday 9 December

    assert slots_of(counselor, policy) == [slot(utc(9, 6)), slot(utc(9, 7))]


def test_two_identical_windows_give_each_slot_once(counselor, policy, monday_afternoon):
    AvailabilityFactory(counselor=counselor)

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


def test_another_counselors_windows_are_not_included(
    counselor, other_counselor, policy, monday_afternoon
):
    assert slots_of(other_counselor, policy) == []


# --- Notice and horizon ------------------------------------------------------------------


def test_past_slots_are_left_out(counselor, policy, monday_afternoon):
    policy.min_notice_hours = 0
    policy.save()

    # 13:30 WIB: the 13:00 slot has begun; 14:00 today and 13:00 next Monday remain.
    assert slots_of(counselor, policy, now=utc(7, 6, 30)) == [
        slot(utc(7, 7)),
        slot(utc(14, 6)),
    ]


@pytest.mark.parametrize(
    ("notice_hours", "expected_hours"),
    [(4, [6, 7]), (5, [6, 7]), (6, [7]), (7, [])],
    ids=["4h", "5h-start-exactly-at-notice-is-bookable", "6h", "7h"],
)
def test_slots_closer_than_the_minimum_notice_are_left_out(
    counselor, policy, monday_afternoon, notice_hours, expected_hours
):
    policy.min_notice_hours = notice_hours
    policy.save()

    found = [s for s in slots_of(counselor, policy) if s.starts_at.date() == NOW.date()]
    assert found == [slot(utc(7, hour)) for hour in expected_hours]


def test_slots_beyond_the_horizon_are_left_out(counselor, policy, monday_afternoon):
    policy.min_notice_hours = 0
    policy.save()

    # From Monday 06:00 UTC, seven days ahead ends at Monday 14 December 06:00 UTC: a
    # slot starting exactly then is still in, the one an hour later is not.
    assert slots_of(counselor, policy, now=utc(7, 6)) == [
        slot(utc(7, 6)),
        slot(utc(7, 7)),
        slot(utc(14, 6)),
    ]


def test_horizon_of_four_weeks_gives_four_mondays(counselor, policy, monday_afternoon):
    policy.horizon_days = 28
    policy.save()

    starts = [s.starts_at for s in slots_of(counselor, policy)]
    # 4 January 2027 13:00 WIB (06:00 UTC) is 5 hours past 28 days from NOW: out.
    assert starts == [utc(day, hour) for day in (7, 14, 21, 28) for hour in (6, 7)]


# --- Exceptions: blocked stretches and extra windows -------------------------------------


def block(counselor, starts_at, ends_at):
    return AvailabilityException.objects.create(
        counselor=counselor, kind=Kind.BLOCKED, starts_at=starts_at, ends_at=ends_at
    )


def test_blocked_full_local_day_removes_that_days_slots_only(counselor, policy, monday_afternoon):
    policy.horizon_days = 14
    policy.save()
    # Monday 7 December 00:00–24:00 WIB.
    block(counselor, utc(6, 17), utc(7, 17))

    assert slots_of(counselor, policy) == [slot(utc(14, 6)), slot(utc(14, 7))]


@pytest.mark.parametrize(
    ("blocked", "expected_hours"),
    [
        ((utc(7, 6, 30), utc(7, 6, 40)), [7]),  # inside the first slot
        ((utc(7, 6, 44), utc(7, 7, 1)), []),  # touches both slots
        ((utc(7, 6, 45), utc(7, 7)), [6, 7]),  # only the break between them
        ((utc(7, 5), utc(7, 6)), [6, 7]),  # ends exactly when the first slot starts
        ((utc(7, 7, 45), utc(7, 9)), [6, 7]),  # starts exactly when the last slot ends
        ((utc(7, 6, 59), utc(7, 9)), [6]),
    ],
    ids=["inside", "across-both", "break-only", "ends-at-start", "starts-at-end", "last"],
)
def test_blocked_part_of_a_day_removes_only_the_slots_it_overlaps(
    counselor, policy, monday_afternoon, blocked, expected_hours
):
    block(counselor, *blocked)

    assert slots_of(counselor, policy) == [slot(utc(7, hour)) for hour in expected_hours]


def test_another_counselors_block_does_not_remove_slots(
    counselor, other_counselor, policy, monday_afternoon
):
    block(other_counselor, utc(7, 0), utc(7, 23))

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


def test_extra_window_adds_slots_with_its_own_length(counselor, policy):
    AvailabilityException.objects.create(
        counselor=counselor,
        kind=Kind.EXTRA,
        starts_at=utc(8, 2),  # Tuesday 09:00 WIB
        ends_at=utc(8, 4),
        session_minutes=30,
        buffer_minutes=10,
    )

    assert slots_of(counselor, policy) == [
        slot(utc(8, 2), 30),
        slot(utc(8, 2, 40), 30),
        slot(utc(8, 3, 20), 30),
    ]


def test_extra_window_adds_to_the_weekly_slots(counselor, policy, monday_afternoon):
    AvailabilityException.objects.create(
        counselor=counselor, kind=Kind.EXTRA, starts_at=utc(9, 3), ends_at=utc(9, 4)
    )

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7)), slot(utc(9, 3))]


def test_extra_window_beyond_the_horizon_adds_nothing(counselor, policy):
    AvailabilityException.objects.create(
        counselor=counselor, kind=Kind.EXTRA, starts_at=utc(20, 3), ends_at=utc(20, 4)
    )

    assert slots_of(counselor, policy) == []


def test_extra_window_partly_inside_the_notice_keeps_only_later_slots(counselor, policy):
    # Earliest bookable start is 03:00 UTC.
    AvailabilityException.objects.create(
        counselor=counselor,
        kind=Kind.EXTRA,
        starts_at=utc(7, 2),
        ends_at=utc(7, 4),
        session_minutes=30,
        buffer_minutes=0,
    )

    assert slots_of(counselor, policy) == [
        slot(utc(7, 3), 30),
        slot(utc(7, 3, 30), 30),
    ]


def test_blocked_stretch_wins_over_an_extra_window(counselor, policy):
    AvailabilityException.objects.create(
        counselor=counselor, kind=Kind.EXTRA, starts_at=utc(8, 2), ends_at=utc(8, 4)
    )
    block(counselor, utc(8, 2), utc(8, 2, 30))

    assert slots_of(counselor, policy) == [slot(utc(8, 3))]


# --- Sessions that hold a time -----------------------------------------------------------


def session_at(student, starts_at, status=Status.CONFIRMED, minutes=45, **kwargs):
    return CounselingSessionFactory(
        student=student,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(minutes=minutes),
        status=status,
        **kwargs,
    )


@pytest.mark.parametrize("status", CounselingSession.HOLDING_STATUSES)
def test_holding_session_removes_its_slot(counselor, student, policy, monday_afternoon, status):
    session_at(student, utc(7, 6), status)

    assert slots_of(counselor, policy) == [slot(utc(7, 7))]


@pytest.mark.parametrize("status", [Status.CANCELLED, Status.DECLINED])
def test_cancelled_or_declined_session_frees_its_slot(
    counselor, student, policy, monday_afternoon, status
):
    session_at(student, utc(7, 6), status)

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


def test_counselors_session_with_any_client_removes_the_slot(
    counselor, school, policy, monday_afternoon
):
    client = StudentFactory(school=school)
    client.student_profile.counselor = counselor
    client.student_profile.save()
    session_at(client, utc(7, 7))

    assert slots_of(counselor, policy) == [slot(utc(7, 6))]


def test_another_counselors_session_leaves_the_slot_free(
    counselor, other_student, policy, monday_afternoon
):
    session_at(other_student, utc(7, 6))

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


@pytest.mark.parametrize(
    ("starts", "minutes", "expected_hours"),
    [
        (utc(7, 6, 50), 30, []),  # within the break after 06:00 and before 07:00
        (utc(7, 8), 45, [6, 7]),  # 15 minutes after the last slot: enough break
        (utc(7, 7, 50), 30, [6]),  # 5 minutes after the last slot: too short a break
        (utc(7, 5), 45, [6, 7]),  # ends 15 minutes before the first slot
        (utc(7, 5, 10), 45, [7]),  # ends 5 minutes before the first slot
    ],
)
def test_session_at_an_odd_time_keeps_the_break_around_it(
    counselor, student, policy, monday_afternoon, starts, minutes, expected_hours
):
    session_at(student, starts, minutes=minutes)

    assert slots_of(counselor, policy) == [slot(utc(7, hour)) for hour in expected_hours]


def test_with_student_their_own_sessions_elsewhere_remove_slots(
    counselor, other_counselor, student, policy, monday_afternoon
):
    # The student still has a session with their former counselor at 13:00 WIB.
    CounselingSessionFactory(
        student=student,
        counselor=other_counselor,
        starts_at=utc(7, 6),
        ends_at=utc(7, 6, 45),
    )

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]
    assert slots_of(counselor, policy, student=student) == [slot(utc(7, 7))]


def test_proposed_new_time_is_kept_free_until_the_student_answers(
    counselor, student, policy, monday_afternoon
):
    session_at(
        student,
        utc(10, 3),
        proposed_starts_at=utc(7, 7),
        proposed_ends_at=utc(7, 7, 45),
    )

    assert slots_of(counselor, policy) == [slot(utc(7, 6))]


def test_proposal_on_a_cancelled_session_keeps_nothing_free(
    counselor, student, policy, monday_afternoon
):
    session_at(
        student,
        utc(10, 3),
        Status.CANCELLED,
        proposed_starts_at=utc(7, 7),
        proposed_ends_at=utc(7, 7, 45),
    )

    assert slots_of(counselor, policy) == [slot(utc(7, 6)), slot(utc(7, 7))]


def test_include_taken_keeps_slots_held_by_sessions(counselor, student, policy, monday_afternoon):
    session_at(student, utc(7, 6))
    block(counselor, utc(7, 7), utc(7, 8))

    assert slots_of(counselor, policy, include_taken=True) == [slot(utc(7, 6))]


# --- Queries -------------------------------------------------------------------------------


def test_counselor_slots_runs_four_queries_however_much_data(
    counselor, school, policy, monday_afternoon, django_assert_num_queries
):
    # Weekly windows, exceptions, sessions holding a time, proposed times.
    with django_assert_num_queries(4):
        slots_of(counselor, policy)

    for weekday in range(7):
        for hour in (8, 10, 12, 14):
            AvailabilityFactory(
                counselor=counselor,
                weekday=weekday,
                start_time=datetime.time(hour),
                end_time=datetime.time(hour + 2),
            )
    for day in (8, 9, 10):
        block(counselor, utc(day, 1), utc(day, 2))
        AvailabilityException.objects.create(
            counselor=counselor, kind=Kind.EXTRA, starts_at=utc(day, 12), ends_at=utc(day, 14)
        )
    for day in (8, 9, 10, 11, 12):
        client = StudentFactory(school=school)
        client.student_profile.counselor = counselor
        client.student_profile.save()
        session_at(
            client,
            utc(day, 3),
            proposed_starts_at=utc(day, 5),
            proposed_ends_at=utc(day, 5, 45),
        )

    with django_assert_num_queries(4):
        slots = slots_of(counselor, policy)
    assert utc(8, 3) not in {s.starts_at for s in slots}


def test_include_taken_runs_two_queries(counselor, policy, django_assert_num_queries):
    with django_assert_num_queries(2):
        slots_of(counselor, policy, include_taken=True)


# --- Slot keys ---------------------------------------------------------------------------


def test_slot_key_is_the_utc_start_and_parses_back(counselor, policy, monday_afternoon):
    first = slots_of(counselor, policy)[0]

    assert first.key == "2026-12-07T06:00:00Z"
    assert slot_key_parse(first.key) == utc(7, 6)
    assert first.minutes == 45


@pytest.mark.parametrize("value", ["", "2026-12-07 06:00", "2026-12-07T06:00:00+07:00", None])
def test_slot_key_parse_rejects_anything_else(value):
    assert slot_key_parse(value) is None

"""Free slots of a counselor: weekly windows and extra windows, minus blocked stretches
and sessions that hold a time, within the school's notice and horizon.

Windows are wall-clock times in the school's zone; every slot is returned in UTC.
"""

import datetime
from dataclasses import dataclass
from itertools import groupby

from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from sessions_app.models import (
    Availability,
    AvailabilityException,
    BookingPolicy,
    CounselingSession,
)


@dataclass(frozen=True, order=True)
class Slot:
    starts_at: datetime.datetime  # UTC
    ends_at: datetime.datetime

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def key(self) -> str:
        """The slot's form value: its UTC start, e.g. '2026-12-01T06:00:00Z'."""
        return self.starts_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slot_key_parse(value: str) -> datetime.datetime | None:
    """The UTC start a form posted, or None when it is not one of ours."""
    try:
        parsed = datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return None
    return parsed.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Window:
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    session_minutes: int
    buffer_minutes: int

    def slots(self) -> list[Slot]:
        length = datetime.timedelta(minutes=self.session_minutes)
        step = length + datetime.timedelta(minutes=self.buffer_minutes)
        result, start = [], self.starts_at
        while start + length <= self.ends_at:
            result.append(Slot(start, start + length))
            start += step
        return result


def _weekly_windows(
    availabilities: list[Availability],
    zone: datetime.tzinfo,
    first_day: datetime.date,
    last_day: datetime.date,
) -> list[Window]:
    windows = []
    day = first_day
    while day <= last_day:
        for availability in availabilities:
            if availability.weekday != day.weekday():
                continue
            starts = datetime.datetime.combine(day, availability.start_time, tzinfo=zone)
            ends = datetime.datetime.combine(day, availability.end_time, tzinfo=zone)
            windows.append(
                Window(
                    starts.astimezone(datetime.UTC),
                    ends.astimezone(datetime.UTC),
                    availability.session_minutes,
                    availability.buffer_minutes,
                )
            )
        day += datetime.timedelta(days=1)
    return windows


def _overlaps(
    slot: Slot, busy: list[tuple[datetime.datetime, datetime.datetime]], pad: datetime.timedelta
) -> bool:
    return any(start - pad < slot.ends_at and slot.starts_at < end + pad for start, end in busy)


def counselor_slots(
    *,
    counselor: User,
    policy: BookingPolicy,
    now: datetime.datetime | None = None,
    student: User | None = None,
    include_taken: bool = False,
) -> list[Slot]:
    """The counselor's bookable slots from now + minimum notice to now + horizon.

    With `student`, times the student already holds elsewhere are left out too. With
    `include_taken`, slots held by sessions stay in (to tell "taken" from "never free").
    Four queries, whatever the number of windows and sessions.
    """
    now = now or timezone.now()
    zone = counselor.school.zone()
    earliest = now + datetime.timedelta(hours=policy.min_notice_hours)
    latest = now + datetime.timedelta(days=policy.horizon_days)
    first_day = earliest.astimezone(zone).date()
    last_day = latest.astimezone(zone).date()

    weekly = list(Availability.objects.filter(counselor=counselor))
    exceptions = list(
        AvailabilityException.objects.filter(
            counselor=counselor, ends_at__gt=earliest, starts_at__lt=latest
        )
    )
    windows = _weekly_windows(weekly, zone, first_day, last_day)
    windows += [
        Window(e.starts_at, e.ends_at, e.session_minutes, e.buffer_minutes)
        for e in exceptions
        if e.kind == AvailabilityException.Kind.EXTRA
    ]
    blocked = [
        (e.starts_at, e.ends_at) for e in exceptions if e.kind == AvailabilityException.Kind.BLOCKED
    ]
    busy: list[tuple[datetime.datetime, datetime.datetime]] = []
    if not include_taken:
        people = Q(counselor=counselor) | Q(student=student) if student else Q(counselor=counselor)
        holding = CounselingSession.objects.filter(
            people, status__in=CounselingSession.HOLDING_STATUSES
        )
        for session in holding.filter(ends_at__gt=earliest, starts_at__lt=latest).only(
            "starts_at", "ends_at"
        ):
            busy.append((session.starts_at, session.ends_at))
        # A new time proposed to a student is kept free until they answer.
        for session in holding.filter(
            status=CounselingSession.Status.CONFIRMED,
            proposed_starts_at__isnull=False,
            proposed_ends_at__gt=earliest,
            proposed_starts_at__lt=latest,
        ).only("proposed_starts_at", "proposed_ends_at"):
            busy.append((session.proposed_starts_at, session.proposed_ends_at))

    slots = set()
    for window in windows:
        pad = datetime.timedelta(minutes=window.buffer_minutes)
        for slot in window.slots():
            if not earliest <= slot.starts_at <= latest:
                continue
            if _overlaps(slot, blocked, datetime.timedelta(0)) or _overlaps(slot, busy, pad):
                continue
            slots.add(slot)
    return sorted(slots)


def slots_by_day(
    slots: list[Slot], zone: datetime.tzinfo
) -> list[tuple[datetime.date, list[Slot]]]:
    """Group UTC slots by their day in the school's zone."""
    return [
        (day, list(group))
        for day, group in groupby(slots, key=lambda slot: slot.starts_at.astimezone(zone).date())
    ]

"""Clients' score series read from the database: one query for one client or for 300.

The caller has already checked that the students are the counselor's clients (see
analytics.selectors); nothing here filters by the person asking.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable

from analytics.report import InstrumentSeries, SeriesPoint, SessionPair
from instruments.definitions import Instrument, get_instrument
from instruments.models import Administration, Response

ALLIANCE = "wai-sr"
ANXIETY = "amas"
Phase = Administration.Phase


def instrument_series(instrument: Instrument, points: list[SeriesPoint]) -> InstrumentSeries:
    return InstrumentSeries(
        code=instrument.code,
        name=str(instrument.short_name),
        total_min=instrument.total_min,
        total_max=instrument.total_max,
        subscales=[(subscale.code, str(subscale.name)) for subscale in instrument.subscales],
        bands=[(band.code, str(band.label), band.min, band.max) for band in instrument.bands],
        # The alliance is better high; anxiety (and any other scale) better low.
        higher_is_better=instrument.code == ALLIANCE,
        points=points,
        subscale_range=(
            instrument.scale_min * min((len(s.items) for s in instrument.subscales), default=0),
            instrument.scale_max * max((len(s.items) for s in instrument.subscales), default=0),
        ),
    )


RESPONSE_COLUMNS = (
    "administration__student_id",
    "administration__instrument_code",
    "administration__phase",
    "administration__session_id",
    "administration__counselor_id",
    "administration__session__starts_at",
    "submitted_at",
    "total",
    "subscale_scores",
    "band",
)


def live_response_rows(student_ids: Iterable[int], codes: Iterable[str]):
    """The columns a series needs of every counted (not voided, not cancelled, scored)
    response of these students, oldest first. Plain tuples: a caseload of 300 clients
    reads thousands of them, and model instances would cost several times as much."""
    return (
        Response.objects.filter(
            administration__student_id__in=list(student_ids),
            administration__instrument_code__in=list(codes),
            administration__cancelled_at__isnull=True,
            voided_at__isnull=True,
            total__isnull=False,
        )
        .order_by("submitted_at", "pk")
        .values_list(*RESPONSE_COLUMNS)
    )


def series_by_student(
    student_ids: Iterable[int], codes: Iterable[str] = (ALLIANCE, ANXIETY)
) -> dict[int, dict[str, InstrumentSeries]]:
    """{student id: {instrument code: series}} in one query; a student or instrument with
    no answers has no entry."""
    instruments = {code: get_instrument(code) for code in codes}
    band_labels = {
        code: {band.code: str(band.label) for band in instrument.bands}
        for code, instrument in instruments.items()
        if instrument is not None
    }
    points: dict[int, dict[str, list[SeriesPoint]]] = defaultdict(lambda: defaultdict(list))
    for row in live_response_rows(student_ids, band_labels):
        student_id, code, phase, session_id, counselor_id, session_start, submitted_at = row[:7]
        total, subscale_scores, band = row[7:]
        points[student_id][code].append(
            SeriesPoint(
                # A session's questionnaires belong to the session's date; others to
                # when they were answered.
                date=session_start or submitted_at,
                phase=phase,
                total=total,
                subscales=dict(subscale_scores or {}),
                band_code=band,
                band_label=band_labels[code].get(band, ""),
                session_id=session_id,
                counselor_id=counselor_id,
            )
        )
    return {
        student_id: {
            code: instrument_series(instruments[code], sorted(found, key=lambda p: p.date))
            for code, found in by_code.items()
        }
        for student_id, by_code in points.items()
    }


def occasion_key(point: SeriesPoint, zone: datetime.tzinfo):
    """What ties the questionnaires of one occasion together: the session they were sent
    after, or for imported history (no session) the phase and the school day."""
    return point.session_id or (point.phase, point.date.astimezone(zone).date())


def session_numbers(
    alliance: InstrumentSeries | None, anxiety: InstrumentSeries | None, zone: datetime.tzinfo
) -> dict:
    """{occasion key: 1, 2, …}: the treatment sessions in time order, counting every
    session with at least one questionnaire answered."""
    first_seen: dict = {}
    for series in (alliance, anxiety):
        for point in series.points if series else ():
            if point.phase == Phase.TREATMENT:
                first_seen.setdefault(occasion_key(point, zone), point.date)
    ordered = sorted(first_seen, key=lambda key: first_seen[key])
    return {key: number for number, key in enumerate(ordered, start=1)}


def session_pairs(
    alliance: InstrumentSeries | None, anxiety: InstrumentSeries | None, zone: datetime.tzinfo
) -> list[SessionPair]:
    """Treatment sessions with both questionnaires answered, in time order, each with its
    session number (a session with one questionnaire missing keeps its place)."""
    if alliance is None or anxiety is None:
        return []
    numbers = session_numbers(alliance, anxiety, zone)
    anxiety_by_key = {
        occasion_key(point, zone): point
        for point in anxiety.points
        if point.phase == Phase.TREATMENT
    }
    pairs = []
    for point in alliance.points:
        key = occasion_key(point, zone)
        if point.phase == Phase.TREATMENT and key in anxiety_by_key:
            pairs.append(
                SessionPair(
                    number=numbers[key],
                    date=point.date,
                    alliance=point.total,
                    anxiety=anxiety_by_key[key].total,
                )
            )
    return pairs

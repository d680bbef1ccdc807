"""Clients' score series read from the database: one query for one client or for 300.

The caller has already checked that the students are the counselor's clients (see
analytics.selectors); nothing here filters by the person asking.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from django.db.models import F, Window
from django.db.models.functions import Coalesce, RowNumber

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
    "date",
    "total",
    "subscale_scores",
    "band",
)
SERIES_ORDER = ("date", "submitted_at", "pk")


def live_responses(student_ids: Iterable[int], codes: Iterable[str], *, last: int | None = None):
    """Every counted (not voided, not cancelled, scored) response of these students, in
    the order of the series, with its date; with `last`, only the most recent ones of
    each student's instrument."""
    responses = Response.objects.filter(
        administration__student_id__in=list(student_ids),
        administration__instrument_code__in=list(codes),
        administration__cancelled_at__isnull=True,
        voided_at__isnull=True,
        total__isnull=False,
    ).annotate(
        # A session's questionnaires belong to the session's date; others to when they
        # were answered. One column rather than both: every timestamp read costs.
        date=Coalesce("administration__session__starts_at", "submitted_at"),
    )
    if last is not None:
        responses = responses.annotate(
            recency=Window(
                RowNumber(),
                partition_by=[
                    F("administration__student_id"),
                    F("administration__instrument_code"),
                ],
                order_by=[F(name).desc() for name in SERIES_ORDER],
            )
        ).filter(recency__lte=last)
    return responses.order_by(*SERIES_ORDER)


def live_response_rows(student_ids: Iterable[int], codes: Iterable[str]):
    """The columns a series needs of every counted response of these students, in the
    order of the series. Plain tuples: a caseload of 300 clients reads thousands of them,
    and model instances would cost several times as much."""
    return live_responses(student_ids, codes).values_list(*RESPONSE_COLUMNS)


def series_by_student(
    student_ids: Iterable[int], codes: Iterable[str] = (ALLIANCE, ANXIETY)
) -> dict[int, dict[str, InstrumentSeries]]:
    """{student id: {instrument code: series}} in one query; a student or instrument with
    no answers has no entry."""
    instruments = {code: get_instrument(code) for code in codes}
    # Each instrument's names, translated once rather than once per series.
    empty = {
        code: instrument_series(instrument, [])
        for code, instrument in instruments.items()
        if instrument is not None
    }
    band_labels = {code: {band[0]: band[1] for band in e.bands} for code, e in empty.items()}
    points: dict[int, dict[str, list[SeriesPoint]]] = defaultdict(lambda: defaultdict(list))
    for row in live_response_rows(student_ids, empty):
        student_id, code, phase, session_id, counselor_id, date, total, subscales, band = row
        points[student_id][code].append(
            SeriesPoint(
                date=date,
                phase=phase,
                total=total,
                subscales=dict(subscales or {}),
                band_code=band,
                band_label=band_labels[code].get(band, ""),
                session_id=session_id,
                counselor_id=counselor_id,
            )
        )
    return {
        student_id: {code: replace(empty[code], points=found) for code, found in by_code.items()}
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

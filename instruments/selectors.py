"""Reads for the questionnaire pages, each filtered by the person asking."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import School, User
from instruments.definitions import Instrument, all_instruments, get_instrument
from instruments.models import Administration, Response

Status = Administration.Status


def _with_responses(administrations: QuerySet[Administration]) -> QuerySet[Administration]:
    return administrations.prefetch_related(
        Prefetch("responses", queryset=Response.objects.select_related("voided_by"))
    )


def student_open_administrations(
    *, student: User, now: datetime.datetime | None = None
) -> list[Administration]:
    """What the student can answer now, required ones first, soonest closing first."""
    now = now or timezone.now()
    live = Response.objects.filter(administration=OuterRef("pk"), voided_at__isnull=True)
    administrations = (
        Administration.objects.filter(
            student=student,
            opens_at__lte=now,
            closes_at__gt=now,
            cancelled_at__isnull=True,
            skipped_at__isnull=True,
            is_imported=False,
            # Withdrawn (or no) guardian consent: nothing is offered to answer.
            student__student_profile__has_guardian_consent=True,
        )
        .exclude(Exists(live))
        .select_related("session")
        .order_by("closes_at", "pk")
    )
    return sorted(
        administrations,
        key=lambda a: (a.instrument is None or a.instrument.is_optional, a.closes_at),
    )


def student_next_required(*, student: User) -> Administration | None:
    """The required questionnaire the student should answer next, if any."""
    waiting = student_open_administrations(student=student)
    return next((a for a in waiting if a.instrument and not a.instrument.is_optional), None)


def student_administration_get(*, student: User, administration_id: int) -> Administration:
    """One of the student's own administrations; anyone else's is a 404."""
    return get_object_or_404(
        _with_responses(Administration.objects.select_related("student__school", "counselor")),
        pk=administration_id,
        student=student,
    )


def counselor_client_get(*, counselor: User, student_id: int) -> User:
    """A student who is the counselor's client now; anyone else is a 404."""
    return get_object_or_404(
        User.objects.select_related("student_profile__school_class", "school"),
        pk=student_id,
        role=User.Role.STUDENT,
        school_id=counselor.school_id,
        student_profile__counselor=counselor,
    )


@dataclass
class Occasion:
    """One administration as the counselor's client page shows it."""

    administration: Administration
    status: str
    response: Response | None
    subscale_scores: list[int | None]
    band_label: str
    item_answers: list[tuple[int, str, int | str]]

    @property
    def date(self) -> datetime.datetime:
        return self.response.submitted_at if self.response else self.administration.opens_at

    @property
    def can_be_cancelled(self) -> bool:
        return self.status in (Status.SCHEDULED, Status.OPEN)

    @property
    def status_label(self) -> str:
        return Status(self.status).label


@dataclass
class InstrumentHistory:
    instrument: Instrument
    occasions: list[Occasion] = field(default_factory=list)


def _occasion(instrument: Instrument, administration: Administration, counselor_name: str, now):
    response = administration.live_response
    answers = response.answers if response else {}
    band = instrument.band(response.band) if response and response.band else None
    return Occasion(
        administration=administration,
        status=administration.status_at(now),
        response=response,
        subscale_scores=[
            response.subscale_scores.get(subscale.code) if response else None
            for subscale in instrument.subscales
        ],
        band_label=str(band.label) if band else "",
        item_answers=[
            (item.number, item.text_for(counselor_name), answers[str(item.number)])
            for item in instrument.items
            if str(item.number) in answers
        ],
    )


def client_history(
    *, counselor: User, student: User, now: datetime.datetime | None = None
) -> list[InstrumentHistory]:
    """Every administration of the client, grouped by instrument (the caller has checked
    that the student is the counselor's client: their current counselor sees all of it,
    including what an earlier counselor collected)."""
    now = now or timezone.now()
    administrations = _with_responses(Administration.objects.filter(student=student)).order_by(
        "opens_at", "pk"
    )
    histories = {instrument.code: InstrumentHistory(instrument) for instrument in all_instruments()}
    for administration in administrations:
        history = histories.get(administration.instrument_code)
        if history is not None:
            history.occasions.append(
                _occasion(history.instrument, administration, counselor.display_name, now)
            )
    return [history for history in histories.values() if history.occasions]


def counselor_administration_get(*, counselor: User, administration_id: int) -> Administration:
    return get_object_or_404(
        Administration.objects.select_related("student"),
        pk=administration_id,
        student__student_profile__counselor=counselor,
    )


def counselor_response_get(*, counselor: User, response_id: int) -> Response:
    return get_object_or_404(
        Response.objects.select_related("administration__student"),
        pk=response_id,
        administration__student__student_profile__counselor=counselor,
    )


def school_completion_counts(*, school: School, now: datetime.datetime | None = None) -> list[dict]:
    """Per instrument: how many were sent, answered, still open, skipped, expired.
    Counts only: no student, no answer."""
    now = now or timezone.now()
    live = Response.objects.filter(administration=OuterRef("pk"), voided_at__isnull=True)
    answered = Exists(live)
    unanswered = ~Exists(live) & Q(skipped_at__isnull=True)
    rows = (
        Administration.objects.filter(school=school, cancelled_at__isnull=True, opens_at__lte=now)
        .values("instrument_code")
        .annotate(
            sent=Count("pk"),
            answered=Count("pk", filter=answered),
            still_open=Count("pk", filter=unanswered & Q(closes_at__gt=now)),
            skipped=Count("pk", filter=~Exists(live) & Q(skipped_at__isnull=False)),
            expired=Count("pk", filter=unanswered & Q(closes_at__lte=now)),
        )
        .order_by("instrument_code")
    )
    counts = []
    for row in rows:
        instrument = get_instrument(row["instrument_code"])
        row["name"] = str(instrument.short_name) if instrument else row["instrument_code"]
        row["rate"] = round(100 * row["answered"] / row["sent"]) if row["sent"] else 0
        counts.append(row)
    return counts

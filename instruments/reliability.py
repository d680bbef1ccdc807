"""Reliability of each instrument on the responses collected, as a researcher reports it:
Cronbach's alpha of the scale and each subscale, and per item the mean, standard
deviation, corrected item–total correlation (under .30 flagged) and alpha if deleted.

Only complete item answers count (an imported total has no items); voided responses
are left out; reverse-keyed items are keyed first.

Over the whole school a counselor also sees other counselors' clients, so that view
leaves out item means and SDs (with the response count, they would give away a new
response's answers by subtraction) and needs many more responses.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from accounts.models import User
from analytics.stats import alpha_if_deleted, corrected_item_total, cronbach_alpha, mean
from analytics.stats import sample_variance as variance
from instruments.definitions import Instrument, all_instruments
from instruments.models import Response
from instruments.scoring import keyed_value

VALID_ITEM_TOTAL = 0.30
MIN_RESPONSES = 5
MIN_SCHOOL_RESPONSES = 30


@dataclass(frozen=True)
class ItemStatistics:
    number: int
    text: str
    mean: float | None  # None over the whole school
    sd: float | None
    item_total: float | None
    alpha_if_deleted: float | None

    @property
    def is_flagged(self) -> bool:
        return self.item_total is None or self.item_total < VALID_ITEM_TOTAL


@dataclass(frozen=True)
class ScaleReliability:
    name: str
    alpha: float | None
    items: list[ItemStatistics]

    @property
    def flagged_count(self) -> int:
        return sum(item.is_flagged for item in self.items)


@dataclass
class InstrumentReliability:
    instrument: Instrument
    responses: int
    minimum: int = MIN_RESPONSES
    scales: list[ScaleReliability] = field(default_factory=list)

    @property
    def has_enough(self) -> bool:
        return self.responses >= self.minimum


def keyed_rows(instrument: Instrument, answer_sets: Iterable[dict]) -> list[list[int]]:
    """One row of keyed scale answers per complete answer set (an imported total, with
    no item answers, is left out), items in the definition's order."""
    items = instrument.choice_items
    return [
        [keyed_value(instrument, item.number, answers[str(item.number)]) for item in items]
        for answers in answer_sets
        if all(isinstance(answers.get(str(item.number)), int) for item in items)
    ]


def scale_reliability(
    name: str, rows: list[list[int]], items, counselor_name: str, *, with_means: bool = True
) -> ScaleReliability:
    alphas = alpha_if_deleted(rows)
    correlations = corrected_item_total(rows)
    statistics = []
    for index, item in enumerate(items):
        column = [row[index] for row in rows]
        statistics.append(
            ItemStatistics(
                number=item.number,
                text=item.text_for(counselor_name),
                mean=mean(column) if with_means else None,
                sd=math.sqrt(variance(column)) if with_means else None,
                item_total=correlations[index],
                alpha_if_deleted=alphas[index],
            )
        )
    return ScaleReliability(name=name, alpha=cronbach_alpha(rows), items=statistics)


def reliability_report(*, counselor: User, whole_school: bool) -> list[InstrumentReliability]:
    """Reliability over the counselor's clients' responses, or the whole school's."""
    responses = Response.objects.filter(
        voided_at__isnull=True, administration__school_id=counselor.school_id
    )
    if not whole_school:
        responses = responses.filter(administration__student__student_profile__counselor=counselor)
    answers_by_code: dict[str, list[dict]] = {}
    for code, answers in responses.values_list("administration__instrument_code", "answers"):
        answers_by_code.setdefault(code, []).append(answers)
    counselor_name = str(_("the counselor"))
    reports = []
    for instrument in all_instruments():
        if not instrument.is_scored:
            continue
        items = instrument.choice_items
        rows = keyed_rows(instrument, answers_by_code.get(instrument.code, []))
        report = InstrumentReliability(
            instrument=instrument,
            responses=len(rows),
            minimum=MIN_SCHOOL_RESPONSES if whole_school else MIN_RESPONSES,
        )
        if not report.has_enough:
            reports.append(report)
            continue
        scales = [(str(_("Whole scale")), items, rows)]
        positions = {item.number: index for index, item in enumerate(items)}
        for subscale in instrument.subscales:
            subscale_rows = [[row[positions[n]] for n in subscale.items] for row in rows]
            subscale_items = [instrument.item(number) for number in subscale.items]
            scales.append((str(subscale.name), subscale_items, subscale_rows))
        report.scales = [
            scale_reliability(
                name, scale_rows, scale_items, counselor_name, with_means=not whole_school
            )
            for name, scale_items, scale_rows in scales
        ]
        reports.append(report)
    return reports

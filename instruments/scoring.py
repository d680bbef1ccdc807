"""Scores from answers, as the definition says: total, subscale sums and the band.

Pure functions: no database. Reverse-keyed items count as (min + max − answer).
"""

from dataclasses import dataclass, field

from instruments.definitions import Instrument


class ScoringError(ValueError):
    """The answers do not fit the instrument (a missing or out-of-range answer)."""


@dataclass(frozen=True)
class Score:
    total: int | None
    band: str = ""
    subscales: dict[str, int] = field(default_factory=dict)


def keyed_value(instrument: Instrument, number: int, answer: int) -> int:
    if number in instrument.reverse_keyed:
        return instrument.scale_min + instrument.scale_max - answer
    return answer


def check_answers(instrument: Instrument, answers: dict[int, int]) -> None:
    for item in instrument.choice_items:
        answer = answers.get(item.number)
        if answer is None:
            raise ScoringError(f"item {item.number} has no answer")
        if not isinstance(answer, int) or isinstance(answer, bool):
            raise ScoringError(f"item {item.number}: {answer!r} is not a scale point")
        if not instrument.scale_min <= answer <= instrument.scale_max:
            raise ScoringError(
                f"item {item.number}: {answer} is outside "
                f"{instrument.scale_min}–{instrument.scale_max}"
            )


def score_answers(instrument: Instrument, answers: dict[int, int]) -> Score:
    """Score a complete set of item answers (item number → scale point)."""
    check_answers(instrument, answers)
    if not instrument.is_scored:
        return Score(total=None)
    keyed = {
        item.number: keyed_value(instrument, item.number, answers[item.number])
        for item in instrument.choice_items
    }
    total = sum(keyed.values())
    band = instrument.band_for(total)
    return Score(
        total=total,
        band=band.code if band else "",
        subscales={
            subscale.code: sum(keyed[number] for number in subscale.items)
            for subscale in instrument.subscales
        },
    )


def score_total(instrument: Instrument, total: int) -> Score:
    """Score an occasion known only by its total (imported history)."""
    if not instrument.total_min <= total <= instrument.total_max:
        raise ScoringError(
            f"total {total} is outside {instrument.total_min}–{instrument.total_max}"
        )
    band = instrument.band_for(total)
    return Score(total=total, band=band.code if band else "")

"""Import of one client's past measurements (e.g. exported from Google Forms).

One row per occasion: date, phase, instrument, and either the item answers or the total.
`history_plan` checks every row without writing (the preview); `history_import` plans
again inside one transaction and creates every occasion, or nothing when a row is bad.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.importing import ImportFileError, read_table
from accounts.models import User
from accounts.selectors import has_guardian_consent
from accounts.services import lock_people
from instruments.definitions import Instrument, all_instruments
from instruments.models import Administration
from instruments.scoring import Score, ScoringError, keyed_value, score_answers, score_total
from instruments.services import InstrumentError, consent_missing_for_counselor, response_create

Phase = Administration.Phase

COLUMN_HEADERS = ("tanggal", "fase", "instrumen", "total", "item1", "item2", "…")
COLUMN_ALIASES = {
    "date": {"date", "tanggal", "tgl", "timestamp", "stempel waktu", "waktu"},
    "phase": {"phase", "fase", "tahap"},
    "instrument": {"instrument", "instrumen", "skala", "scale", "questionnaire", "kuesioner"},
    "total": {"total", "skor", "skor total", "total score", "jumlah", "score"},
}
ITEM_HEADER = re.compile(r"^(?:item|butir|soal|q|no\.?|nomor)?\s*[_.#-]?\s*(\d{1,2})$")
PHASE_VALUES = {
    "baseline": Phase.BASELINE,
    "base line": Phase.BASELINE,
    "awal": Phase.BASELINE,
    "pre": Phase.BASELINE,
    "treatment": Phase.TREATMENT,
    "perlakuan": Phase.TREATMENT,
    "intervensi": Phase.TREATMENT,
    "sesi": Phase.TREATMENT,
    "follow-up": Phase.FOLLOW_UP,
    "follow_up": Phase.FOLLOW_UP,
    "follow up": Phase.FOLLOW_UP,
    "followup": Phase.FOLLOW_UP,
    "tindak lanjut": Phase.FOLLOW_UP,
}
NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?$")
# An imported occasion is placed at noon of its day in the school's zone.
OCCASION_HOUR = 12


class HistoryRejected(InstrumentError):
    def __init__(self, plan: "HistoryPlan") -> None:
        super().__init__("rows_invalid", _("Nothing was imported: fix the rows and upload again."))
        self.plan = plan


@dataclass
class OccasionPlan:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    instrument: Instrument | None = None
    phase: str = ""
    date: datetime.date | None = None
    answers: dict[int, int] = field(default_factory=dict)
    score: Score | None = None

    @property
    def band_label(self) -> str:
        band = self.instrument.band(self.score.band) if self.instrument and self.score else None
        return str(band.label) if band else ""

    @property
    def phase_label(self) -> str:
        return Phase(self.phase).label if self.phase else self.values.get("phase", "")


@dataclass
class HistoryPlan:
    rows: list[OccasionPlan]
    month_first: bool = False  # how numeric dates such as 01/02/2026 were read

    @property
    def bad_rows(self) -> list[OccasionPlan]:
        return [row for row in self.rows if row.errors]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.bad_rows


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.strip().lower())


def _column_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = cell.strip().lower()
        match = ITEM_HEADER.match(name)
        key = f"item{int(match.group(1))}" if match else None
        for field_name, aliases in COLUMN_ALIASES.items():
            if name in aliases:
                key = field_name
        if key and key not in positions:
            positions[key] = index
    missing = [key for key in ("date", "phase", "instrument") if key not in positions]
    if missing or not ("total" in positions or any(k.startswith("item") for k in positions)):
        raise ImportFileError(
            "wrong_columns",
            _("Wrong columns. Expected: %(expected)s. Found: %(found)s.")
            % {
                "expected": ", ".join(COLUMN_HEADERS),
                "found": ", ".join(cell for cell in header if cell) or "—",
            },
        )
    return positions


def parse_history(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV or XLSX file into (line number, values by column), or ImportFileError."""
    table = read_table(content)
    (_line, header), rows = table[0], table[1:]
    positions = _column_positions(header)
    if not rows:
        raise ImportFileError("no_rows", _("The file has a header but no rows."))
    return [
        (
            line,
            {key: cells[index] if index < len(cells) else "" for key, index in positions.items()},
        )
        for line, cells in rows
    ]


def _date_parts(text: str) -> tuple[int, int, int] | None:
    """(first, second, year) of a date written 31/01/2026, 1-5-2026 or 31.01.2026."""
    match = NUMERIC_DATE.match(text.strip())
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def month_comes_first(date_texts: list[str]) -> bool:
    """Whether a file writes its dates month first (1/31/2026, as a US-English Google
    Forms export does). Day first, as in Indonesia, unless a date shows otherwise."""
    parts = [found for text in date_texts if (found := _date_parts(text))]
    return any(second > 12 for _first, second, _year in parts) and not any(
        first > 12 for first, _second, _year in parts
    )


def _parse_date(text: str, *, month_first: bool = False) -> datetime.date | None:
    text = text.strip().split(" ")[0].split("T")[0]
    try:
        return datetime.datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        pass
    parts = _date_parts(text)
    if parts is None:
        return None
    first, second, year = parts
    day, month = (second, first) if month_first else (first, second)
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _instrument_for(text: str) -> Instrument | None:
    wanted = _normalise(text)
    for instrument in all_instruments():
        names = {instrument.code, instrument.short_name.id, instrument.short_name.en}
        if wanted in {_normalise(name) for name in names}:
            return instrument
    return None


def _plan_answers(row: OccasionPlan, instrument: Instrument) -> None:
    given = {
        int(key[4:]): value.strip()
        for key, value in row.values.items()
        if key.startswith("item") and value.strip()
    }
    numbers = {item.number for item in instrument.choice_items}
    for number in sorted(set(given) - numbers):
        row.errors.append(
            _("%(instrument)s has no item %(number)d, but that column has a value.")
            % {"instrument": instrument.code.upper(), "number": number}
        )
    low, high = instrument.scale_min, instrument.scale_max
    for number in sorted(numbers & set(given)):
        value = given[number]
        if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
            row.errors.append(
                _("item %(number)d: %(value)s is not an answer from %(low)d to %(high)d.")
                % {"number": number, "value": value, "low": low, "high": high}
            )
        else:
            row.answers[number] = int(value)
    total_text = row.values.get("total", "").strip()
    if not given and not total_text:
        row.errors.append(_("Give either the item answers or the total."))
        return
    missing = sorted(numbers - set(given))
    if given and missing:
        row.errors.append(
            _("Item answers are missing for: %(items)s.")
            % {"items": ", ".join(str(number) for number in missing)}
        )
    if row.errors:
        return
    if row.answers:
        row.score = score_answers(instrument, row.answers)
        if not instrument.is_scored:
            return
        expected = sum(keyed_value(instrument, n, v) for n, v in row.answers.items())
        if total_text and total_text != str(expected):
            row.errors.append(
                _("The total %(total)s does not match the item answers, which add up to "
                  "%(expected)d.") % {"total": total_text, "expected": expected}
            )  # fmt: skip
        return
    if not instrument.is_scored:
        row.errors.append(_("This questionnaire has no total: give the item answers."))
        return
    try:
        row.score = score_total(instrument, int(total_text))
    except (ValueError, ScoringError):
        row.errors.append(
            _("The total %(total)s is not a number from %(low)d to %(high)d.")
            % {"total": total_text, "low": instrument.total_min, "high": instrument.total_max}
        )


def history_plan(
    *, student: User, rows: list[tuple[int, dict[str, str]]], now: datetime.datetime | None = None
) -> HistoryPlan:
    now = now or timezone.now()
    zone = student.school.zone()
    today = timezone.localdate(now, timezone=zone)
    existing = {
        (code, timezone.localdate(opens_at, timezone=zone))
        for code, opens_at in Administration.objects.filter(
            student=student, cancelled_at__isnull=True
        ).values_list("instrument_code", "opens_at")
    }
    seen: dict[tuple[str, datetime.date], int] = {}
    plan = HistoryPlan(
        rows=[], month_first=month_comes_first([values.get("date", "") for _l, values in rows])
    )
    for line, values in rows:
        row = OccasionPlan(line=line, values=values)
        plan.rows.append(row)
        date_text = values.get("date", "").strip()
        row.date = _parse_date(date_text, month_first=plan.month_first) if date_text else None
        if not date_text:
            row.errors.append(_("The date is missing."))
        elif row.date is None:
            row.errors.append(
                _("%(value)s is not a date; write it as 2026-01-31 or 31/01/2026.")
                % {"value": date_text}
            )
        elif row.date > today:
            row.errors.append(_("The date %(value)s is in the future.") % {"value": date_text})
        phase_text = values.get("phase", "").strip().lower()
        row.phase = PHASE_VALUES.get(phase_text, "")
        if not row.phase:
            row.errors.append(
                _("Unknown phase %(value)s: use baseline, treatment or follow-up.")
                % {"value": values.get("phase", "") or "—"}
            )
        row.instrument = _instrument_for(values.get("instrument", ""))
        if row.instrument is None:
            row.errors.append(
                _("Unknown instrument %(value)s: use one of %(codes)s.")
                % {
                    "value": values.get("instrument", "") or "—",
                    "codes": ", ".join(instrument.code for instrument in all_instruments()),
                }
            )
            continue
        _plan_answers(row, row.instrument)
        if row.date is None:
            continue
        occasion = (row.instrument.code, row.date)
        if occasion in seen:
            row.errors.append(
                _("Line %(line)d already has %(instrument)s on this date.")
                % {"line": seen[occasion], "instrument": row.instrument.code.upper()}
            )
        elif occasion in existing:
            row.errors.append(
                _("%(instrument)s is already recorded for this student on %(date)s.")
                % {
                    "instrument": row.instrument.code.upper(),
                    "date": formats.date_format(row.date, "j F Y"),
                }
            )
        seen.setdefault(occasion, line)
    return plan


@transaction.atomic
def history_import(
    *, counselor: User, student: User, rows: list[tuple[int, dict[str, str]]]
) -> HistoryPlan:
    """Create every occasion of the file, or none (HistoryRejected with the plan)."""
    if not student.is_client_of(counselor):
        raise InstrumentError("not_client", _("This student is not one of your clients."))
    lock_people(student)  # one import at a time
    if not has_guardian_consent(student.pk):
        raise consent_missing_for_counselor()
    plan = history_plan(student=student, rows=rows)
    if not plan.is_valid:
        raise HistoryRejected(plan)
    zone = student.school.zone()
    now = timezone.now()
    for row in plan.rows:
        occasion = datetime.datetime.combine(row.date, datetime.time(OCCASION_HOUR), tzinfo=zone)
        administration = Administration.objects.create(
            school_id=student.school_id,
            student=student,
            counselor=counselor,
            instrument_code=row.instrument.code,
            phase=row.phase,
            opens_at=occasion,
            closes_at=occasion + datetime.timedelta(days=1),
            is_imported=True,
            created_by=counselor,
            notified_at=now,
        )
        response_create(
            administration=administration,
            instrument=row.instrument,
            score=row.score,
            answers={str(number): value for number, value in row.answers.items()},
            submitted_at=occasion,
            is_imported=True,
        )
    return plan

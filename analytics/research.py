"""A researcher's own data: alliance and anxiety per session from a CSV (or XLSX) file,
checked row by row so that a bad file is reported whole and nothing is half-read."""

import math

from django.utils.translation import gettext as _

from accounts.importing import ImportFileError, read_table
from analytics.report import SessionPair
from instruments.importing import PHASE_VALUES

COLUMNS = {
    "alliance": {"alliance", "aliansi", "wai", "wai-sr", "wai_sr", "x"},
    "anxiety": {"anxiety", "kecemasan", "amas", "y"},
    "phase": {"phase", "fase", "tahap"},
}
# Phase words: those of the history import, the single-case letters and our own labels.
PHASES = {
    **PHASE_VALUES,
    "a": "baseline",
    "baseline (a)": "baseline",
    "b": "treatment",
    "intervention": "treatment",
    "perlakuan (b)": "treatment",
    "treatment (b)": "treatment",
    "a'": "follow_up",
    "tindak lanjut (a')": "follow_up",
    "follow-up (a')": "follow_up",
}


class PairsFileError(Exception):
    """The file cannot be used; `errors` lists every problem, by line number."""

    def __init__(self, errors: list[str]):
        self.errors = [str(error) for error in errors]  # lazy translations too
        super().__init__("\n".join(self.errors))


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def pairs_from_table(content: bytes) -> tuple[list[SessionPair], list[str]]:
    """One SessionPair per complete data row, in file order, and a note for each row left
    out because a score is empty (a questionnaire not answered that session). With a phase
    column, only treatment rows count (a file exported by RuangBK also holds baseline and
    follow-up weeks). Any text that is not a number fails the whole file."""
    try:
        table = read_table(content)
    except ImportFileError as error:
        raise PairsFileError([error.message]) from error
    (_header_line, header), rows = table[0], table[1:]
    names = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    positions = {}
    for column, aliases in COLUMNS.items():
        found = [index for index, name in enumerate(names) if name in aliases]
        if found:
            positions[column] = found[0]
    missing = [column for column in ("alliance", "anxiety") if column not in positions]
    if missing:
        raise PairsFileError(
            [
                _("The first row must name the columns %(columns)s; it has: %(header)s.")
                % {"columns": "alliance, anxiety", "header": ", ".join(header) or "—"}
            ]
        )
    errors, notes, pairs = [], [], []
    for line, cells in rows:

        def cell(column: str, cells=cells) -> str:
            index = positions[column]
            return cells[index].strip() if index < len(cells) else ""

        extra = [text for text in cells[len(header) :] if text.strip()]
        if extra:
            errors.append(
                _(
                    "Line %(line)d has more cells than the first row has columns (%(extra)s): "
                    "a decimal comma in a comma-separated file? Use a semicolon between "
                    "columns or a decimal point."
                )
                % {"line": line, "extra": ", ".join(extra)}
            )
            continue
        if "phase" in positions:
            phase = PHASES.get(cell("phase").lower())
            if phase is None:
                errors.append(
                    _(
                        "Line %(line)d: unknown phase %(value)s: use baseline, treatment or "
                        "follow-up."
                    )
                    % {"line": line, "value": repr(cell("phase"))}
                )
                continue
            if phase != "treatment":
                continue  # a baseline or follow-up week: not a session
        texts = {column: cell(column) for column in ("alliance", "anxiety")}
        empty = [column for column, text in texts.items() if not text]
        if empty:
            notes.append(
                _("Line %(line)d has no %(column)s score and is left out.")
                % {"line": line, "column": " / ".join(empty)}
            )
            continue
        values = {column: _number(text) for column, text in texts.items()}
        for column, value in values.items():
            if value is None:
                errors.append(
                    _("Line %(line)d: %(column)s %(value)s is not a number.")
                    % {"line": line, "column": column, "value": repr(texts[column])}
                )
        if not errors:
            pairs.append(SessionPair(len(pairs) + 1, None, values["alliance"], values["anxiety"]))
    if errors:
        raise PairsFileError(errors)
    if not pairs:
        raise PairsFileError([_("The file has no data rows."), *notes])
    return pairs, notes

"""Hypothesis strategies for spreadsheets a school might upload: rows that are good or
spoilt in a known way, written as CSV (any delimiter, encoding, BOM, line ending, blank
lines) or XLSX, and bytes that are no spreadsheet at all."""

import csv
import io
from dataclasses import dataclass

from hypothesis import strategies as st
from openpyxl import Workbook

# Cells that make a spreadsheet run a formula when the file is opened (CSV injection).
FORMULAS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1:A2)", '=HYPERLINK("http://x")']


@dataclass
class Cell:
    text: str
    is_good: bool


@dataclass
class Row:
    """The cells as the importer sees them (a short row's missing cells are empty) and
    how many of them are written to the file."""

    cells: list[Cell]
    written: int

    @property
    def is_empty(self) -> bool:
        return not any(cell.text.split() for cell in self.cells[: self.written])


@dataclass
class Table:
    """A header and rows; `blank_after` holds the row indexes followed by an empty line."""

    header: list[str]
    rows: list[Row]
    blank_after: frozenset = frozenset()

    def lines(self) -> list[list[str]]:
        """The file's lines as cell texts, blank lines included ([] is an empty line)."""
        out = [self.header]
        for index, row in enumerate(self.rows):
            out.append([cell.text for cell in row.cells[: row.written]])
            if index in self.blank_after:
                out.append([])
        return out

    def has_quotes(self) -> bool:
        return any('"' in cell.text for row in self.rows for cell in row.cells)

    def data_lines(self) -> dict[int, list[Cell]]:
        """The cells of each row the importer reads, by its line in the file (the header
        is line 1; blank lines count but are not read)."""
        numbered, line = {}, 1
        for index, row in enumerate(self.rows):
            line += 1
            if not row.is_empty:
                numbered[line] = row.cells
            if index in self.blank_after:
                line += 1
        return numbered


def good(strategy) -> st.SearchStrategy[Cell]:
    return strategy.map(lambda text: Cell(text, True))


def bad(strategy) -> st.SearchStrategy[Cell]:
    return strategy.map(lambda text: Cell(text, False))


# Text that survives the importer's whitespace clean-up unchanged, in any encoding.
PLAIN_WORDS = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.,;\"éÀ"),
    min_size=1,
    max_size=30,
).filter(lambda text: text.strip() == text and text[:1] not in "=+-@")
NAME = st.one_of(PLAIN_WORDS, st.sampled_from(FORMULAS))
LONG_NAME = st.integers(151, 400).map(lambda n: "N" * n)


@dataclass(frozen=True)
class Column:
    """The texts a column's good and bad cells are drawn from, and whether an empty
    cell is good."""

    good: st.SearchStrategy[str]
    bad: st.SearchStrategy[str]
    empty_is_good: bool = False

    def cells(self, *, all_good: bool) -> st.SearchStrategy[Cell]:
        if all_good:
            return good(self.good)
        return st.one_of(good(self.good), good(self.good), bad(self.bad))


@st.composite
def table(
    draw, columns: dict[str, Column], header: list[str], *, extra_is_good: bool, max_rows=6
) -> Table:
    """A header and 1–`max_rows` rows with a cell for each header cell (a column the
    header names twice, or one it does not know, is read by nobody: any text), sometimes
    a row cut short or with cells past the header's, and blank lines between rows. Half
    the tables have only good rows, the others some bad cells."""
    all_good = draw(st.booleans())
    feeds = header_names(header, columns)
    rows = []
    for _ in range(draw(st.integers(1, max_rows))):
        cells = [
            draw(columns[name].cells(all_good=all_good)) if name else draw(good(NAME))
            for name in feeds
        ]
        written = len(cells)
        shape = draw(st.sampled_from(["as is"] * 6 + ["short", "long"]))
        if shape == "short" and not all_good:
            written = draw(st.integers(1, len(cells)))
            cells = cells[:written] + [
                Cell("", columns[name].empty_is_good if name else True) for name in feeds[written:]
            ]
        elif shape == "long" and (extra_is_good or not all_good):
            texts = draw(st.lists(NAME, min_size=1, max_size=3))
            cells += [Cell(text, extra_is_good) for text in texts]
            written = len(cells)
        rows.append(Row(cells, written))
    blank_after = frozenset(draw(st.sets(st.integers(0, len(rows) - 1), max_size=2)))
    return Table(header=header, rows=rows, blank_after=blank_after)


def header_names(header: list[str], columns: dict) -> list[str]:
    """The column each header cell feeds: its name the first time `columns` knows it,
    else "" (nobody reads it)."""
    seen, feeds = set(), []
    for name in header:
        feeds.append(name if name in columns and name not in seen else "")
        seen.add(name)
    return feeds


@dataclass(frozen=True)
class CsvStyle:
    delimiter: str
    encoding: str
    line_ending: str

    def render(self, lines: list[list[str]]) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.delimiter, lineterminator=self.line_ending)
        for cells in lines:
            if cells:
                writer.writerow(cells)
            else:
                buffer.write(self.line_ending)
        return buffer.getvalue().encode(self.encoding, errors="replace")


CSV_STYLES = st.builds(
    CsvStyle,
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
    line_ending=st.sampled_from(["\n", "\r\n"]),
)


class Upload:
    """A file to upload, shown in a failing example by the lines it was written from."""

    def __init__(self, name: str, content: bytes, lines: list[list[str]] | None = None):
        self.name, self.content, self.lines = name, content, lines

    def __repr__(self) -> str:
        shown = self.lines if self.lines is not None else self.content[:200]
        return f"Upload({self.name!r}, {len(self.content)} bytes, {shown!r})"


def xlsx(lines: list[list[str]], *, numbers: dict | None = None) -> bytes:
    """The lines as the first sheet of a workbook. `numbers` maps a column index to a
    test of the text: cells that pass it are stored as numbers (a spreadsheet drops
    their leading zeros). Every other cell is text, even one that starts with "="."""
    numbers = numbers or {}
    workbook = Workbook()
    sheet = workbook.active
    for row_index, cells in enumerate(lines, 1):
        for column_index, text in enumerate(cells):
            cell = sheet.cell(row=row_index, column=column_index + 1)
            is_number = numbers.get(column_index, lambda text: False)
            if row_index > 1 and text.isdigit() and is_number(text):
                cell.value = int(text)
            else:
                cell.value = text
                cell.data_type = "s"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Files that are no spreadsheet of ours: random bytes, a damaged zip, UTF-16, NUL bytes.
NOT_SPREADSHEET_BYTES = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=200).map(lambda junk: b"PK\x03\x04" + junk),
    st.text(max_size=80).map(lambda text: text.encode("utf-16")),
    st.sampled_from([b"", b"\n\n", b"\xef\xbb\xbf", b"a,b\x00,c\n1,2,3\n", b'"' * 50]),
)
NOT_SPREADSHEETS = NOT_SPREADSHEET_BYTES.map(lambda content: Upload("list.csv", content))

"""Random and hostile files at the three imports: the school's student list, a client's
questionnaire history, and `regression_report --csv`. Whatever the file: no server
error or unhandled exception; each bad row is reported with its line in the file; and
all or nothing: one bad row, and no row is stored.

Each file is drawn row by row, every cell known to be good or bad (see spreadsheets.py),
so the test knows which lines must be reported without asking the importer."""

import csv
import datetime
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from accounts.importing import parse_rows
from accounts.models import StudentProfile
from instruments.models import Administration
from tests.properties.checks import post, rolled_back, signed_in, snapshot
from tests.properties.hostile import hostile_value
from tests.properties.spreadsheets import (
    CSV_STYLES,
    FORMULAS,
    LONG_NAME,
    NAME,
    NOT_SPREADSHEETS,
    PLAIN_WORDS,
    Cell,
    Column,
    Table,
    Upload,
    table,
    xlsx,
)

pytestmark = pytest.mark.django_db


def mostly(files, junk):
    """Three in four examples a spreadsheet, the others no spreadsheet at all (one_of
    leans to the simpler strategy; a drawn number does not)."""
    return st.integers(0, 3).flatmap(lambda n: junk if n == 3 else files)


def uploaded(upload: Upload) -> SimpleUploadedFile:
    return SimpleUploadedFile(upload.name.split(" ")[0], upload.content)


def as_file(draw, lines: list[list[str]], *, numbers=None) -> Upload:
    """The lines as a CSV in a drawn style or as an XLSX."""
    if draw(st.booleans()):
        style = draw(CSV_STYLES)
        return Upload(f"list.csv ({style})", style.render(lines), lines)
    return Upload("list.xlsx", xlsx(lines, numbers=numbers or {}), lines)


# --- the student list ---------------------------------------------------------------------

STUDENT_HEADERS = {
    "nisn": ["NISN", "nisn"],
    "name": ["Nama", "Nama Lengkap", "full name"],
    "class_name": ["Kelas", "rombel"],
    "gender": ["Jenis Kelamin", "JK", "L/P"],
    "guardian_name": ["Nama Wali", "nama orang tua"],
    "guardian_phone": ["Telepon Wali", "No HP Wali"],
}
GOOD_PHONE = st.sampled_from(["081234567890", "+62 812-3456-7890", "0274 512345"])


def student_columns(world) -> dict[str, Column]:
    own = world.student.student_profile.nisn
    foreign = world.foreign_student.student_profile.nisn
    return {
        "nisn": Column(
            # New students, an update of one of this school, or another school's student.
            good=st.one_of(st.integers(2_000_000_000, 9_999_999_999).map(str), st.just(own)),
            bad=st.sampled_from([foreign, "123", "12345678", "abcdefghij", "12345678901", "=1"]),
        ),
        "name": Column(good=NAME, bad=LONG_NAME),
        "class_name": Column(
            good=st.sampled_from(["XI Pemasaran 1", "x akuntansi 1", "XI  PEMASARAN 1"]),
            bad=st.sampled_from(["Kelas Hantu", "XI Pemasaran"]),
        ),
        "gender": Column(
            good=st.sampled_from(["L", "P", "p", "Laki-laki", "PEREMPUAN", "female"]),
            bad=st.sampled_from(["X", "0", "Laki", "=1+1"]),
        ),
        "guardian_name": Column(good=PLAIN_WORDS, bad=LONG_NAME, empty_is_good=True),
        "guardian_phone": Column(
            good=GOOD_PHONE, bad=st.sampled_from(["telepon", "12", *FORMULAS]), empty_is_good=True
        ),
    }


@st.composite
def student_header(draw) -> tuple[list[str], bool]:
    """(header, whether it names every column): aliases in any case and order,
    sometimes a column twice, an unknown one, or one missing."""
    names = list(STUDENT_HEADERS)
    names = draw(st.permutations(names))
    complete = draw(st.integers(0, 5)) > 0
    if not complete:
        names = names[1:]
    extra = draw(st.sampled_from([[], [], ["Catatan"], [names[0]]]))
    header = [*names, *extra]
    return header, complete


@st.composite
def student_file(draw, columns):
    header, complete = draw(student_header())
    drawn = draw(table(columns, header, extra_is_good=True))
    # A NISN given twice: the second is reported (a good NISN is otherwise unique).
    index = header.index("nisn") if "nisn" in header else None
    seen = set()
    for row in drawn.rows:
        if index is not None and index < len(row.cells):
            nisn = row.cells[index]
            if nisn.text in seen:
                row.cells[index] = Cell(nisn.text, False)
            seen.add(nisn.text)
    shown = [
        draw(st.sampled_from(STUDENT_HEADERS[name])) if name in STUDENT_HEADERS else name
        for name in header
    ]
    numbers = {index: lambda text: len(text) == 10} if index is not None else {}
    return drawn, complete, as_file(draw, [shown, *drawn.lines()[1:]], numbers=numbers)


def row_values(header: list[str], cells: list[Cell]) -> dict[str, str]:
    first = {name: header.index(name) for name in STUDENT_HEADERS if name in header}
    return {name: " ".join(cells[index].text.split()) for name, index in first.items()}


def check_preview_and_import(client, world, drawn: Table, expected: dict, before: dict):
    preview = reverse("accounts:import-preview")
    plan = client.get(preview).context["plan"]
    bad_lines = {line for line, cells in expected.items() if not all(c.is_good for c in cells)}
    assert [row.line for row in plan.rows] == sorted(expected)
    assert {row.line for row in plan.bad_rows} == bad_lines
    assert all(str(error).strip() for row in plan.bad_rows for error in row.errors)

    response, written = post(client, preview, before=before)
    if bad_lines:
        assert not written  # all or nothing (post() also checked the answer said so)
        return
    assert response.status_code == 302
    for cells in expected.values():
        values = row_values(drawn.header, cells)
        profile = StudentProfile.objects.select_related("user").get(nisn=values["nisn"])
        assert profile.user.first_name == values["name"]
        assert profile.user.school_id == world.school.pk
    # A name that reads as a formula is not one in the passwords' spreadsheet.
    credentials = client.get(reverse("accounts:credentials-csv")).content.decode()
    for row in list(csv.reader(io.StringIO(credentials.lstrip("\ufeff"))))[1:]:
        assert all(cell[:1] not in "=+-@" for cell in row[:3]), row


def test_student_import(world):
    client = signed_in(world.admin)
    upload_url = reverse("accounts:import-upload")
    year = str(world.school.current_academic_year())
    columns = student_columns(world)
    files = mostly(student_file(columns), NOT_SPREADSHEETS.map(lambda u: (None, False, u)))

    before = snapshot()  # every example starts from it

    @given(files)
    def example(file):
        drawn, complete, upload = file
        expected = drawn.data_lines() if drawn else {}
        with rolled_back():
            form = {"file": uploaded(upload), "academic_year": year}
            response, _ = post(client, upload_url, form, before=before)
            if not (complete and expected):
                assert response.status_code == 200, "a file that is no student list is refused"
                assert response.context["form"].errors["file"]
                return
            assert response.status_code == 302, response.context["form"].errors
            signed_in_cookies = client.fresh_cookies
            client.fresh_cookies = client.cookies  # the upload waits in the web session
            try:
                check_preview_and_import(client, world, drawn, expected, before)
            finally:
                client.fresh_cookies = signed_in_cookies

    example()


def test_school_year_of_the_student_import(world):
    """The upload form's other field: a good file with any school year."""
    client = signed_in(world.admin)
    content = (
        b"NISN,Nama,Kelas,Jenis Kelamin,Nama Wali,Telepon Wali\n"
        b"0099887766,Dewi Lestari,XI Pemasaran 1,P,,\n"
    )
    before = snapshot()

    @given(st.one_of(hostile_value(), st.integers(1999, 2101).map(str)))
    def example(year):
        with rolled_back():
            form = {"file": SimpleUploadedFile("list.csv", content), "academic_year": year}
            response, _ = post(client, reverse("accounts:import-upload"), form, before=before)
            if response.status_code == 302:  # a school year of this school's classes or not
                preview = client.get(response["Location"])
                assert preview.status_code == 200

    example()


def test_a_name_with_quotes_in_a_csv_is_read_as_written():
    rows = parse_rows(
        b"NISN,Nama,Kelas,Jenis Kelamin,Nama Wali,Telepon Wali\n"
        b'0012345601,"Ayu ""Cici"" Lestari",XI Pemasaran 1,P,,\n'
    )
    assert rows[0][1]["name"] == 'Ayu "Cici" Lestari'


# --- a client's questionnaire history -------------------------------------------------------

HISTORY_HEADERS = {
    "date": ["tanggal", "Date", "TGL", "Timestamp"],
    "phase": ["fase", "Phase", "tahap"],
    "instrument": ["instrumen", "Skala", "questionnaire"],
    "total": ["total", "Skor", "score"],
}
ITEM_HEADERS = ["item{}", "Item {}", "butir_{}", "q{}", "{}"]
# Independent of the definitions' code: AMAS has items 1–9, WAI-SR 1–12, on 1–5.
ITEMS = {"amas": 9, "wai-sr": 12}
INSTRUMENT_NAMES = {"amas": ["amas", "AMAS", " Amas "], "wai-sr": ["wai-sr", "WAI_SR", "wai sr"]}
PHASE_WORDS = ["baseline", "Treatment", "follow-up", "awal", "perlakuan", "tindak lanjut"]


@st.composite
def history_row(draw, today, *, all_good: bool) -> tuple[dict, bool, tuple | None, int | None]:
    """(cells by column, is good, (instrument, date) when both are good, total given)."""
    spoil = set() if all_good else set(draw(st.sets(st.sampled_from(
        ["date", "phase", "instrument", "values"]), max_size=2)))  # fmt: skip
    code = draw(st.sampled_from(sorted(ITEMS)))
    day = today - datetime.timedelta(days=draw(st.integers(2, 400)))
    day = draw(st.sampled_from([day] * 8 + [datetime.date(1, 1, 1), datetime.date(1900, 2, 28)]))
    cells = {
        "date": day.isoformat() + draw(st.sampled_from(["", "", " 10:15:00", "T08:00:00"])),
        "phase": draw(st.sampled_from(PHASE_WORDS)),
        "instrument": draw(st.sampled_from(INSTRUMENT_NAMES[code])),
        "total": "",
        **{f"item{n}": "" for n in range(1, 13)},
    }
    if "date" in spoil:
        future = (today + datetime.timedelta(days=draw(st.integers(1, 30)))).isoformat()
        cells["date"] = draw(st.sampled_from(["", "2026-02-30", "kemarin", "31/31/2026", future]))
    if "phase" in spoil:
        cells["phase"] = draw(st.sampled_from(["", "fase 2", "=1+1", "pre-test"]))
    if "instrument" in spoil:
        cells["instrument"] = draw(st.sampled_from(["", "phq-9", "=1+1"]))
    total = None
    if draw(st.booleans()):  # the total only
        low, high = ITEMS[code], ITEMS[code] * 5
        total = draw(st.integers(low, high))
        cells["total"] = str(total)
        if "values" in spoil:
            cells["total"] = draw(st.sampled_from([str(low - 1), str(high + 1), "abc", "1e3"]))
    else:  # every item's answer
        for n in range(1, ITEMS[code] + 1):
            cells[f"item{n}"] = str(draw(st.integers(1, 5)))
        if "values" in spoil:
            how = draw(st.sampled_from(["out of scale", "missing", "no such item", "total"]))
            if how == "no such item" and code == "amas":
                cells["item10"] = "3"
            elif how == "total":
                cells["total"] = "0"  # items add up to at least 9
            else:
                item = f"item{draw(st.integers(1, ITEMS[code]))}"
                cells[item] = "" if how == "missing" else draw(st.sampled_from(["0", "6", "x"]))
    is_good = not spoil
    occasion = (code, day) if not spoil & {"date", "instrument"} else None
    return cells, is_good, occasion, total


@st.composite
def history_file(draw, today):
    all_good = draw(st.booleans())
    rows = draw(st.lists(history_row(today, all_good=all_good), min_size=1, max_size=5))
    seen = set()
    for index, (cells, _is_good, occasion, total) in enumerate(rows):
        if occasion is not None and occasion in seen:  # the same occasion twice
            rows[index] = (cells, False, occasion, total)
        seen.add(occasion)
    item_header = draw(st.sampled_from(ITEM_HEADERS))
    header = [draw(st.sampled_from(names)) for names in HISTORY_HEADERS.values()]
    header += [item_header.format(n) for n in range(1, 13)]
    keys = [*HISTORY_HEADERS, *(f"item{n}" for n in range(1, 13))]
    lines = [header] + [[cells[key] for key in keys] for cells, *_ in rows]
    return rows, as_file(draw, lines)


CLIENT_PAGES = ("instruments:client-detail", "analytics:client-trends", "analytics:report")


def test_history_import(world):
    client = signed_in(world.counselor)
    student = world.student
    upload = reverse("instruments:import-upload", args=[student.pk])
    preview = reverse("instruments:import-preview", args=[student.pk])
    today = timezone.localdate(timezone=world.school.zone())
    files = mostly(history_file(today), NOT_SPREADSHEETS.map(lambda upload: (None, upload)))

    before = snapshot()  # every example starts from it

    @given(files)
    def example(file):
        rows, file = file
        with rolled_back():
            response, _ = post(client, upload, {"file": uploaded(file)})
            if rows is None:
                assert response.status_code == 400, "a file that is no history is refused"
                return
            assert response.status_code == 302, response.context["form"].errors
            signed_in_cookies = client.fresh_cookies
            client.fresh_cookies = client.cookies  # the upload waits in the web session
            try:
                plan = client.get(preview).context["plan"]
                bad_lines = {
                    line for line, (_c, good_row, *_) in enumerate(rows, 2) if not good_row
                }
                assert {row.line for row in plan.bad_rows} == bad_lines
                assert all(row.errors for row in plan.bad_rows)
                response, written = post(client, preview, before=before)
            finally:
                client.fresh_cookies = signed_in_cookies
            if bad_lines:
                assert not written  # all or nothing
                return
            imported = Administration.objects.filter(student=student, is_imported=True)
            assert imported.count() == len(rows)
            totals = sorted(total for *_, total in rows if total is not None)
            stored = imported.filter(responses__answers={}).values_list(
                "responses__total", flat=True
            )
            assert sorted(stored) == totals
            for page in (
                "instruments:client-detail",
                "analytics:client-trends",
                "analytics:report",
            ):
                assert client.get(reverse(page, args=[student.pk])).status_code == 200

    example()


# --- regression_report --csv -----------------------------------------------------------------

GOOD_NUMBERS = st.one_of(
    st.integers(-100, 100).map(str),
    st.decimals(-100, 100, places=2).map(str),
    st.sampled_from(["1e2", " 4 ", "3,5", "60"]),
)
BAD_NUMBERS = st.sampled_from(["abc", "NaN", "inf", "1e400", "=1+1", "0x10", "--1", "4 5"])
TREATMENT = ["treatment", "B", "perlakuan", "Intervensi"]
NOT_SESSIONS = ["baseline", "A", "follow-up", "A'", "tindak lanjut"]


@st.composite
def pairs_file(draw):
    """(upload, lines with an error, expected (alliance, anxiety) pairs, lines left out)."""
    as_csv = draw(st.booleans())
    with_phase = draw(st.booleans())
    header = [draw(st.sampled_from(["alliance", "WAI-SR", "x"]))]
    header.append(draw(st.sampled_from(["anxiety", "AMAS", "y"])))
    if with_phase:
        header.append(draw(st.sampled_from(["phase", "Fase"])))
    lines, errors, pairs, left_out = [header], set(), [], set()
    for _ in range(draw(st.integers(1, 8))):
        line = len(lines) + 1
        kinds = [draw(st.sampled_from(["good"] * 5 + ["empty", "bad"])) for _ in range(2)]
        texts = [
            draw({"good": GOOD_NUMBERS, "empty": st.just(""), "bad": BAD_NUMBERS}[kind])
            for kind in kinds
        ]
        phase = draw(st.sampled_from(["session"] * 4 + ["not a session", "bad"]))
        if with_phase:
            texts.append(
                draw(st.sampled_from(TREATMENT))
                if phase == "session"
                else draw(st.sampled_from(NOT_SESSIONS if phase == "not a session" else ["C"]))
            )
        # A cell past the header's: in a CSV the sign of a decimal comma, an error.
        extra = draw(st.sampled_from([[]] * 6 + [["7"]]))
        lines.append(texts + extra)
        if not any(text.strip() for text in texts + extra):
            pass  # an empty row: skipped like a blank line
        elif (extra and as_csv) or (with_phase and phase == "bad"):
            errors.add(line)
        elif with_phase and phase == "not a session":
            pass
        elif "empty" in kinds:
            left_out.add(line)
        elif "bad" in kinds:
            errors.add(line)
        else:
            pairs.append(tuple(float(text.strip().replace(",", ".")) for text in texts[:2]))
        if draw(st.integers(0, 5)) == 0:
            lines.append([])  # a blank line: not read, but counted
    if as_csv:
        style = draw(CSV_STYLES)
        upload = Upload(f"study.csv ({style})", style.render(lines), lines)
    else:
        upload = Upload("study.xlsx", xlsx(lines), lines)
    return upload, errors, pairs, left_out


def test_regression_report_from_a_file(tmp_path):
    files = mostly(pairs_file(), NOT_SPREADSHEETS.map(lambda u: (u, None, None, None)))

    @given(files, st.sampled_from(["json", "text"]))
    def example(file, output):
        upload, errors, pairs, left_out = file
        path = tmp_path / upload.name.split(" ")[0]
        path.write_bytes(upload.content)
        out = io.StringIO()
        try:
            call_command(
                "regression_report", csv_file=str(path), format=output, language="en", stdout=out
            )
        except CommandError as error:
            message = str(error)
            assert errors is None or errors or not pairs, message
            for line in errors or ():
                assert f"Line {line}:" in message or f"Line {line} has" in message, message
            return
        assert errors == set() and pairs, "a file with errors or no data was read"
        if output == "json":
            report = json.loads(out.getvalue())
            assert [(row["alliance"], row["anxiety"]) for row in report["data"]] == pairs
            for line in left_out:
                assert any(f"Line {line} " in warning for warning in report["warnings"])

    example()


@pytest.mark.parametrize("content", [b"alliance,anxiety\x00\n1,2\n", b"PK\x03\x04broken"])
def test_regression_report_on_a_file_that_is_no_spreadsheet(tmp_path, content):
    path = tmp_path / "study.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError):
        call_command("regression_report", csv_file=str(path), language="en", stdout=io.StringIO())

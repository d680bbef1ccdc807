"""Import of a client's past measurements: the preview reports every bad row by its line in
the file and why, confirming imports every occasion or none, and only the student's own
counselor can do it.

Expected scores are added up by hand from the published keys (see test_scoring.py):
AMAS items 1–9 on 1–5, Learning = 1, 3, 6, 7, 9, Evaluation = 2, 4, 5, 8, bands low 9–12,
fairly_low 13–17, medium 18–22, fairly_high 23–27, high 28–45; WAI-SR items 1–12 on 1–5,
Task = 1, 2, 10, 12, Bond = 3, 5, 7, 9, Goal = 4, 6, 8, 11, bands low 12–27,
medium 28–43, high 44–60. Imported occasions sit at 12:00 school time (WIB = UTC+7).
"""

import datetime
import io
import threading

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from accounts.importing import ImportFileError
from instruments.importing import HistoryRejected, history_import, history_plan, parse_history
from instruments.models import Administration, Response
from instruments.services import InstrumentError
from instruments.views.counselor import IMPORT_SESSION_KEY
from tests.factories import AdministrationFactory, StudentFactory

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# 10:00 WIB on 1 November 2026: the "today" of every plan below that passes `now`.
NOW = datetime.datetime(2026, 11, 1, 3, 0, tzinfo=UTC)

ITEM_COLUMNS = 12
HEADER_ID = "tanggal,fase,instrumen,total," + ",".join(f"item{n}" for n in range(1, 13))
HEADER_EN = "date,phase,instrument,total," + ",".join(f"item {n}" for n in range(1, 13))

AMAS_ANSWERS = [2, 3, 1, 4, 2, 3, 2, 3, 1]
# Total 2+3+1+4+2+3+2+3+1 = 21 (medium 18–22);
# Learning (1, 3, 6, 7, 9) = 2+1+3+2+1 = 9; Evaluation (2, 4, 5, 8) = 3+4+2+3 = 12.
WAI_SR_ANSWERS = [4, 5, 3, 4, 4, 5, 3, 4, 2, 5, 4, 4]
# Total 4+5+3+4+4+5+3+4+2+5+4+4 = 47 (high 44–60);
# Task (1, 2, 10, 12) = 4+5+5+4 = 18; Bond (3, 5, 7, 9) = 3+4+3+2 = 12;
# Goal (4, 6, 8, 11) = 4+5+4+4 = 17; 18+12+17 = 47.


def csv_row(date, phase, instrument, total="", items=()) -> str:
    cells = [date, phase, instrument, str(total), *(str(value) for value in items)]
    cells += [""] * (4 + ITEM_COLUMNS - len(cells))
    return ",".join(cells)


def csv_file(*rows: str, header: str = HEADER_ID) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


GOOD_ROWS = (
    csv_row("2026-09-01", "baseline", "amas", total=30),  # line 2
    csv_row("2026-09-08", "baseline", "amas", items=AMAS_ANSWERS),  # line 3
    csv_row("2026-09-08", "treatment", "wai-sr", items=WAI_SR_ANSWERS),  # line 4
    csv_row("2026-10-20", "follow-up", "amas", total=14),  # line 5
)
# line → (instrument, phase, date, total, subscales, band, answers), all worked out by hand.
GOOD_EXPECTED = {
    2: ("amas", "baseline", datetime.date(2026, 9, 1), 30, {}, "high", {}),
    3: (
        "amas",
        "baseline",
        datetime.date(2026, 9, 8),
        21,
        {"learning": 9, "evaluation": 12},
        "medium",
        {str(n): v for n, v in enumerate(AMAS_ANSWERS, 1)},
    ),
    4: (
        "wai-sr",
        "treatment",
        datetime.date(2026, 9, 8),
        47,
        {"task": 18, "bond": 12, "goal": 17},
        "high",
        {str(n): v for n, v in enumerate(WAI_SR_ANSWERS, 1)},
    ),
    5: ("amas", "follow_up", datetime.date(2026, 10, 20), 14, {}, "fairly_low", {}),
}
# 12:00 WIB (UTC+7) of each date is 05:00 UTC.
NOON_UTC = {
    datetime.date(2026, 9, 1): datetime.datetime(2026, 9, 1, 5, 0, tzinfo=UTC),
    datetime.date(2026, 9, 8): datetime.datetime(2026, 9, 8, 5, 0, tzinfo=UTC),
    datetime.date(2026, 10, 20): datetime.datetime(2026, 10, 20, 5, 0, tzinfo=UTC),
}


# The rows with item answers only: lines 2 and 3 when written alone.
ITEM_ROWS = (GOOD_ROWS[1], GOOD_ROWS[2])
ITEM_EXPECTED = [GOOD_EXPECTED[3], GOOD_EXPECTED[4]]


def plan_for(student, content: bytes, now=NOW):
    with translation.override("en"):
        return history_plan(student=student, rows=parse_history(content), now=now)


def errors_by_line(plan) -> dict[int, list[str]]:
    return {row.line: row.errors for row in plan.bad_rows}


def nothing_stored() -> bool:
    return not Administration.objects.exists() and not Response.objects.exists()


def assert_good_rows_imported(student, counselor, expected=None) -> None:
    expected = list(GOOD_EXPECTED.values()) if expected is None else expected
    administrations = Administration.objects.filter(student=student).prefetch_related("responses")
    assert administrations.count() == len(expected)
    by_occasion = {(a.instrument_code, a.opens_at): a for a in administrations}
    for code, phase, date, total, subscales, band, answers in expected:
        administration = by_occasion[(code, NOON_UTC[date])]
        assert administration.is_imported
        assert administration.phase == phase
        assert administration.counselor == counselor
        assert administration.school == student.school
        assert administration.session is None
        assert administration.closes_at > administration.opens_at
        (response,) = administration.responses.all()
        assert response.is_imported
        assert response.voided_at is None
        assert response.submitted_at == NOON_UTC[date]
        assert (response.total, response.subscale_scores, response.band) == (
            total,
            subscales,
            band,
        )
        assert response.answers == answers
        assert response.definition_version == "1.0"
        assert administration.status == Administration.Status.COMPLETED


# --- The plan (preview) and the import --------------------------------------------------


@pytest.mark.parametrize("header", [HEADER_ID, HEADER_EN], ids=["indonesian", "english"])
def test_a_good_file_is_previewed_row_by_row_without_errors(student, header):
    plan = plan_for(student, csv_file(*GOOD_ROWS, header=header))
    assert plan.is_valid
    assert plan.bad_rows == []
    assert [row.line for row in plan.rows] == [2, 3, 4, 5]
    for row in plan.rows:
        code, phase, date, total, subscales, band, answers = GOOD_EXPECTED[row.line]
        assert row.instrument.code == code
        assert row.phase == phase
        assert row.date == date
        assert row.score.total == total
        assert row.score.subscales == subscales
        assert row.score.band == band
        assert {str(n): v for n, v in row.answers.items()} == answers
    assert nothing_stored()  # the preview writes nothing


@pytest.mark.parametrize("header", [HEADER_ID, HEADER_EN], ids=["indonesian", "english"])
def test_confirming_a_good_file_creates_one_imported_occasion_per_row(student, counselor, header):
    rows = parse_history(csv_file(*GOOD_ROWS, header=header))
    plan = history_import(counselor=counselor, student=student, rows=rows)
    assert len(plan.rows) == 4
    assert_good_rows_imported(student, counselor)


@pytest.mark.parametrize("header", [HEADER_ID, HEADER_EN], ids=["indonesian", "english"])
def test_confirming_a_file_of_item_answers_creates_one_imported_occasion_per_row(
    student, counselor, header
):
    rows = parse_history(csv_file(*ITEM_ROWS, header=header))
    plan = history_import(counselor=counselor, student=student, rows=rows)
    assert [row.line for row in plan.rows] == [2, 3]
    assert_good_rows_imported(student, counselor, ITEM_EXPECTED)


def test_a_total_only_row_is_imported_with_its_band_and_no_answers(student, counselor):
    content = csv_file(csv_row("2026-09-01", "baseline", "amas", total=30))
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    response = Response.objects.get()
    # 30 is in the AMAS band high (28–45); a total alone has no subscales.
    assert (response.total, response.band, response.answers) == (30, "high", {})
    assert response.subscale_scores == {}
    assert response.is_imported


def test_item_answers_with_the_matching_total_are_accepted(student, counselor):
    # 2+3+1+4+2+3+2+3+1 = 21, written in the total column as well.
    content = csv_file(csv_row("2026-09-08", "baseline", "amas", total=21, items=AMAS_ANSWERS))
    plan = plan_for(student, content)
    assert plan.is_valid
    assert plan.rows[0].score.total == 21
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    response = Response.objects.get()
    assert (response.total, response.band) == (21, "medium")
    assert response.subscale_scores == {"learning": 9, "evaluation": 12}


# Each bad row is line 6 (header = line 1, four good rows on lines 2–5). Each row carries
# exactly one problem; the reason is checked in English.
BAD_ROWS = {
    "answer 6": (
        csv_row("2026-10-27", "baseline", "amas", items=[6, 3, 1, 4, 2, 3, 2, 3, 1]),
        "item 1: 6 is not an answer from 1 to 5",
    ),
    "answer 0": (
        csv_row("2026-10-27", "baseline", "amas", items=[2, 3, 1, 0, 2, 3, 2, 3, 1]),
        "item 4: 0 is not an answer from 1 to 5",
    ),
    "answer x": (
        csv_row("2026-10-27", "baseline", "amas", items=[2, 3, 1, 4, 2, 3, 2, 3, "x"]),
        "item 9: x is not an answer from 1 to 5",
    ),
    "missing item answer": (
        csv_row("2026-10-27", "baseline", "amas", items=[2, 3, 1, 4, "", 3, 2, 3, 1]),
        "Item answers are missing for: 5.",
    ),
    "item10 on an amas row": (
        csv_row("2026-10-27", "baseline", "amas", items=[*AMAS_ANSWERS, 3]),
        "AMAS has no item 10, but that column has a value.",
    ),
    "total above range": (
        csv_row("2026-10-27", "baseline", "amas", total=46),
        "The total 46 is not a number from 9 to 45.",
    ),
    "total below range": (
        csv_row("2026-10-27", "baseline", "amas", total=8),
        "The total 8 is not a number from 9 to 45.",
    ),
    "wai-sr total above range": (
        csv_row("2026-10-27", "treatment", "wai-sr", total=61),
        "The total 61 is not a number from 12 to 60.",
    ),
    "total not a number": (
        csv_row("2026-10-27", "baseline", "amas", total="tinggi"),
        "The total tinggi is not a number from 9 to 45.",
    ),
    "total not matching the items": (
        csv_row("2026-10-27", "baseline", "amas", total=22, items=AMAS_ANSWERS),
        "The total 22 does not match the item answers, which add up to 21.",
    ),
    "unknown instrument": (
        csv_row("2026-10-27", "baseline", "gad-7", total=10),
        "Unknown instrument gad-7",
    ),
    "unknown phase": (
        csv_row("2026-10-27", "midline", "amas", total=20),
        "Unknown phase midline",
    ),
    "missing date": (csv_row("", "baseline", "amas", total=20), "The date is missing."),
    "impossible date": (
        csv_row("31/13/2026", "baseline", "amas", total=20),
        "31/13/2026 is not a date",
    ),
    "date in words": (csv_row("kemarin", "baseline", "amas", total=20), "kemarin is not a date"),
    "date in the future": (
        csv_row("2099-01-05", "baseline", "amas", total=20),
        "The date 2099-01-05 is in the future.",
    ),
    "neither items nor total": (
        csv_row("2026-10-27", "baseline", "amas"),
        "Give either the item answers or the total.",
    ),
}


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS.values(), ids=list(BAD_ROWS))
def test_a_bad_row_is_reported_with_its_line_and_reason(student, row, reason):
    plan = plan_for(student, csv_file(*GOOD_ROWS, row))
    assert not plan.is_valid
    errors = errors_by_line(plan)
    assert list(errors) == [6]
    assert len(errors[6]) == 1
    assert reason in errors[6][0]


@pytest.mark.parametrize(("row", "reason"), BAD_ROWS.values(), ids=list(BAD_ROWS))
def test_one_bad_row_imports_nothing(student, counselor, row, reason):
    rows = parse_history(csv_file(*GOOD_ROWS, row))
    with translation.override("en"), pytest.raises(HistoryRejected) as rejected:
        history_import(counselor=counselor, student=student, rows=rows)
    assert rejected.value.code == "rows_invalid"
    assert [bad.line for bad in rejected.value.plan.bad_rows] == [6]
    assert reason in rejected.value.plan.bad_rows[0].errors[0]
    assert nothing_stored()


def test_line_numbers_are_the_files_lines_even_across_blank_lines(student):
    content = csv_file(
        GOOD_ROWS[0],  # line 2
        "",  # line 3: blank, skipped but counted
        csv_row("2026-10-27", "baseline", "amas", total=99),  # line 4
        ",,,,,,,,,,,,,,,",  # line 5: only separators, skipped but counted
        GOOD_ROWS[3],  # line 6
        csv_row("2026-10-28", "midline", "amas", total=20),  # line 7
    )
    plan = plan_for(student, content)
    assert [row.line for row in plan.rows] == [2, 4, 6, 7]
    assert list(errors_by_line(plan)) == [4, 7]


def test_every_bad_row_is_reported_not_only_the_first(student, counselor):
    content = csv_file(
        csv_row("2026-10-27", "baseline", "amas", total=99),  # line 2
        GOOD_ROWS[0],  # line 3
        csv_row("kemarin", "midline", "gad-7", total=20),  # line 4: three problems
    )
    plan = plan_for(student, content)
    errors = errors_by_line(plan)
    assert list(errors) == [2, 4]
    assert len(errors[4]) == 3
    with pytest.raises(HistoryRejected):
        history_import(counselor=counselor, student=student, rows=parse_history(content))
    assert nothing_stored()


def test_the_second_line_of_an_occasion_given_twice_names_the_first(student, counselor):
    content = csv_file(
        *GOOD_ROWS,
        # AMAS on 1 September again (line 6), even in another phase: the same occasion.
        csv_row("2026-09-01", "follow-up", "amas", total=25),
    )
    plan = plan_for(student, content)
    errors = errors_by_line(plan)
    assert list(errors) == [6]
    assert len(errors[6]) == 1
    assert "Line 2 already has AMAS on this date." in errors[6][0]
    with pytest.raises(HistoryRejected):
        history_import(counselor=counselor, student=student, rows=parse_history(content))
    assert nothing_stored()


def test_an_occasion_already_recorded_for_the_student_is_refused(student, other_student, counselor):
    # 18:00 UTC on 1 September is 01:00 WIB on 2 September: the school's date is the 2nd.
    AdministrationFactory(
        student=student,
        instrument_code="amas",
        phase="baseline",
        opens_at=datetime.datetime(2026, 9, 1, 18, 0, tzinfo=UTC),
    )
    # These do not count: a cancelled AMAS, a WAI-SR, another student's AMAS.
    AdministrationFactory(
        student=student,
        instrument_code="amas",
        opens_at=datetime.datetime(2026, 9, 3, 5, 0, tzinfo=UTC),
        cancelled_at=datetime.datetime(2026, 9, 2, 5, 0, tzinfo=UTC),
    )
    AdministrationFactory(
        student=student,
        instrument_code="wai-sr",
        opens_at=datetime.datetime(2026, 9, 4, 5, 0, tzinfo=UTC),
    )
    AdministrationFactory(
        student=other_student,
        instrument_code="amas",
        opens_at=datetime.datetime(2026, 9, 5, 5, 0, tzinfo=UTC),
    )
    content = csv_file(
        csv_row("2026-09-01", "baseline", "amas", total=30),  # line 2: fine
        csv_row("2026-09-02", "baseline", "amas", total=30),  # line 3: already there
        csv_row("2026-09-03", "baseline", "amas", total=30),  # line 4: fine (cancelled)
        csv_row("2026-09-04", "baseline", "amas", total=30),  # line 5: fine (WAI-SR)
        csv_row("2026-09-05", "baseline", "amas", total=30),  # line 6: fine (other)
    )
    plan = plan_for(student, content)
    errors = errors_by_line(plan)
    assert list(errors) == [3]
    assert len(errors[3]) == 1
    assert "AMAS is already recorded for this student on 2 September 2026." in errors[3][0]
    with pytest.raises(HistoryRejected):
        history_import(counselor=counselor, student=student, rows=parse_history(content))
    assert Administration.objects.filter(is_imported=True).count() == 0
    assert Response.objects.count() == 0


def test_importing_the_same_file_twice_creates_nothing_the_second_time(student, counselor):
    content = csv_file(*ITEM_ROWS)
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    with translation.override("en"), pytest.raises(HistoryRejected) as rejected:
        history_import(counselor=counselor, student=student, rows=parse_history(content))
    plan = rejected.value.plan
    assert [row.line for row in plan.bad_rows] == [2, 3]
    assert all("already recorded" in row.errors[0] for row in plan.bad_rows)
    assert Administration.objects.count() == 2
    assert Response.objects.count() == 2


def test_the_future_is_judged_by_the_schools_calendar(student):
    # 17:30 UTC on 1 November is 00:30 WIB on 2 November: the 2nd is today at the school,
    # the 3rd is tomorrow.
    now = datetime.datetime(2026, 11, 1, 17, 30, tzinfo=UTC)
    content = csv_file(
        csv_row("2026-11-02", "baseline", "amas", total=20),  # line 2
        csv_row("2026-11-03", "baseline", "amas", total=20),  # line 3
    )
    plan = plan_for(student, content, now=now)
    errors = errors_by_line(plan)
    assert list(errors) == [3]
    assert "in the future" in errors[3][0]


@pytest.mark.parametrize(
    ("date_text", "phase_text", "date", "phase"),
    [
        ("01/09/2026", "tindak lanjut", datetime.date(2026, 9, 1), "follow_up"),
        ("08/09/2026", "perlakuan", datetime.date(2026, 9, 8), "treatment"),
        ("20-10-2026", "Tindak Lanjut", datetime.date(2026, 10, 20), "follow_up"),
        ("20.10.2026", "awal", datetime.date(2026, 10, 20), "baseline"),
        ("2026-10-20 08:15:00", "Follow-Up", datetime.date(2026, 10, 20), "follow_up"),
        ("31/01/2026", "Baseline", datetime.date(2026, 1, 31), "baseline"),
    ],
)
def test_day_first_dates_and_indonesian_phase_words_are_understood(
    student, counselor, date_text, phase_text, date, phase
):
    content = csv_file(csv_row(date_text, phase_text, "amas", items=AMAS_ANSWERS))
    plan = plan_for(student, content)
    assert plan.is_valid
    assert (plan.rows[0].date, plan.rows[0].phase) == (date, phase)
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    administration = Administration.objects.get()
    assert administration.phase == phase
    # Noon WIB = 05:00 UTC of the same day.
    expected = datetime.datetime(date.year, date.month, date.day, 5, 0, tzinfo=UTC)
    assert administration.opens_at == expected


@pytest.mark.parametrize("name", ["AMAS", "Amas", "Kecemasan matematika", "Math anxiety"])
def test_an_instrument_may_be_named_by_code_or_short_name(student, name):
    plan = plan_for(student, csv_file(csv_row("2026-09-01", "baseline", name, total=20)))
    assert plan.is_valid
    assert plan.rows[0].instrument.code == "amas"


def test_a_semicolon_separated_file_is_read(student):
    content = csv_file(
        *(row.replace(",", ";") for row in GOOD_ROWS), header=HEADER_ID.replace(",", ";")
    )
    plan = plan_for(student, content)
    assert plan.is_valid
    assert [row.score.total for row in plan.rows] == [30, 21, 47, 14]


def xlsx_file() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Tanggal", "Fase", "Instrumen", "Total", *(f"Item {n}" for n in range(1, 13))])
    # A real date cell, text dates, numbers as integers and as floats.
    sheet.append([datetime.datetime(2026, 9, 1), "Baseline", "AMAS", 30])
    sheet.append(["08/09/2026", "baseline", "amas", None, *AMAS_ANSWERS])
    sheet.append(
        [datetime.date(2026, 9, 8), "perlakuan", "WAI-SR", None, *map(float, WAI_SR_ANSWERS)]
    )
    sheet.append(["2026-10-20", "tindak lanjut", "amas", 14.0])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_file_is_previewed_like_the_csv(student):
    plan = plan_for(student, xlsx_file())
    assert plan.is_valid
    assert [row.line for row in plan.rows] == [2, 3, 4, 5]
    for row in plan.rows:
        code, phase, date, total, subscales, band, answers = GOOD_EXPECTED[row.line]
        assert (row.instrument.code, row.phase, row.date) == (code, phase, date)
        assert (row.score.total, row.score.subscales, row.score.band) == (total, subscales, band)
        assert {str(n): v for n, v in row.answers.items()} == answers


def test_an_xlsx_file_imports_like_the_csv(student, counselor):
    content = xlsx_file()
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    assert_good_rows_imported(student, counselor)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"  \n\n", "empty"),
        (b"nama,kelas\nAyu,XI\n", "wrong_columns"),
        # date, phase and instrument but neither a total nor an item column
        (b"tanggal,fase,instrumen\n2026-09-01,baseline,amas\n", "wrong_columns"),
        # no phase column
        (b"tanggal,instrumen,total\n2026-09-01,amas,30\n", "wrong_columns"),
        (HEADER_ID.encode() + b"\n", "no_rows"),
        (HEADER_ID.encode() + b"\n\n,,,\n", "no_rows"),
    ],
    ids=["empty", "blank", "other-file", "no-scores", "no-phase", "header-only", "header-blank"],
)
def test_a_file_that_is_not_a_history_is_refused_as_a_whole(content, code):
    with pytest.raises(ImportFileError) as error:
        parse_history(content)
    assert error.value.code == code


@pytest.mark.parametrize("person", ["other_student", "foreign_student"])
def test_history_import_for_someone_elses_student_is_refused(request, counselor, person):
    student = request.getfixturevalue(person)
    rows = parse_history(csv_file(*GOOD_ROWS))
    with pytest.raises(InstrumentError) as error:
        history_import(counselor=counselor, student=student, rows=rows)
    assert error.value.code == "not_client"
    assert nothing_stored()


def test_history_import_by_a_non_counselor_is_refused(student, school_admin):
    rows = parse_history(csv_file(*GOOD_ROWS))
    with pytest.raises(InstrumentError) as error:
        history_import(counselor=school_admin, student=student, rows=rows)
    assert error.value.code == "not_client"
    assert nothing_stored()


# --- Through the pages --------------------------------------------------------------------


def upload_url(student) -> str:
    return reverse("instruments:import-upload", args=[student.pk])


def preview_url(student) -> str:
    return reverse("instruments:import-preview", args=[student.pk])


def upload(client, student, content: bytes, name: str = "riwayat.csv"):
    return client.post(upload_url(student), {"file": SimpleUploadedFile(name, content)})


@pytest.fixture
def counselor_client(client, counselor):
    client.force_login(counselor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # to find the button by its text
    return client


@pytest.fixture
def second_client(school, school_class, counselor):
    """Another client of the same counselor."""
    user = StudentFactory(school=school, profile__school_class=school_class)
    user.student_profile.counselor = counselor
    user.student_profile.save()
    return user


IMPORT_BUTTON = "Import all rows"


def test_upload_preview_and_confirm_import_every_occasion(counselor_client, student, counselor):
    page = counselor_client.get(upload_url(student))
    assert page.status_code == 200

    response = upload(counselor_client, student, csv_file(*GOOD_ROWS))
    assert response.status_code == 302
    assert response.url == preview_url(student)
    assert nothing_stored()

    preview = counselor_client.get(preview_url(student))
    assert preview.status_code == 200
    plan = preview.context["plan"]
    assert [row.line for row in plan.rows] == [2, 3, 4, 5]
    assert [row.score.total for row in plan.rows] == [30, 21, 47, 14]
    html = preview.content.decode()
    assert 'id="import-summary"' in html
    assert 'id="import-errors"' not in html
    assert IMPORT_BUTTON in html
    assert nothing_stored()

    confirmed = counselor_client.post(preview_url(student))
    assert confirmed.status_code == 302
    assert confirmed.url == reverse("instruments:client-detail", args=[student.pk])
    assert IMPORT_SESSION_KEY not in counselor_client.session
    assert_good_rows_imported(student, counselor)

    # A second confirm (a double click, the back button) finds no file and imports nothing.
    again = counselor_client.post(preview_url(student))
    assert again.status_code == 302
    assert again.url == upload_url(student)
    assert Administration.objects.count() == 4


def test_upload_preview_and_confirm_of_item_answers_lead_to_the_client_page(
    counselor_client, student, counselor
):
    response = upload(counselor_client, student, csv_file(*ITEM_ROWS))
    assert response.status_code == 302
    assert response.url == preview_url(student)
    preview = counselor_client.get(preview_url(student))
    assert [row.score.total for row in preview.context["plan"].rows] == [21, 47]
    assert IMPORT_BUTTON in preview.content.decode()
    confirmed = counselor_client.post(preview_url(student))
    assert confirmed.status_code == 302
    assert confirmed.url == reverse("instruments:client-detail", args=[student.pk])
    assert IMPORT_SESSION_KEY not in counselor_client.session
    assert_good_rows_imported(student, counselor, ITEM_EXPECTED)
    page = counselor_client.get(confirmed.url)
    assert page.status_code == 200


def test_an_xlsx_upload_is_previewed_and_imported(counselor_client, student, counselor):
    response = upload(counselor_client, student, xlsx_file(), name="riwayat.xlsx")
    assert response.status_code == 302
    assert response.url == preview_url(student)
    confirmed = counselor_client.post(preview_url(student))
    assert confirmed.status_code == 302
    assert_good_rows_imported(student, counselor)


def test_a_preview_with_a_bad_row_shows_the_errors_and_no_import_button(counselor_client, student):
    bad = csv_row("2026-10-27", "baseline", "amas", total=46)  # line 6
    upload(counselor_client, student, csv_file(*GOOD_ROWS, bad))
    preview = counselor_client.get(preview_url(student))
    assert preview.status_code == 200
    html = preview.content.decode()
    assert 'id="import-errors"' in html
    assert 'id="import-summary"' not in html
    assert IMPORT_BUTTON not in html
    assert [row.line for row in preview.context["plan"].bad_rows] == [6]
    assert "Line 6:" in html

    # Posting the confirm anyway imports nothing and shows the errors again.
    forced = counselor_client.post(preview_url(student))
    assert forced.status_code == 200
    assert 'id="import-errors"' in forced.content.decode()
    assert nothing_stored()


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"nama,kelas\nAyu,XI\n",
        HEADER_ID.encode() + b"\n",
    ],
    ids=["empty", "wrong-columns", "header-only"],
)
def test_a_file_level_error_is_shown_on_the_upload_form(counselor_client, student, content):
    response = upload(counselor_client, student, content)
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert IMPORT_SESSION_KEY not in counselor_client.session
    assert nothing_stored()


@pytest.mark.parametrize("person", ["other_student", "foreign_student"])
def test_the_import_pages_of_a_student_who_is_not_a_client_are_404(
    counselor_client, request, person
):
    outsider = request.getfixturevalue(person)
    assert counselor_client.get(upload_url(outsider)).status_code == 404
    assert upload(counselor_client, outsider, csv_file(*GOOD_ROWS)).status_code == 404
    assert counselor_client.get(preview_url(outsider)).status_code == 404
    assert counselor_client.post(preview_url(outsider)).status_code == 404
    assert nothing_stored()


def test_a_file_uploaded_for_one_client_cannot_be_imported_into_another(
    counselor_client, student, second_client
):
    upload(counselor_client, student, csv_file(*GOOD_ROWS))
    preview = counselor_client.get(preview_url(second_client))
    assert preview.status_code == 302
    assert preview.url == upload_url(second_client)
    confirm = counselor_client.post(preview_url(second_client))
    assert confirm.status_code == 302
    assert confirm.url == upload_url(second_client)
    assert nothing_stored()
    # The file is still waiting for the client it was uploaded for.
    assert counselor_client.session[IMPORT_SESSION_KEY]["student_id"] == student.pk


def test_the_preview_without_an_upload_sends_to_the_upload_form(counselor_client, student):
    response = counselor_client.get(preview_url(student))
    assert response.status_code == 302
    assert response.url == upload_url(student)


@pytest.mark.parametrize("person", ["student", "school_admin", "foreign_admin"])
def test_only_counselors_reach_the_import_pages(client, request, student, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(upload_url(student)).status_code == 403
    assert client.get(preview_url(student)).status_code == 403
    assert upload(client, student, csv_file(*GOOD_ROWS)).status_code == 403
    assert nothing_stored()


@pytest.mark.parametrize("person", ["other_counselor", "foreign_counselor"])
def test_another_counselor_cannot_import_for_my_client(client, request, student, person):
    client.force_login(request.getfixturevalue(person))
    assert client.get(upload_url(student)).status_code == 404
    assert upload(client, student, csv_file(*GOOD_ROWS)).status_code == 404
    assert client.post(preview_url(student)).status_code == 404
    assert nothing_stored()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, student):
    for url in (upload_url(student), preview_url(student)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))


# --- Two confirms at once ---------------------------------------------------------------


@pytest.mark.requires_postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_imports_of_the_same_file_store_it_once(student, counselor):
    rows = parse_history(csv_file(*ITEM_ROWS))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def confirm() -> None:
        try:
            barrier.wait(timeout=10)
            history_import(counselor=counselor, student=student, rows=rows)
            outcomes.append("imported")
        except HistoryRejected:
            outcomes.append("rejected")
        except Exception as error:  # reported by the assert below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["imported", "rejected"]
    assert Administration.objects.count() == 2
    assert Response.objects.count() == 2


# --- Which comes first in 01/02/2026: the day or the month -----------------------------


def test_numeric_dates_are_read_day_first_when_the_file_does_not_say_otherwise(student):
    content = csv_file(
        csv_row("01/02/2026", "baseline", "amas", total=20),
        csv_row("05/03/2026", "baseline", "amas", total=21),
    )
    plan = plan_for(student, content)
    assert plan.is_valid and not plan.month_first
    assert [row.date for row in plan.rows] == [datetime.date(2026, 2, 1), datetime.date(2026, 3, 5)]


def test_a_us_google_forms_export_is_read_month_first_for_every_row(student):
    # "1/31/2026 10:00:00" can only be month first, so "2/3/2026" is 3 February, not 2 March.
    content = csv_file(
        csv_row("1/31/2026 10:00:00", "baseline", "amas", total=20),
        csv_row("2/3/2026 09:15:00", "baseline", "amas", total=21),
    )
    plan = plan_for(student, content)
    assert plan.is_valid and plan.month_first
    assert [row.date for row in plan.rows] == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 2, 3),
    ]


def test_the_preview_says_how_numeric_dates_were_read(client, counselor, student):
    client.force_login(counselor)
    upload = SimpleUploadedFile(
        "forms.csv", csv_file(csv_row("1/31/2026", "baseline", "amas", total=20))
    )
    client.post(reverse("instruments:import-upload", args=[student.pk]), {"file": upload})
    page = client.get(reverse("instruments:import-preview", args=[student.pk]))
    assert page.context["plan"].month_first
    assert 'id="date-order"' in page.content.decode()


def test_an_imported_occasion_is_never_offered_to_the_student(client, counselor, student):
    # Dated today, so its noon-to-noon window is open now; voided, it has no live answer.
    today = datetime.date.today().strftime("%Y-%m-%d")
    content = csv_file(csv_row(today, "baseline", "amas", total=20))
    history_import(counselor=counselor, student=student, rows=parse_history(content))
    response = Response.objects.get()
    response.voided_at = response.submitted_at
    response.save()

    client.force_login(student)
    home = client.get(reverse("accounts:student-home"))
    assert home.context["questionnaires"] == []
    page = client.post(reverse("instruments:answer", args=[response.administration_id]), {})
    assert page.status_code == 409
    assert Response.objects.count() == 1

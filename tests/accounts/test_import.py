"""Student import: row-numbered errors, all-or-nothing, and no duplicates on re-import."""

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from accounts.importing import (
    ImportFileError,
    ImportRejected,
    import_plan,
    parse_rows,
    students_import,
)
from accounts.models import StudentProfile, User
from tests.factories import SchoolClassFactory, StudentFactory

pytestmark = pytest.mark.django_db

HEADER = "NISN,Nama,Kelas,Jenis Kelamin,Nama Wali,Telepon Wali\n"
GOOD_ROWS = (
    "0012345601,Ayu Lestari,XI Pemasaran 1,P,Sri Wahyuni,081234567801\n"
    "0012345602,Budi Santoso,XI Pemasaran 1,L,Agus Santoso,081234567802\n"
    "0012345603,Citra Dewi,X Akuntansi 1,Perempuan,,\n"
)


@pytest.fixture
def classes(school_class):
    return [school_class, SchoolClassFactory(school=school_class.school, name="X Akuntansi 1")]


def plan_for(admin, content: str | bytes):
    data = content.encode() if isinstance(content, str) else content
    rows = parse_rows(data)
    return import_plan(admin=admin, academic_year=admin.school.current_academic_year(), rows=rows)


def do_import(admin, content: str | bytes):
    data = content.encode() if isinstance(content, str) else content
    year = admin.school.current_academic_year()
    return students_import(admin=admin, academic_year=year, rows=parse_rows(data))


def errors_by_line(plan) -> dict[int, list[str]]:
    """Error codes of each bad row, by line number."""
    return {row.line: [error.code for error in row.errors] for row in plan.bad_rows}


def test_good_csv_creates_students_with_initial_passwords(school_admin, classes):
    plan, credentials = do_import(school_admin, HEADER + GOOD_ROWS)
    assert plan.counts == {"create": 3, "update": 0, "unchanged": 0}
    ayu = User.objects.get(username="0012345601")
    assert ayu.school == school_admin.school
    assert ayu.role == User.Role.STUDENT
    assert ayu.must_change_password
    assert ayu.student_profile.school_class == classes[0]
    assert ayu.student_profile.gender == StudentProfile.Gender.FEMALE
    citra = StudentProfile.objects.get(nisn="0012345603")
    assert citra.school_class == classes[1]
    assert {c.username for c in credentials} == {"0012345601", "0012345602", "0012345603"}
    for credential in credentials:
        assert User.objects.get(username=credential.username).check_password(credential.password)


def test_reimporting_the_same_file_creates_no_duplicates(school_admin, classes):
    do_import(school_admin, HEADER + GOOD_ROWS)
    plan, credentials = do_import(school_admin, HEADER + GOOD_ROWS)
    assert plan.counts == {"create": 0, "update": 0, "unchanged": 3}
    assert credentials == []
    assert StudentProfile.objects.count() == 3
    assert User.objects.filter(role=User.Role.STUDENT).count() == 3


def test_reimport_updates_changed_rows_and_keeps_passwords(school_admin, classes):
    _plan, credentials = do_import(school_admin, HEADER + GOOD_ROWS)
    changed = GOOD_ROWS.replace("Budi Santoso,XI Pemasaran 1", "Budi S.,X Akuntansi 1")
    plan, new_credentials = do_import(school_admin, HEADER + changed)
    assert plan.counts == {"create": 0, "update": 1, "unchanged": 2}
    assert new_credentials == []
    budi = StudentProfile.objects.select_related("user").get(nisn="0012345602")
    assert budi.user.first_name == "Budi S."
    assert budi.school_class == classes[1]
    budi_password = next(c.password for c in credentials if c.username == "0012345602")
    assert budi.user.check_password(budi_password)


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ("12345,Nama,XI Pemasaran 1,L,,", "nisn_invalid"),
        ("00123456AB,Nama,XI Pemasaran 1,L,,", "nisn_invalid"),
        ("0012345699,Nama,XII Tidak Ada,L,,", "unknown_class"),
        ("0012345699,,XI Pemasaran 1,L,,", "name_missing"),
        ("0012345699,Nama,XI Pemasaran 1,X,,", "gender_invalid"),
        ("0012345699,Nama,XI Pemasaran 1,L,Wali,telepon", "phone_invalid"),
    ],
)
def test_bad_row_is_reported_by_line_and_nothing_is_imported(school_admin, classes, row, code):
    content = HEADER + GOOD_ROWS + row + "\n"
    plan = plan_for(school_admin, content)
    errors = errors_by_line(plan)
    assert list(errors) == [5]  # header is line 1, three good rows, then the bad one
    assert errors[5] == [code]
    with pytest.raises(ImportRejected):
        do_import(school_admin, content)
    assert StudentProfile.objects.count() == 0
    assert not User.objects.filter(role=User.Role.STUDENT).exists()


def test_duplicate_nisn_in_file_names_both_lines(school_admin, classes):
    content = HEADER + GOOD_ROWS + "0012345601,Ayu Kembar,XI Pemasaran 1,P,,\n"
    errors = errors_by_line(plan_for(school_admin, content))
    assert errors == {5: ["duplicate_nisn"]}
    bad_row = plan_for(school_admin, content).bad_rows[0]
    assert "2" in bad_row.errors[0].message  # names the line of the first occurrence


def test_nisn_of_another_school_is_refused_without_touching_it(school_admin, classes, other_school):
    foreign = StudentFactory(school=other_school, profile__nisn="0012345601")
    errors = errors_by_line(plan_for(school_admin, HEADER + GOOD_ROWS))
    assert errors == {2: ["other_school"]}
    foreign.refresh_from_db()
    assert foreign.school == other_school


def test_blank_lines_are_skipped_but_line_numbers_stay_true(school_admin, classes):
    content = HEADER + "\n" + GOOD_ROWS.splitlines()[0] + "\n,,,,,\nbad,Nama,XI Pemasaran 1,L,,\n"
    errors = errors_by_line(plan_for(school_admin, content))
    assert list(errors) == [5]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (HEADER.encode(), "no_rows"),
        (b"NISN,Nama,Kelas\n0012345601,Ayu,XI Pemasaran 1\n", "wrong_columns"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_spreadsheet"),
        (b"PK\x03\x04this is not really a zip", "not_spreadsheet"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(content, code):
    with pytest.raises(ImportFileError) as raised:
        parse_rows(content)
    assert raised.value.code == code
    assert raised.value.message


def test_semicolon_csv_from_excel_with_bom_and_aliases(school_admin, classes):
    content = (
        "\ufeffnisn;nama lengkap;rombel;jk;nama orang tua;no hp wali\n"
        "0012345601;Ayu Lestari;xi  pemasaran 1;p;Sri;0812-3456-7801\n"
    ).encode()
    plan = plan_for(school_admin, content)
    assert plan.is_valid, plan.bad_rows
    assert plan.counts["create"] == 1


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_import_restores_leading_zeros_of_numeric_nisn(school_admin, classes):
    content = xlsx_bytes(
        [
            ["No", "Nama", "NISN", "Kelas", "Jenis Kelamin", "Nama Wali", "Telepon Wali"],
            [1, "Ayu Lestari", 12345601, "XI Pemasaran 1", "P", "Sri", 81234567801],
            [2, "Budi Santoso", "0012345602", "XI Pemasaran 1", "L", None, None],
        ]
    )
    plan, _credentials = do_import(school_admin, content)
    assert plan.counts["create"] == 2
    ayu = StudentProfile.objects.get(nisn="0012345601")
    assert ayu.user.first_name == "Ayu Lestari"
    assert ayu.guardian_phone == "081234567801"


def test_csv_nisn_without_leading_zeros_gets_a_hint(school_admin, classes):
    plan = plan_for(school_admin, HEADER + "12345601,Ayu,XI Pemasaran 1,P,,\n")
    [error] = plan.bad_rows[0].errors
    assert error.code == "nisn_invalid"
    assert "XLSX" in error.message


def test_import_pages_preview_then_confirm(client, school_admin, classes):
    client.force_login(school_admin)
    upload = io.BytesIO((HEADER + GOOD_ROWS).encode())
    upload.name = "siswa.csv"
    year = school_admin.school.current_academic_year()
    response = client.post(
        reverse("accounts:import-upload"), {"file": upload, "academic_year": year}
    )
    assert response.url == reverse("accounts:import-preview")
    preview = client.get(response.url)
    assert preview.context["plan"].counts["create"] == 3
    assert StudentProfile.objects.count() == 0  # the preview writes nothing
    confirmed = client.post(reverse("accounts:import-preview"))
    assert confirmed.url == reverse("accounts:credentials")
    assert StudentProfile.objects.count() == 3
    page = client.get(confirmed.url)
    assert len(page.context["credentials"]) == 3


def test_import_page_shows_every_bad_row_and_offers_no_confirm(client, school_admin, classes):
    client.force_login(school_admin)
    content = HEADER + "123,Ayu,XI Pemasaran 1,P,,\n0012345602,Budi,Tidak Ada,L,,\n"
    upload = io.BytesIO(content.encode())
    upload.name = "siswa.csv"
    year = school_admin.school.current_academic_year()
    client.post(reverse("accounts:import-upload"), {"file": upload, "academic_year": year})
    page = client.get(reverse("accounts:import-preview"))
    html = page.content.decode()
    assert "Baris 2:" in html
    assert "Baris 3:" in html
    assert "Impor semua baris" not in html  # no confirm button while rows are bad
    # Confirming anyway (e.g. a crafted POST) imports nothing.
    client.post(reverse("accounts:import-preview"))
    assert StudentProfile.objects.count() == 0


def test_confirm_rechecks_rows_changed_since_the_preview(
    client, school_admin, classes, other_school
):
    client.force_login(school_admin)
    upload = io.BytesIO((HEADER + GOOD_ROWS).encode())
    upload.name = "siswa.csv"
    year = school_admin.school.current_academic_year()
    client.post(reverse("accounts:import-upload"), {"file": upload, "academic_year": year})
    # Between preview and confirm, another school registers one of the NISNs.
    StudentFactory(school=other_school, profile__nisn="0012345603")
    response = client.post(reverse("accounts:import-preview"))
    assert response.status_code == 200
    assert StudentProfile.objects.filter(user__school=school_admin.school).count() == 0


def test_upload_of_a_non_spreadsheet_keeps_the_form_with_a_message(client, school_admin):
    client.force_login(school_admin)
    upload = io.BytesIO(b"%PDF-1.4\x00\x01binary")
    upload.name = "laporan.pdf"
    response = client.post(
        reverse("accounts:import-upload"), {"file": upload, "academic_year": 2026}
    )
    assert response.status_code == 200
    assert response.context["form"]["academic_year"].value() == "2026"
    assert "file" in response.context["form"].errors


def test_preview_names_the_fields_an_update_changes(school_admin, classes):
    do_import(school_admin, HEADER + GOOD_ROWS)
    changed = GOOD_ROWS.replace("Budi Santoso,XI Pemasaran 1,L", "Budi S.,X Akuntansi 1,L")
    plan = plan_for(school_admin, HEADER + changed)
    [update] = [row for row in plan.rows if row.action == "update"]
    assert update.line == 3
    assert update.changes == ["name", "class_name"]


def test_new_school_year_moves_students_into_this_years_class_of_the_same_name(
    school_admin, classes
):
    last_year = SchoolClassFactory(
        school=school_admin.school,
        name="XI Pemasaran 1",
        academic_year=school_admin.school.current_academic_year() - 1,
    )
    StudentFactory(
        school=school_admin.school,
        first_name="Ayu Lestari",
        profile__nisn="0012345601",
        profile__school_class=last_year,
        profile__gender="P",
        profile__guardian_name="Sri Wahyuni",
        profile__guardian_phone="081234567801",
    )
    plan, _credentials = do_import(school_admin, HEADER + GOOD_ROWS.splitlines()[0] + "\n")
    assert plan.counts["update"] == 1
    assert plan.rows[0].changes == ["class_name"]
    assert StudentProfile.objects.get(nisn="0012345601").school_class == classes[0]

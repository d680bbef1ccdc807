"""Bulk import of students from the CSV or XLSX a school exports from its records.

Two steps: `import_plan` reads the rows and checks every one against the database
without writing anything (the preview); `students_import` plans again inside one
transaction and applies all rows, or none when any row is bad. NISN is the key, so
importing the same file twice creates nothing new.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import School, SchoolClass, StudentProfile, User
from accounts.services import Credential, credential_for, initial_password_set
from counseling_platform.errors import DomainError

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
MAX_COLUMNS = 40

# The headers of the expected file, as the upload page names them.
COLUMN_HEADERS = ("NISN", "Nama", "Kelas", "Jenis Kelamin", "Nama Wali", "Telepon Wali")
# Column headers a school's export may use, by the field they fill.
COLUMN_ALIASES = {
    "nisn": {"nisn"},
    "name": {"name", "nama", "nama lengkap", "nama siswa", "nama peserta didik", "full name"},
    "class_name": {"class", "kelas", "rombel", "rombongan belajar"},
    "gender": {"gender", "jenis kelamin", "jk", "l/p", "sex"},
    "guardian_name": {
        "guardian name",
        "nama wali",
        "nama orang tua",
        "nama orang tua/wali",
        "nama ortu",
        "wali",
    },
    "guardian_phone": {
        "guardian phone",
        "telepon wali",
        "no hp wali",
        "hp wali",
        "no. hp wali",
        "nomor hp wali",
        "telepon orang tua",
        "no hp orang tua",
    },
}
GENDER_VALUES = {
    "l": StudentProfile.Gender.MALE,
    "laki-laki": StudentProfile.Gender.MALE,
    "laki laki": StudentProfile.Gender.MALE,
    "male": StudentProfile.Gender.MALE,
    "m": StudentProfile.Gender.MALE,
    "p": StudentProfile.Gender.FEMALE,
    "perempuan": StudentProfile.Gender.FEMALE,
    "female": StudentProfile.Gender.FEMALE,
    "f": StudentProfile.Gender.FEMALE,
}
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 \-]{6,18}[0-9]$")
NOT_SPREADSHEET = gettext_lazy("The file is not a spreadsheet (CSV or XLSX) that can be read.")
UPDATED_FIELDS = ("name", "class_name", "gender", "guardian_name", "guardian_phone")
FIELD_LABELS = {
    "name": gettext_lazy("name"),
    "class_name": gettext_lazy("class"),
    "gender": gettext_lazy("gender"),
    "guardian_name": gettext_lazy("guardian name"),
    "guardian_phone": gettext_lazy("guardian phone"),
}


class ImportFileError(DomainError):
    """The file as a whole cannot be read as a student list."""


@dataclass(frozen=True)
class RowError:
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class RowPlan:
    line: int
    values: dict[str, str]
    action: str = "create"  # create | update | unchanged
    errors: list[RowError] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)

    @property
    def change_labels(self) -> list[str]:
        return [str(FIELD_LABELS[key]) for key in self.changes]


@dataclass
class ImportPlan:
    rows: list[RowPlan]
    classes: dict[str, SchoolClass] = field(default_factory=dict)
    existing: dict[str, StudentProfile] = field(default_factory=dict)

    @property
    def bad_rows(self) -> list[RowPlan]:
        return [row for row in self.rows if row.errors]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not self.bad_rows

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action and not row.errors)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in ("create", "update", "unchanged")}


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def read_table(content: bytes) -> list[tuple[int, list[str]]]:
    """Return (line number, cells) for each non-empty row, the header first."""
    if not content.strip():
        raise ImportFileError("empty", _("The file is empty."))
    if len(content) > MAX_IMPORT_BYTES:
        raise ImportFileError("too_large", _("The file is larger than 5 MB."))
    is_xlsx = content.startswith(b"PK\x03\x04")  # XLSX is a zip archive
    table = []
    for line, cells in _read_xlsx(content) if is_xlsx else _read_csv(content):
        if not any(cells):
            continue
        if len(table) > MAX_IMPORT_ROWS:  # stop reading: header + MAX_IMPORT_ROWS rows
            raise ImportFileError(
                "too_many_rows",
                _("The file has more than %(count)d rows; split it.") % {"count": MAX_IMPORT_ROWS},
            )
        table.append((line, cells))
    if not table:
        raise ImportFileError("empty", _("The file is empty."))
    return table


class NumberCell(str):
    """Text of a spreadsheet cell that held a number (its leading zeros are lost)."""


def _read_xlsx(content: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1):
            yield (
                line,
                [
                    NumberCell(_cell_text(value))
                    if isinstance(value, int | float) and not isinstance(value, bool)
                    else _cell_text(value)
                    for value in row
                ],
            )
        workbook.close()
    except ImportFileError:
        raise
    except Exception as error:  # a damaged workbook fails in many ways inside openpyxl
        raise ImportFileError("not_spreadsheet", NOT_SPREADSHEET) from error


def _read_csv(content: bytes) -> Iterator[tuple[int, list[str]]]:
    if b"\x00" in content:
        raise ImportFileError("not_spreadsheet", NOT_SPREADSHEET)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    # Only the delimiter comes from the header line: quoting is Excel's ("" inside a
    # quoted cell is one "), which a header without quotes cannot reveal.
    try:
        rows = csv.reader(io.StringIO(text), csv.excel, delimiter=delimiter)
        for line, cells in enumerate(rows, start=1):
            yield line, [_cell_text(cell) for cell in cells[:MAX_COLUMNS]]
    except csv.Error as error:
        raise ImportFileError("not_spreadsheet", NOT_SPREADSHEET) from error


def _column_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    normalised = [cell.strip().lower() for cell in header]
    for key, aliases in COLUMN_ALIASES.items():
        for index, cell in enumerate(normalised):
            if cell in aliases and key not in positions:
                positions[key] = index
    missing = [key for key in COLUMN_ALIASES if key not in positions]
    if missing:
        expected = ", ".join(COLUMN_HEADERS)
        found = ", ".join(cell for cell in header if cell) or "—"
        raise ImportFileError(
            "wrong_columns",
            _("Wrong columns. Expected: %(expected)s. Found: %(found)s.")
            % {"expected": expected, "found": found},
        )
    return positions


def parse_rows(content: bytes) -> list[tuple[int, dict[str, str]]]:
    """Read the file into (line number, values by field), raising ImportFileError."""
    table = read_table(content)
    (_header_line, header), data = table[0], table[1:]
    positions = _column_positions(header)
    if not data:
        raise ImportFileError("no_rows", _("The file has column headers but no students."))
    rows = []
    for line, cells in data:
        values = {
            key: (cells[index] if index < len(cells) else "") for key, index in positions.items()
        }
        nisn = values["nisn"]
        if isinstance(nisn, NumberCell) and nisn.isdigit():
            # A NISN typed as a number lost its leading zeros (most start with 00 or 01).
            values["nisn"] = nisn.zfill(10)
        phone = values["guardian_phone"]
        if isinstance(phone, NumberCell) and phone.startswith("8"):
            values["guardian_phone"] = f"0{phone}"  # mobile numbers are 08…
        rows.append((line, {key: str(value) for key, value in values.items()}))
    return rows


def _class_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def import_plan(
    *, admin: User, academic_year: int, rows: list[tuple[int, dict[str, str]]]
) -> ImportPlan:
    """Check every row against the database and decide what it would do; writes nothing."""
    classes = {
        _class_key(school_class.name): school_class
        for school_class in SchoolClass.objects.filter(
            school=admin.school, academic_year=academic_year
        )
    }
    nisns = [values["nisn"] for _line, values in rows]
    existing = {
        profile.nisn: profile
        for profile in StudentProfile.objects.filter(nisn__in=nisns).select_related(
            "user", "school_class"
        )
    }
    taken_usernames = set(
        User.objects.filter(username__in=nisns).values_list("username", flat=True)
    )
    first_line_of: dict[str, int] = {}
    plans = []
    for line, values in rows:
        plan = RowPlan(line=line, values=values)
        plans.append(plan)
        _check_row(plan, classes)
        nisn = values["nisn"]
        if nisn in first_line_of:
            plan.errors.append(
                RowError(
                    "duplicate_nisn",
                    _("NISN %(nisn)s also appears on line %(line)d.")
                    % {"nisn": nisn, "line": first_line_of[nisn]},
                )
            )
            continue
        if nisn:
            first_line_of[nisn] = line
        profile = existing.get(nisn)
        if profile is None:
            if nisn in taken_usernames:
                plan.errors.append(
                    RowError(
                        "username_taken",
                        _("Username %(nisn)s is already used.") % {"nisn": nisn},
                    )
                )
            continue
        if profile.user.school_id != admin.school_id:
            plan.errors.append(
                RowError(
                    "other_school",
                    _("NISN %(nisn)s is registered at another school.") % {"nisn": nisn},
                )
            )
            continue
        if plan.errors:
            continue
        new_class = classes[_class_key(values["class_name"])]
        differs = {
            "name": profile.user.first_name != values["name"],
            # By the class itself: a new school year's class may share last year's name.
            "class_name": profile.school_class_id != new_class.pk,
            "gender": profile.gender != GENDER_VALUES.get(values["gender"].lower()),
            "guardian_name": profile.guardian_name != values["guardian_name"],
            "guardian_phone": profile.guardian_phone != values["guardian_phone"],
        }
        plan.changes = [key for key in UPDATED_FIELDS if differs[key]]
        plan.action = "update" if plan.changes else "unchanged"
    return ImportPlan(rows=plans, classes=classes, existing=existing)


def _check_row(plan: RowPlan, classes: dict[str, SchoolClass]) -> None:
    values = plan.values
    if re.fullmatch(r"\d{6,9}", values["nisn"]):
        plan.errors.append(
            RowError(
                "nisn_invalid",
                _(
                    "NISN “%(nisn)s” has only %(count)d digits. If the spreadsheet dropped "
                    "its leading zeros, upload the XLSX file or format the NISN column as text."
                )
                % {"nisn": values["nisn"], "count": len(values["nisn"])},
            )
        )
    elif not re.fullmatch(r"\d{10}", values["nisn"]):
        plan.errors.append(
            RowError(
                "nisn_invalid",
                _("NISN “%(nisn)s” is not valid: it must be 10 digits.") % {"nisn": values["nisn"]},
            )
        )
    if not values["name"]:
        plan.errors.append(RowError("name_missing", _("The name is empty.")))
    elif len(values["name"]) > 150:
        plan.errors.append(RowError("name_too_long", _("The name is longer than 150 characters.")))
    if _class_key(values["class_name"]) not in classes:
        plan.errors.append(
            RowError(
                "unknown_class",
                _("Class “%(name)s” does not exist in this school year.")
                % {"name": values["class_name"]},
            )
        )
    if values["gender"].lower() not in GENDER_VALUES:
        plan.errors.append(
            RowError(
                "gender_invalid",
                _("Gender “%(value)s” is not valid: use L or P.") % {"value": values["gender"]},
            )
        )
    if len(values["guardian_name"]) > 150:
        plan.errors.append(
            RowError(
                "guardian_name_too_long", _("The guardian name is longer than 150 characters.")
            )
        )
    if values["guardian_phone"] and not PHONE_PATTERN.match(values["guardian_phone"]):
        plan.errors.append(
            RowError(
                "phone_invalid",
                _("Guardian phone “%(value)s” is not a phone number.")
                % {"value": values["guardian_phone"]},
            )
        )


class ImportRejected(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        super().__init__("import has bad rows")
        self.plan = plan


@transaction.atomic
def students_import(
    *, admin: User, academic_year: int, rows: list[tuple[int, dict[str, str]]]
) -> tuple[ImportPlan, list[Credential]]:
    """Create or update every student in `rows`, or nothing at all if any row is bad."""
    # One import per school at a time: a second (a double click, another admin) waits and
    # then finds the students already there.
    School.objects.select_for_update().get(pk=admin.school_id)
    plan = import_plan(admin=admin, academic_year=academic_year, rows=rows)
    if not plan.is_valid:
        raise ImportRejected(plan)
    classes, existing = plan.classes, plan.existing
    credentials = []
    for row in plan.rows:
        values = row.values
        school_class = classes[_class_key(values["class_name"])]
        gender = GENDER_VALUES[values["gender"].lower()]
        if row.action == "create":
            user = User(
                username=values["nisn"],
                first_name=values["name"],
                role=User.Role.STUDENT,
                school=admin.school,
            )
            password = initial_password_set(user)
            user.save()
            profile = StudentProfile.objects.create(
                user=user,
                nisn=values["nisn"],
                school_class=school_class,
                gender=gender,
                guardian_name=values["guardian_name"],
                guardian_phone=values["guardian_phone"],
            )
            user.student_profile = profile
            credentials.append(credential_for(user, password))
        elif row.action == "update":
            profile = existing[values["nisn"]]
            profile.user.first_name = values["name"]
            profile.user.save(update_fields=["first_name"])
            profile.school_class = school_class
            profile.gender = gender
            profile.guardian_name = values["guardian_name"]
            profile.guardian_phone = values["guardian_phone"]
            profile.save()
    return plan, credentials

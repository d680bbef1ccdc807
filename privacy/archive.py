"""The personal data download: one ZIP archive a student (or their guardian) can read.

Each table is a CSV file (UTF-8 with a byte-order mark, so spreadsheet programs read it
as UTF-8) with headers in the reader's language; `data.json` holds the same data with
stable English keys for a machine; README.txt explains every file. Times are in the
school's time zone. The counselor's confidential notes are not included.
"""

import csv
import datetime
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.views.credentials import spreadsheet_safe
from instruments.definitions import Instrument
from instruments.models import Administration, Response
from privacy.selectors import PersonalData
from sessions_app.models import CounselingSession, SessionOutcome

Value = str | int | bool | datetime.datetime | datetime.date | None


@dataclass
class Table:
    """One file of the archive: `columns` are (JSON key, translated header)."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Value]]


def _local(moment: datetime.datetime | None, zone: datetime.tzinfo) -> datetime.datetime | None:
    return timezone.localtime(moment, zone) if moment else None


def _cell(value: Value) -> str | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, int):
        return value
    return spreadsheet_safe(str(value))


def _json_value(value: Value) -> str | int | bool | None:
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so Excel reads the file as UTF-8
    writer = csv.writer(buffer)
    writer.writerow([header for _key, header in table.columns])
    for row in table.rows:
        writer.writerow([_cell(row.get(key)) for key, _header in table.columns])
    return buffer.getvalue().encode("utf-8")


def profile_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    student = data.student
    profile = student.student_profile
    values: list[tuple[str, str, Value]] = [
        ("school", _("School"), student.school.name),
        ("name", _("Name"), student.get_full_name()),
        ("username", _("Username"), student.username),
        ("email", _("E-mail"), student.email),
        ("nisn", _("NISN"), profile.nisn),
        ("class", _("Class"), str(profile.school_class) if profile.school_class else ""),
        ("gender", _("Gender"), profile.get_gender_display()),
        ("guardian_name", _("Guardian name"), profile.guardian_name),
        ("guardian_phone", _("Guardian phone"), profile.guardian_phone),
        ("guardian_consent", _("Guardian consent given"), profile.has_guardian_consent),
        ("guardian_consent_date", _("Guardian consent date"), profile.guardian_consent_date),
        (
            "counselor",
            _("Counselor"),
            profile.counselor.display_name if profile.counselor else "",
        ),
        (
            "sees_own_anxiety_trend",
            _("Counselor shares your anxiety trend with you"),
            profile.can_see_anxiety_trend,
        ),
        ("account_created", _("Account created"), _local(student.date_joined, zone)),
        ("last_sign_in", _("Last sign-in"), _local(student.last_login, zone)),
        ("account_active", _("Account active"), student.is_active),
    ]
    return Table(
        "profile",
        [("field", _("Field")), ("label", _("Label")), ("value", _("Value"))],
        [{"field": key, "label": label, "value": value} for key, label, value in values],
    )


def _outcome_kind(session: CounselingSession) -> str:
    try:
        return session.outcome.get_kind_display()
    except SessionOutcome.DoesNotExist:
        return ""


def sessions_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("starts_at", _("Starts")),
        ("ends_at", _("Ends")),
        ("mode", _("Mode")),
        ("field", _("Counseling field")),
        ("status", _("Status")),
        ("counselor", _("Counselor")),
        ("description", _("What you wrote when booking")),
        ("reason", _("Reason given for a decline or cancellation")),
        ("phase", _("Phase reached")),
        ("outcome", _("Outcome")),
        ("consent_given_at", _("Online counseling consent agreed")),
    ]
    rows = [
        {
            "session": session.pk,
            "starts_at": _local(session.starts_at, zone),
            "ends_at": _local(session.ends_at, zone),
            "mode": session.get_mode_display(),
            "field": session.get_field_display(),
            "status": session.get_status_display(),
            "counselor": session.counselor.display_name,
            "description": session.description,
            "reason": session.status_reason,
            "phase": session.get_phase_display() if session.phase else "",
            "outcome": _outcome_kind(session),
            "consent_given_at": _local(session.consent_given_at, zone),
        }
        for session in data.sessions
    ]
    return Table("sessions", columns, rows)


def chat_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("sent_at", _("Time")),
        ("sender", _("Sender")),
        ("sender_role", _("Sender's role")),
        ("text", _("Message")),
    ]
    rows = [
        {
            "session": message.session_id,
            "sent_at": _local(message.created_at, zone),
            "sender": message.sender.display_name,
            "sender_role": message.sender.get_role_display(),
            "text": message.body,
        }
        for message in data.chat_messages
    ]
    return Table("chat_messages", columns, rows)


def _item_text(instrument: Instrument | None, number: int, counselor_name: str) -> str:
    if instrument is None:
        return ""
    item = next((item for item in instrument.items if item.number == number), None)
    return item.text_for(counselor_name) if item else ""


def _answer_label(instrument: Instrument | None, value: int | str) -> str:
    if instrument is None or not isinstance(value, int):
        return str(value)
    label = dict(instrument.scale_labels).get(value)
    return str(label) if label else ""


def _instrument_name(administration: Administration) -> str:
    instrument = administration.instrument
    return str(instrument.short_name) if instrument else administration.instrument_code


def _phase(administration: Administration) -> str:
    return str(Administration.Phase(administration.phase).label)


def answers_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("response", _("Response number")),
        ("submitted_at", _("Answered")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("item", _("Question number")),
        ("question", _("Question")),
        ("answer", _("Answer")),
        ("answer_label", _("Answer in words")),
        ("voided", _("Set aside by the counselor")),
    ]
    rows = []
    for response in data.responses:
        administration = response.administration
        instrument = administration.instrument
        counselor_name = administration.counselor.display_name
        for number, value in sorted(response.answers.items(), key=lambda item: int(item[0])):
            rows.append(
                {
                    "response": response.pk,
                    "submitted_at": _local(response.submitted_at, zone),
                    "questionnaire": _instrument_name(administration),
                    "phase": _phase(administration),
                    "item": int(number),
                    "question": _item_text(instrument, int(number), counselor_name),
                    "answer": value,
                    "answer_label": _answer_label(instrument, value),
                    "voided": response.is_voided,
                }
            )
    return Table("questionnaire_answers", columns, rows)


def _subscales(instrument: Instrument | None, response: Response) -> str:
    subscales = instrument.subscales if instrument else ()
    names = {subscale.code: str(subscale.name) for subscale in subscales}
    return "; ".join(
        f"{names.get(code, code)} {score}" for code, score in response.subscale_scores.items()
    )


def _band(instrument: Instrument | None, response: Response) -> str:
    band = instrument.band(response.band) if instrument and response.band else None
    return str(band.label) if band else response.band


def scores_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("response", _("Response number")),
        ("submitted_at", _("Answered")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("session", _("Session number")),
        ("total", _("Total score")),
        ("band", _("Category")),
        ("subscales", _("Subscale scores")),
        ("imported", _("Recorded by the counselor from an earlier measurement")),
        ("voided", _("Set aside by the counselor")),
    ]
    rows = []
    for response in data.responses:
        administration = response.administration
        instrument = administration.instrument
        rows.append(
            {
                "response": response.pk,
                "submitted_at": _local(response.submitted_at, zone),
                "questionnaire": _instrument_name(administration),
                "phase": _phase(administration),
                "session": administration.session_id,
                "total": response.total,
                "band": _band(instrument, response),
                "subscales": _subscales(instrument, response),
                "imported": response.is_imported,
                "voided": response.is_voided,
            }
        )
    return Table("questionnaire_scores", columns, rows)


def notifications_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("created_at", _("Time")),
        ("kind", _("Kind")),
        ("message", _("Message")),
        ("read_at", _("Read")),
    ]
    rows = [
        {
            "created_at": _local(notification.created_at, zone),
            "kind": notification.get_kind_display(),
            "message": notification.message(zone),
            "read_at": _local(notification.read_at, zone),
        }
        for notification in data.notifications
    ]
    return Table("notifications", columns, rows)


TABLES: list[Callable[[PersonalData, datetime.tzinfo], Table]] = [
    profile_table,
    sessions_table,
    chat_table,
    answers_table,
    scores_table,
    notifications_table,
]


def _json_bytes(tables: Iterable[Table], meta: dict) -> bytes:
    document = dict(meta)
    for table in tables:
        records = [
            {key: _json_value(row.get(key)) for key, _header in table.columns} for row in table.rows
        ]
        if table.name == "profile":
            document["profile"] = {record["field"]: record["value"] for record in records}
        else:
            document[table.name] = records
    return json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")


def archive_folder(student: User, now: datetime.datetime) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", student.username).strip("-.") or str(student.pk)
    return f"ruangbk-data-{slug}-{now:%Y%m%d}"


def personal_data_archive(
    *,
    data: PersonalData,
    processed_by: User,
    request_date: datetime.date | None = None,
    reference: str = "",
    now: datetime.datetime | None = None,
) -> tuple[str, bytes]:
    """(file name, ZIP bytes) of the student's data, in the active language."""
    student = data.student
    zone = student.school.zone()
    now = timezone.localtime(now or timezone.now(), zone)
    tables = [build(data, zone) for build in TABLES]
    folder = archive_folder(student, now)
    readme = render_to_string(
        "privacy/archive_readme.txt",
        {
            "student": student,
            "processed_by": processed_by,
            "is_own_download": processed_by.pk == student.pk,
            "request_date": request_date,
            "reference": reference,
            "generated_at": now.strftime("%Y-%m-%d %H:%M"),
            "time_zone": student.school.time_zone,
            "counts": {table.name: len(table.rows) for table in tables},
        },
    )
    meta = {
        "generated_at": now.isoformat(),
        "time_zone": student.school.time_zone,
        "student_id": student.pk,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/README.txt", readme.replace("\n", "\r\n").encode("utf-8"))
        for table in tables:
            archive.writestr(f"{folder}/{table.name}.csv", csv_bytes(table))
        archive.writestr(f"{folder}/data.json", _json_bytes(tables, meta))
    return f"{folder}.zip", buffer.getvalue()

"""The personal data download: one ZIP archive a student (or their guardian) can read.

Each table is a CSV file (UTF-8 with a byte-order mark, so spreadsheet programs read it
as UTF-8) with headers in the reader's language; `data.json` holds the same data with
stable English keys for a machine; README.txt explains every file. Times are in the
school's time zone. The counselor's confidential notes and the reason for a referral are
not included: they are the counselor's professional record.
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
    recorded_by = profile.guardian_consent_recorded_by
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
            "guardian_consent_recorded_by",
            _("Guardian consent recorded by"),
            recorded_by.display_name if recorded_by else "",
        ),
        (
            "guardian_consent_recorded_at",
            _("Guardian consent last recorded or changed"),
            _local(data.guardian_consent_recorded_at, zone),
        ),
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


def _outcome(session: CounselingSession) -> SessionOutcome | None:
    try:
        return session.outcome
    except SessionOutcome.DoesNotExist:
        return None


def _actor(user: User | None) -> tuple[str, str]:
    """(name, role) of whoever did something; nobody means RuangBK itself."""
    if user is None:
        return "RuangBK", ""
    return user.display_name, user.get_role_display()


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
        # Where to, never why: the reason is the counselor's professional record.
        ("referred_to", _("Referred to")),
        ("consent_given_at", _("Online counseling consent agreed")),
    ]
    rows = []
    for session in data.sessions:
        outcome = _outcome(session)
        rows.append(
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
                "outcome": outcome.get_kind_display() if outcome else "",
                "referred_to": outcome.referred_to if outcome else "",
                "consent_given_at": _local(session.consent_given_at, zone),
            }
        )
    return Table("sessions", columns, rows)


def session_history_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("time", _("Time")),
        ("event", _("What happened")),
        ("by", _("By")),
        ("by_role", _("Role")),
        ("detail", _("Details")),
    ]
    rows = []
    for event in data.session_events:
        by, by_role = _actor(event.actor)
        rows.append(
            {
                "session": event.session_id,
                "time": _local(event.created_at, zone),
                "event": event.get_kind_display(),
                "by": by,
                "by_role": by_role,
                "detail": event.detail,
            }
        )
    return Table("session_history", columns, rows)


def consents_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("session", _("Session number")),
        ("agreed_at", _("Agreed")),
        ("text", _("The consent text you agreed to")),
    ]
    rows = [
        {
            "session": session.pk,
            "agreed_at": _local(session.consent_given_at, zone),
            "text": session.consent_text,
        }
        for session in data.sessions
        if session.consent_given_at is not None
    ]
    return Table("consents", columns, rows)


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


def questionnaires_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("number", _("Number")),
        ("questionnaire", _("Questionnaire")),
        ("phase", _("Phase")),
        ("session", _("Session number")),
        ("sent_by", _("Sent by")),
        ("opens_at", _("Opens")),
        ("closes_at", _("Closes")),
        ("status", _("Status")),
        ("skipped_at", _("Skipped by you")),
        ("cancelled_at", _("Cancelled by the counselor")),
        ("response", _("Response number")),
    ]
    rows = []
    for administration in data.administrations:
        response = administration.live_response
        status = administration.status_at(data.read_at)
        rows.append(
            {
                "number": administration.pk,
                "questionnaire": _instrument_name(administration),
                "phase": _phase(administration),
                "session": administration.session_id,
                "sent_by": administration.counselor.display_name,
                "opens_at": _local(administration.opens_at, zone),
                "closes_at": _local(administration.closes_at, zone),
                "status": str(Administration.Status(status).label),
                "skipped_at": _local(administration.skipped_at, zone),
                "cancelled_at": _local(administration.cancelled_at, zone),
                "response": response.pk if response else None,
            }
        )
    return Table("questionnaires", columns, rows)


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


def sign_ins_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    """Where the account is signed in now (and, from django-axes' access log if an
    earlier configuration kept one, past sign-ins with their sign-out)."""
    columns = [
        ("signed_in_at", _("Signed in")),
        ("last_active_at", _("Last active")),
        ("signed_out_at", _("Signed out")),
        ("address", _("Network address")),
        ("browser", _("Browser")),
    ]
    rows: list[dict[str, Value]] = [
        {
            "signed_in_at": _local(log.attempt_time, zone),
            "signed_out_at": _local(log.logout_time, zone),
            "address": log.ip_address,
            "browser": log.user_agent,
        }
        for log in data.access_logs
    ]
    rows += [
        {
            "signed_in_at": _local(sign_in.created_at, zone),
            "last_active_at": _local(sign_in.last_seen_at, zone),
            "address": sign_in.ip_address,
            "browser": sign_in.user_agent,
        }
        for sign_in in data.sign_ins
    ]
    return Table("sign_ins", columns, rows)


def failed_sign_ins_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("attempted_at", _("Time (of the latest attempt)")),
        ("address", _("Network address")),
        ("browser", _("Browser")),
        ("failures", _("Failed attempts")),
    ]
    rows = [
        {
            "attempted_at": _local(attempt.attempt_time, zone),
            "address": attempt.ip_address,
            "browser": attempt.user_agent,
            "failures": getattr(attempt, "failures_since_start", 1),  # a log row is one
        }
        for attempt in data.failed_sign_ins
    ]
    return Table("failed_sign_ins", columns, rows)


def data_requests_table(data: PersonalData, zone: datetime.tzinfo) -> Table:
    columns = [
        ("created_at", _("Time")),
        ("kind", _("Request")),
        ("processed_by", _("Processed by")),
        ("requester", _("Requested in writing by")),
        ("request_date", _("Date of the written request")),
        ("reference", _("Reference or note")),
        ("completed_at", _("Completed")),
    ]
    rows = [
        {
            "created_at": _local(request.created_at, zone),
            "kind": request.get_kind_display(),
            "processed_by": request.processed_by.display_name,
            "requester": request.get_requester_display(),
            "request_date": request.request_date,
            "reference": request.reference,
            "completed_at": _local(request.completed_at, zone),
        }
        for request in data.data_requests
    ]
    return Table("data_requests", columns, rows)


TABLES: list[Callable[[PersonalData, datetime.tzinfo], Table]] = [
    profile_table,
    sessions_table,
    session_history_table,
    consents_table,
    chat_table,
    questionnaires_table,
    answers_table,
    scores_table,
    notifications_table,
    sign_ins_table,
    failed_sign_ins_table,
    data_requests_table,
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

"""The personal data download: one ZIP archive a student (or their guardian) can read.

Each table is a CSV file (UTF-8 with a byte-order mark, so spreadsheet programs read it
as UTF-8) with headers in the reader's language; `data.json` holds the same data with
stable English keys for a machine; README.txt explains every file. Times are in the
school's time zone. The counselor's confidential notes and the reason for a referral are
not included: they are the counselor's professional record.
"""

import datetime
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable

from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import User
from privacy.archive.account import (
    data_requests_table,
    failed_sign_ins_table,
    notifications_table,
    profile_table,
    sign_ins_table,
)
from privacy.archive.counseling import (
    chat_table,
    consents_table,
    session_history_table,
    sessions_table,
)
from privacy.archive.questionnaires import answers_table, questionnaires_table, scores_table
from privacy.archive.table import Table, csv_bytes, json_value
from privacy.selectors import PersonalData

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
            {key: json_value(row.get(key)) for key, _header in table.columns} for row in table.rows
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

"""One file of the personal-data archive, and how its values are written to CSV and JSON."""

import csv
import datetime
import io
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.views.credentials import spreadsheet_safe

Value = str | int | bool | datetime.datetime | datetime.date | None


@dataclass
class Table:
    """One file of the archive: `columns` are (JSON key, translated header)."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Value]]


def local_time(moment: datetime.datetime | None, zone: datetime.tzinfo) -> datetime.datetime | None:
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


def json_value(value: Value) -> str | int | bool | None:
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

"""Export the audit trail for an auditor: every entry, oldest first, as CSV or JSON lines.

manage.py export_audit_trail --since 2026-07-01 --until 2026-12-31 --output trail.csv
"""

import csv
import datetime
import json
import sys

from auditlog.models import LogEntry
from django.core.management.base import BaseCommand, CommandError

from accounts.views.credentials import spreadsheet_safe

COLUMNS = [
    "timestamp_utc",
    "action",
    "actor_id",
    "actor_username",
    "actor_email",
    "remote_addr",
    "object_type",
    "object_id",
    "object_repr",
    "read",
    "details",
    "changes",
]


# Stable English codes, whatever the language of the server.
ACTIONS = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "read",
}


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a date (YYYY-MM-DD).") from error


def _utc_midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def _cell(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula."""
    return spreadsheet_safe(value) if isinstance(value, str) else value


def entry_row(entry: LogEntry) -> dict:
    data = dict(entry.additional_data or {})
    return {
        "timestamp_utc": entry.timestamp.astimezone(datetime.UTC).isoformat(),
        "action": ACTIONS.get(entry.action, str(entry.action)),
        "actor_id": entry.actor_id or "",
        "actor_username": entry.actor.username if entry.actor else "",
        "actor_email": entry.actor_email or "",
        "remote_addr": entry.remote_addr or "",
        "object_type": f"{entry.content_type.app_label}.{entry.content_type.model}",
        "object_id": entry.object_pk,
        "object_repr": entry.object_repr,
        "read": data.pop("what", ""),
        "details": json.dumps(data, ensure_ascii=False, sort_keys=True) if data else "",
        "changes": json.dumps(entry.changes, ensure_ascii=False, sort_keys=True)
        if entry.changes
        else "",
    }


class Command(BaseCommand):
    help = (
        "Export the audit trail (who read or changed what, when, from where) as CSV or JSON lines."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", type=_day, help="first day (UTC), YYYY-MM-DD")
        parser.add_argument("--until", type=_day, help="last day (UTC), YYYY-MM-DD")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--output", help="file to write (default: standard output)")

    def handle(self, *args, since=None, until=None, format="csv", output=None, **options):
        entries = LogEntry.objects.select_related("actor", "content_type").order_by(
            "timestamp", "pk"
        )
        # Days in UTC, whatever time zone is active.
        if since:
            entries = entries.filter(timestamp__gte=_utc_midnight(since))
        if until:
            entries = entries.filter(
                timestamp__lt=_utc_midnight(until + datetime.timedelta(days=1))
            )
        stream = open(output, "w", newline="", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        try:
            count = self._write(entries, stream, format)
        finally:
            if output:
                stream.close()
        self.stderr.write(f"{count} audit entries exported.")

    @staticmethod
    def _write(entries, stream, format: str) -> int:
        count = 0
        writer = csv.DictWriter(stream, fieldnames=COLUMNS) if format == "csv" else None
        if writer:
            writer.writeheader()
        for entry in entries.iterator(chunk_size=2000):
            row = entry_row(entry)
            if writer:
                writer.writerow({name: _cell(value) for name, value in row.items()})
            else:
                stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
        return count

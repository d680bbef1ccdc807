"""How audit entries read on the pages: the kind of read, and changed fields by name."""

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from audit.registration import HIDDEN
from audit.services import ReadKind


def read_label(entry: LogEntry) -> str:
    what = (entry.additional_data or {}).get("what", "")
    try:
        return str(ReadKind(what).label)
    except ValueError:
        return what or _("Unknown")


def object_kind(entry: LogEntry) -> str:
    model = entry.content_type.model_class()
    return str(model._meta.verbose_name) if model else entry.content_type.model


def _field_label(entry: LogEntry, name: str) -> str:
    model = entry.content_type.model_class()
    try:
        field = model._meta.get_field(name) if model else None
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def _value(value: object) -> str:
    if value in (None, "None", ""):
        return "—"
    if value in ("True", True):
        return _("yes")
    if value in ("False", False):
        return _("no")
    return str(value)


def _objects(values: dict) -> str:
    return ", ".join(str(name) for name in values.get("objects") or []) or "—"


def action_label(entry: LogEntry) -> str:
    return {
        LogEntry.Action.CREATE: _("created"),
        LogEntry.Action.UPDATE: _("changed"),
        LogEntry.Action.DELETE: _("deleted"),
        LogEntry.Action.ACCESS: _("opened"),
    }.get(entry.action, str(entry.action))


def change_rows(entry: LogEntry) -> list[tuple[str, str]]:
    """(field, "before → after") for each field the entry changed; identifiers the trail
    does not keep (audit/registration.py) only say that they changed."""
    changes = entry.changes if isinstance(entry.changes, dict) else {}
    rows = []
    for name, values in sorted(changes.items()):
        if name == "id":
            continue
        if isinstance(values, dict):  # a many-to-many change: {"operation", "objects"}
            operation = _("added") if values.get("operation") == "add" else _("removed")
            rows.append((_field_label(entry, name), f"{operation}: {_objects(values)}"))
            continue
        before, after = [*values, None, None][:2] if isinstance(values, list) else (None, None)
        if HIDDEN in (before, after):
            shown = _("changed (the values are not kept)")
        else:
            shown = f"{_value(before)} → {_value(after)}"
        rows.append((_field_label(entry, name), shown))
    return rows

"""What a backup records about the database, and what a restore checks against it.

The manifest holds each table's row count and, for the counselors' encrypted notes, which
notes key opens how many of them, by fingerprint (a hash that does not reveal the key).
"""

import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from encrypted_fields.fields import EncryptedFieldMixin, EncryptedTextField

from privacy.backup_files import BackupError

NOTES_KEYS_ADVICE = (
    "Set DJANGO_SECRET_KEY and NOTES_ENCRYPTION_KEYS (and DJANGO_SECRET_KEY_FALLBACKS, if "
    "you use it) to the values used when the backup was made."
)
POSTGRES_TABLES = """
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY 1, 2"""
SQLITE_TABLES = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_names(cursor, vendor: str) -> list[str]:
    """Every table the dump holds: "schema.table" on PostgreSQL, "table" on SQLite."""
    cursor.execute(POSTGRES_TABLES if vendor == "postgresql" else SQLITE_TABLES)
    return [".".join(row) for row in cursor.fetchall()]


def row_counts(cursor, vendor: str) -> dict[str, int]:
    counts = {}
    for table in table_names(cursor, vendor):
        cursor.execute(f"SELECT count(*) FROM {'.'.join(map(quote, table.split('.', 1)))}")
        counts[table] = cursor.fetchone()[0]
    return counts


def notes_keys() -> list[bytes]:
    """The notes' Fernet keys as derived from the settings now (the first one encrypts).

    A fresh field, because a model's field caches its keys for the life of the process.
    """
    return EncryptedTextField().keys


def key_fingerprint(key: bytes) -> str:
    """Names a notes key in a manifest; the key cannot be recovered from it."""
    return hashlib.sha256(b"ruangbk notes key fingerprint\0" + key).hexdigest()[:16]


def encrypted_columns() -> list[tuple[str, str]]:
    return sorted(
        (model._meta.db_table, field.column)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedFieldMixin)
    )


def notes_readability(cursor, keys: list[bytes]) -> dict[str, Any]:
    """How many encrypted values each key opens, and how many no key opens."""
    fernets = [(key_fingerprint(key), Fernet(key)) for key in keys]
    by_key = dict.fromkeys((fingerprint for fingerprint, _ in fernets), 0)
    total = unreadable = 0
    for table, column in encrypted_columns():
        cursor.execute(
            f"SELECT {quote(column)} FROM {quote(table)} "
            f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} <> ''"
        )
        while rows := cursor.fetchmany(500):
            for (token,) in rows:
                total += 1
                opener = next((fp for fp, fernet in fernets if opens(fernet, token)), None)
                if opener is None:
                    unreadable += 1
                else:
                    by_key[opener] += 1
    return {
        "total": total,
        "unreadable": unreadable,
        "by_key": {fingerprint: count for fingerprint, count in by_key.items() if count},
        "key_fingerprints": [fingerprint for fingerprint, _ in fernets],
    }


def opens(fernet: Fernet, token: str) -> bool:
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def build_manifest(cursor, vendor: str, database: str, dump: str) -> dict[str, Any]:
    return {
        "format": "ruangbk-backup",
        "created_at": timezone.now().isoformat(),
        "engine": vendor,
        "database": database,
        "dump": dump,
        "row_counts": row_counts(cursor, vendor),
        "notes": notes_readability(cursor, notes_keys()),
    }


def check_notes_keys(manifest: dict[str, Any]) -> None:
    """Refuse, before touching the database, a backup whose notes these keys cannot open."""
    current = {key_fingerprint(key) for key in notes_keys()}
    notes = manifest["notes"]
    missing = {fp: count for fp, count in notes["by_key"].items() if fp not in current}
    if missing:
        raise BackupError(
            "notes_keys_differ",
            f"{sum(missing.values())} of the backup's {notes['total']} encrypted notes need "
            f"notes keys this configuration does not have (fingerprints {', '.join(missing)}; "
            f"yours: {', '.join(sorted(current))}). {NOTES_KEYS_ADVICE} Nothing was restored.",
        )


def verify_database(manifest: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """Recount every table and decrypt every note of the database against the manifest."""
    connection = connections[using]
    with connection.cursor() as cursor:
        counts = row_counts(cursor, connection.vendor)
        notes = notes_readability(cursor, notes_keys())
    expected = manifest["row_counts"]
    differing = sorted(
        t for t in expected.keys() | counts.keys() if expected.get(t) != counts.get(t)
    )
    if differing:
        details = ", ".join(f"{t}: {expected.get(t)} → {counts.get(t)}" for t in differing[:10])
        raise BackupError(
            "rows_differ", f"The restored database does not match the backup's rows ({details})."
        )
    newly_unreadable = notes["unreadable"] - manifest["notes"]["unreadable"]
    if newly_unreadable > 0:
        raise BackupError(
            "notes_unreadable",
            f"The database was restored, but {newly_unreadable} of its {notes['total']} "
            f"encrypted notes do not decrypt with the current keys. {NOTES_KEYS_ADVICE}",
        )
    return {"tables": len(counts), "rows": sum(counts.values()), "notes": notes}


def pending_migrations(*, using: str = DEFAULT_DB_ALIAS) -> int:
    executor = MigrationExecutor(connections[using])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))

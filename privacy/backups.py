"""Back up the database into an encrypted file and restore it, checking what came back.

PostgreSQL goes through pg_dump's custom format, SQLite (the demo) through sqlite3's online
backup API. Every backup carries a manifest: the row count of each table, taken in the
same snapshot as the dump, and fingerprints of the keys the counselors' notes are
encrypted with. A restore refuses a non-empty database unless forced, runs in one
transaction, then recounts every table and decrypts every note with the current keys.
See docs/backups.md; the file format is in privacy/backup_files.py.
"""

import contextlib
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from audit.services import record_backup
from privacy.backup_files import (
    KEY_ADVICE,
    BackupError,
    BackupReader,
    BackupWriter,
    manifest_shape_ok,
    split_payload,
)
from privacy.backup_manifest import (
    build_manifest,
    check_notes_keys,
    table_names,
    verify_database,
)

BACKUP_DIR = Path(settings.BASE_DIR) / "backups"
# A forced restore empties the database inside the restoring transaction.
EMPTY_PUBLIC_SCHEMA = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"


@dataclass(frozen=True)
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    is_encrypted: bool


# --- Backup --------------------------------------------------------------------------------


def default_backup_path() -> Path:
    return BACKUP_DIR / f"ruangbk-{timezone.now():%Y%m%dT%H%M%SZ}.backup"


def backup_database(
    *, output: Path, key: bytes | None, using: str = DEFAULT_DB_ALIAS
) -> BackupResult:
    """Write an encrypted backup of the database to `output` (never overwriting a file)."""
    if key is None and not settings.DEBUG:
        raise BackupError(
            "no_key",
            "Refusing to write an unencrypted backup with DJANGO_DEBUG=0: set "
            f"RUANGBK_BACKUP_KEY or RUANGBK_BACKUP_KEY_FILE. {KEY_ADVICE}",
        )
    connection = connections[using]
    write_dump = {"postgresql": backup_postgres, "sqlite": backup_sqlite}.get(connection.vendor)
    if write_dump is None:
        raise BackupError("engine", f"Backups of {connection.vendor} are not supported.")
    output = Path(output)
    if output.exists():
        raise BackupError("exists", f"{output} already exists; choose another file name.")
    output.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    record_backup(file_name=output.name, using=using)
    partial = output.with_name(f".{output.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            writer = BackupWriter(stream, key)
            manifest = write_dump(connection, writer)
            writer.close()
            stream.flush()
            os.fsync(stream.fileno())
        os.link(partial, output)  # fails rather than replace a file made meanwhile
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(path=output, manifest=manifest, is_encrypted=key is not None)


def backup_postgres(connection, writer: BackupWriter) -> dict[str, Any]:
    """pg_dump of the snapshot the manifest was counted in (`--snapshot`)."""
    # A connection of its own, outside the pool (whose connections are in autocommit):
    # the snapshot lives as long as this transaction.
    raw = connection.Database.connect(**connection.get_connection_params())
    try:
        with raw.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            version = run_tool(["pg_dump", "--version"], connection).strip()
            manifest = build_manifest(
                cursor, "postgresql", connection.settings_dict["NAME"], f"{version}, custom format"
            )
        writer.write_manifest(manifest)
        command = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password"]
        with tempfile.TemporaryFile() as errors:
            dump = subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=errors, env=postgres_environment(connection)
            )
            try:
                while block := dump.stdout.read(1 << 16):
                    writer.write(block)
                if dump.wait():
                    raise BackupError("pg_dump", f"pg_dump failed: {read_errors(errors)}")
            finally:
                if dump.poll() is None:
                    dump.kill()
                dump.wait()
                dump.stdout.close()
    finally:
        raw.close()
    return manifest


def backup_sqlite(connection, writer: BackupWriter) -> dict[str, Any]:
    """A consistent copy through SQLite's online backup API, then the copy's bytes."""
    source_path = Path(connection.settings_dict["NAME"])
    if not source_path.is_file():
        raise BackupError("engine", f"There is no SQLite database at {source_path}.")
    with tempfile.TemporaryDirectory() as directory:
        copy_path = Path(directory) / "copy.sqlite3"
        source = sqlite3.connect(f"{source_path.resolve().as_uri()}?mode=ro", uri=True)
        copy = sqlite3.connect(copy_path)
        try:
            source.backup(copy)
            manifest = build_manifest(
                copy.cursor(), "sqlite", source_path.name, f"SQLite {sqlite3.sqlite_version} file"
            )
        finally:
            source.close()
            copy.close()
        writer.write_manifest(manifest)
        with copy_path.open("rb") as copied:
            while block := copied.read(1 << 16):
                writer.write(block)
    return manifest


# --- Restore -------------------------------------------------------------------------------


def read_manifest(*, source: Path, key: bytes | None) -> dict[str, Any]:
    """Open the whole file (every chunk is authenticated) and return its manifest."""
    with Path(source).open("rb") as stream:
        manifest, dump = split_payload(BackupReader(stream, key).chunks())
        for _ in dump:
            pass
    return manifest


def restore_database(
    *, source: Path, key: bytes | None, force: bool = False, using: str = DEFAULT_DB_ALIAS
) -> dict[str, Any]:
    """Restore a backup into the (empty, unless `force`) database, then verify it."""
    connection = connections[using]
    with Path(source).open("rb") as stream:
        manifest, dump = split_payload(BackupReader(stream, key).chunks())
        if not manifest_shape_ok(manifest):
            raise BackupError("damaged", "The backup's manifest is damaged. Nothing was restored.")
        if manifest.get("engine") != connection.vendor:
            raise BackupError(
                "engine",
                f"This is a {manifest.get('engine')} backup; DATABASE_URL names a "
                f"{connection.vendor} database.",
            )
        check_notes_keys(manifest)
        with connection.cursor() as cursor:
            tables = table_names(cursor, connection.vendor)
        connection.close()
        if tables and not force:
            raise BackupError(
                "not_empty",
                f"The database {connection.settings_dict['NAME']} is not empty ({len(tables)} "
                "tables). Restore into a new, empty database, or force it (FORCE=1, "
                "--force) to replace everything in this one.",
            )
        if connection.vendor == "postgresql":
            restore_postgres(connection, dump, force=force)
        else:
            restore_sqlite(connection, dump)
    connection.close()
    return manifest | {"verified": verify_database(manifest, using=using)}


def restore_postgres(connection, dump: Iterator[bytes], *, force: bool) -> None:
    """pg_restore turns the dump into SQL, which psql runs in one transaction of ours.

    We write BEGIN ourselves and COMMIT only once the whole file decrypted and pg_restore
    succeeded: a damaged file, a failed tool or an SQL error leaves the database unchanged.
    """
    require_tools("pg_restore", "psql")
    environment = postgres_environment(connection)
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        psql = subprocess.Popen(
            ["psql", "--no-psqlrc", "--quiet", "--no-password", "-v", "ON_ERROR_STOP=1"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=psql_errors,
            env=environment,
        )
        pg_restore = subprocess.Popen(
            ["pg_restore", "--no-owner", "--no-acl", "--file=-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=restore_errors,
            env=environment,
        )
        feeder = DumpFeeder(dump, pg_restore.stdin)
        feeder.start()
        try:
            psql.stdin.write(b"BEGIN;\n" + (EMPTY_PUBLIC_SCHEMA if force else b""))
            while block := pg_restore.stdout.read(1 << 16):
                psql.stdin.write(block)
            feeder.join()
            if feeder.error is not None:
                raise feeder.error
            if pg_restore.wait():
                raise BackupError("pg_restore", f"pg_restore failed: {read_errors(restore_errors)}")
            psql.stdin.write(b"COMMIT;\n")
            psql.stdin.close()
            if psql.wait():
                raise BackupError("psql", f"psql failed: {read_errors(psql_errors)}")
        except BrokenPipeError:
            psql.wait()
            raise BackupError(
                "psql", f"The restore failed and was undone: {read_errors(psql_errors)}"
            ) from None
        finally:
            for process in (psql, pg_restore):
                if process.poll() is None:
                    process.kill()  # before any COMMIT: the server rolls back
                process.wait()
            feeder.join()
            for pipe in (psql.stdin, pg_restore.stdout):
                with contextlib.suppress(OSError):
                    pipe.close()


class DumpFeeder(threading.Thread):
    """Feeds the decrypted dump to pg_restore while the caller moves its output to psql."""

    def __init__(self, dump: Iterator[bytes], pipe) -> None:
        super().__init__(daemon=True)
        self.dump, self.pipe = dump, pipe
        self.error: BackupError | None = None

    def run(self) -> None:
        try:
            for chunk in self.dump:
                self.pipe.write(chunk)
        except BackupError as error:
            self.error = error
        except BrokenPipeError:
            pass  # pg_restore stopped; its exit status says why
        finally:
            with contextlib.suppress(BrokenPipeError):
                self.pipe.close()


def restore_sqlite(connection, dump: Iterator[bytes]) -> None:
    """Decrypt to a file beside the database, check it, then copy it in with the backup API."""
    target = Path(connection.settings_dict["NAME"])
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite3", dir=target.parent)
    try:
        with os.fdopen(descriptor, "wb") as restored:
            for chunk in dump:
                restored.write(chunk)
        source = sqlite3.connect(name)
        try:
            if source.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("damaged", "The SQLite database in the backup is damaged.")
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                destination.close()
        finally:
            source.close()
    finally:
        Path(name).unlink(missing_ok=True)


# --- The PostgreSQL client tools -------------------------------------------------------------


def postgres_environment(connection) -> dict[str, str]:
    """libpq variables naming the same database as Django's settings (DATABASE_URL)."""
    database = connection.settings_dict
    environment = dict(os.environ)
    options = database.get("OPTIONS", {})
    for variable, value in {
        "PGHOST": database.get("HOST"),
        "PGPORT": database.get("PORT"),
        "PGUSER": database.get("USER"),
        "PGPASSWORD": database.get("PASSWORD"),
        "PGDATABASE": database.get("NAME"),
        "PGSSLMODE": options.get("sslmode"),
        "PGSSLROOTCERT": options.get("sslrootcert"),
    }.items():
        if value:
            environment[variable] = str(value)
    return environment


def require_tools(*names: str) -> None:
    for name in names:
        if shutil.which(name) is None:
            raise BackupError(
                "tool_missing",
                f"{name} is not installed: install the PostgreSQL client tools "
                "(postgresql-client, the server's major version or newer).",
            )


def run_tool(command: list[str], connection) -> str:
    require_tools(command[0])
    result = subprocess.run(
        command, capture_output=True, text=True, env=postgres_environment(connection)
    )
    if result.returncode:
        raise BackupError("tool_failed", f"{command[0]} failed: {result.stderr.strip()}")
    return result.stdout


def read_errors(stream) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace").strip()[-2000:]

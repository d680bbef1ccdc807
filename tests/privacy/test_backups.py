"""Backups: an encrypted file that brings back every row and every readable note.

The round trips run the management commands in subprocesses, as `make backup` and
`make restore` do, against databases the tests create (and drop) themselves. Rows are
compared by a per-table digest computed by PostgreSQL (or Python for SQLite), and notes are
decrypted with keys derived here from the documented recipe, not by the code under test.
"""

import base64
import hashlib
import os
import secrets
import sqlite3
import subprocess
import sys
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from django.conf import settings
from django.core.management import CommandError, call_command
from psycopg import sql

from privacy.backup_files import (
    BackupError,
    BackupReader,
    BackupWriter,
    configured_backup_key,
    generate_backup_key,
    parse_backup_key,
    split_payload,
)

ROOT = Path(settings.BASE_DIR)
SECRET_KEY = "backup-test-secret-key-that-is-long-enough-0123456789abcdefghij"
OLD_SALT, NEW_SALT = "notes-salt-2025", "notes-salt-2026"
ROTATED_SALTS = f"{NEW_SALT},{OLD_SALT}"
BACKUP_KEY = generate_backup_key()
CHAT_MARKER = "chat-marker-Z9Q4 aku takut pulang ke rumah"
NOTES = [f"Catatan rahasia {n}: cemas, perlu tindak lanjut — ✓" for n in range(4)]

# Run through `manage.py shell -c`; fast password hashing, as in tests/conftest.py.
SEED = f"""
from django.conf import settings
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
import uuid
from django.core.management import call_command
from sessions_app.models import ChatMessage, CounselingSession
call_command("seed_demo", verbosity=0)
session = CounselingSession.objects.order_by("pk").first()
ChatMessage.objects.create(
    session=session, seq=1, sender=session.student, client_id=uuid.uuid4(), body={CHAT_MARKER!r}
)
"""
WRITE_NOTES = """
from sessions_app.models import CounselingSession, SessionNote
for number, session in enumerate(CounselingSession.objects.order_by("pk")[:4]):
    if number in {numbers}:
        SessionNote.objects.create(session=session, body={notes!r}[number])
"""


# --- Helpers ---------------------------------------------------------------------------------


def manage(*args, database_url, salts=ROTATED_SALTS, backup_key=BACKUP_KEY, check=True):
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "1",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "NOTES_ENCRYPTION_KEYS": salts,
    }
    for variable in ("DJANGO_SECRET_KEY_FALLBACKS", "RUANGBK_BACKUP_KEY_FILE"):
        environment.pop(variable, None)
    environment.pop("RUANGBK_BACKUP_KEY", None)
    if backup_key:
        environment["RUANGBK_BACKUP_KEY"] = backup_key
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def notes_fernet(salts: str) -> MultiFernet:
    """The notes keys as django-fernet-encrypted-fields documents them: PBKDF2 of the
    secret key, salted with each NOTES_ENCRYPTION_KEYS entry."""
    keys = []
    for salt in salts.split(","):
        kdf = PBKDF2HMAC(
            algorithm=hashes.SHA256(), length=32, salt=salt.encode(), iterations=100_000
        )
        keys.append(base64.urlsafe_b64encode(kdf.derive(SECRET_KEY.encode())))
    return MultiFernet([Fernet(key) for key in keys])


def rewrite_backup(source: Path, target: Path, *, chunk_size=1 << 20, edit=lambda m: m) -> None:
    """Re-seal a backup (same key) with other chunk sizes or an edited manifest."""
    key = parse_backup_key(BACKUP_KEY)
    with source.open("rb") as old, target.open("wb") as new:
        manifest, dump = split_payload(BackupReader(old, key).chunks())
        writer = BackupWriter(new, key, chunk_size=chunk_size)
        writer.write_manifest(edit(manifest))
        for chunk in dump:
            writer.write(chunk)
        writer.close()


# --- PostgreSQL --------------------------------------------------------------------------------


def postgres_connection(name: str):
    database = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=name,
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        autocommit=True,
    )


def postgres_url(name: str) -> str:
    database = settings.DATABASES["default"]
    password = f":{quote(database['PASSWORD'], safe='')}" if database["PASSWORD"] else ""
    host = f"{database['HOST']}:{database['PORT'] or 5432}" if database["HOST"] else ""
    return f"postgres://{quote(database['USER'], safe='')}{password}@{host}/{name}"


@pytest.fixture(scope="module")
def fresh_database():
    """Creates empty databases named after ours ("<db>_<purpose>_<random>"); drops them."""
    prefix = settings.DATABASES["default"]["NAME"].removeprefix("test_")[:40]
    created = []
    admin = postgres_connection("postgres")

    def create(purpose: str) -> str:
        name = f"{prefix}_{purpose}_{secrets.token_hex(3)}"
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        created.append(name)
        return name

    yield create
    with admin.cursor() as cursor:
        for name in created:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    admin.close()


@pytest.fixture(scope="module")
def source(fresh_database) -> str:
    """The demo school, a chat message, and four notes: two sealed with the old notes key,
    two after its rotation (NEW_SALT first), so the backup needs both keys."""
    name = fresh_database("src")
    url = postgres_url(name)
    manage("migrate", "--noinput", "-v0", database_url=url)
    manage("shell", "-c", SEED, database_url=url)
    manage(
        "shell",
        "-c",
        WRITE_NOTES.format(numbers={0, 1}, notes=NOTES),
        database_url=url,
        salts=OLD_SALT,
    )
    manage("shell", "-c", WRITE_NOTES.format(numbers={2, 3}, notes=NOTES), database_url=url)
    return name


@pytest.fixture(scope="module")
def backup_file(source, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("backups") / "ruangbk.backup"
    result = manage("backup_database", "--output", str(path), database_url=postgres_url(source))
    assert "encrypted notes" in result.stdout
    return path


def table_digests(name: str) -> dict[str, tuple[int, str]]:
    """Each table's row count and an order-independent digest of its rows' full text,
    plus each sequence's position, as PostgreSQL itself renders them."""
    digests = {}
    with postgres_connection(name) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname, tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        for schema, table in cursor.fetchall():
            cursor.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(md5(t::text), '' "
                    "ORDER BY md5(t::text)), '')) FROM {}.{} t"
                ).format(sql.Identifier(schema), sql.Identifier(table))
            )
            digests[f"{schema}.{table}"] = cursor.fetchone()
        cursor.execute("SELECT schemaname, sequencename, last_value FROM pg_sequences")
        for schema, sequence, last_value in cursor.fetchall():
            digests[f"{schema}.{sequence} (sequence)"] = (last_value, "")
    return digests


def table_count(name: str) -> int:
    with postgres_connection(name) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        return cursor.fetchone()[0]


def restored_notes(name: str, salts: str) -> list[str]:
    with postgres_connection(name) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT body FROM sessions_app_sessionnote")
        tokens = [body for (body,) in cursor.fetchall()]
    fernet = notes_fernet(salts)
    return sorted(fernet.decrypt(token.encode()).decode() for token in tokens)


@pytest.mark.requires_postgres
def test_postgres_backup_restores_every_row_and_every_note(source, backup_file, fresh_database):
    content = backup_file.read_bytes()
    for plain_text in (CHAT_MARKER, "SMK Negeri Demo RuangBK", "siswa01"):
        assert plain_text.encode() not in content
    target = fresh_database("dst")

    result = manage("restore_database", str(backup_file), database_url=postgres_url(target))

    assert "Restored and verified" in result.stdout
    source_digests = table_digests(source)
    assert source_digests["public.accounts_user"][0] == 33
    assert source_digests["public.sessions_app_sessionnote"][0] == 4
    assert source_digests["public.sessions_app_chatmessage"][0] == 1
    assert table_digests(target) == source_digests
    assert restored_notes(target, ROTATED_SALTS) == sorted(NOTES)


@pytest.mark.requires_postgres
def test_restore_with_a_wrong_backup_key_fails_and_restores_nothing(backup_file, fresh_database):
    target = fresh_database("wrongkey")

    result = manage(
        "restore_database",
        str(backup_file),
        database_url=postgres_url(target),
        backup_key=generate_backup_key(),
        check=False,
    )

    assert result.returncode != 0
    assert "Wrong backup key" in result.stderr
    assert table_count(target) == 0


@pytest.mark.requires_postgres
def test_restore_refuses_a_non_empty_database_unless_forced(source, backup_file, fresh_database):
    target = fresh_database("busy")
    with postgres_connection(target) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE keep_me (value int); INSERT INTO keep_me VALUES (7)")
    before = table_digests(target)

    refused = manage(
        "restore_database", str(backup_file), database_url=postgres_url(target), check=False
    )
    assert refused.returncode != 0
    assert "is not empty" in refused.stderr
    assert "FORCE=1" in refused.stderr
    assert table_digests(target) == before

    manage("restore_database", str(backup_file), "--force", database_url=postgres_url(target))
    assert table_digests(target) == table_digests(source)


@pytest.mark.requires_postgres
def test_restore_refuses_notes_keys_that_cannot_open_the_notes(backup_file, fresh_database):
    target = fresh_database("newkeyonly")

    result = manage(
        "restore_database",
        str(backup_file),
        database_url=postgres_url(target),
        salts=NEW_SALT,
        check=False,
    )

    assert result.returncode != 0
    assert "2 of the backup's 4 encrypted notes" in result.stderr
    assert "Set DJANGO_SECRET_KEY and NOTES_ENCRYPTION_KEYS" in result.stderr
    assert "to the values used when the backup was made" in result.stderr
    assert table_count(target) == 0


@pytest.mark.requires_postgres
def test_restore_decrypts_every_note_after_restoring(backup_file, fresh_database, tmp_path):
    """A manifest that claims no note needs a key passes the check before the restore;
    the check after it still finds the notes the keys cannot open."""
    lying = tmp_path / "lying.backup"
    rewrite_backup(backup_file, lying, edit=lambda m: m | {"notes": m["notes"] | {"by_key": {}}})
    target = fresh_database("postcheck")

    result = manage(
        "restore_database",
        str(lying),
        database_url=postgres_url(target),
        salts=NEW_SALT,
        check=False,
    )

    assert result.returncode != 0
    assert "2 of its 4 encrypted notes do not decrypt with the current keys" in result.stderr
    assert "Set DJANGO_SECRET_KEY and NOTES_ENCRYPTION_KEYS" in result.stderr


@pytest.mark.requires_postgres
def test_restore_recounts_every_table_after_restoring(backup_file, fresh_database, tmp_path):
    def one_user_more(manifest):
        counts = manifest["row_counts"]
        return manifest | {"row_counts": counts | {"public.accounts_user": 34}}

    lying = tmp_path / "lying.backup"
    rewrite_backup(backup_file, lying, edit=one_user_more)
    target = fresh_database("recount")

    result = manage("restore_database", str(lying), database_url=postgres_url(target), check=False)

    assert result.returncode != 0
    assert "does not match the backup's rows (public.accounts_user: 34 → 33)" in result.stderr


@pytest.mark.requires_postgres
@pytest.mark.parametrize("damage", ["flip_a_byte", "cut_short"])
def test_a_damaged_backup_leaves_the_database_as_it_was(
    damage, backup_file, fresh_database, tmp_path
):
    """Even forced, over a database that has data: the emptying and the partial restore
    are one transaction that is never committed."""
    damaged = tmp_path / "damaged.backup"
    rewrite_backup(backup_file, damaged, chunk_size=4096)
    content = bytearray(damaged.read_bytes())
    position = len(content) - 2000  # late: pg_restore has passed SQL on to psql by then
    if damage == "flip_a_byte":
        content[position] ^= 0x01
    else:
        del content[position:]
    damaged.write_bytes(content)
    target = fresh_database("damaged")
    with postgres_connection(target) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE keep_me (value int); INSERT INTO keep_me VALUES (7)")
    before = table_digests(target)

    result = manage(
        "restore_database", str(damaged), "--force", database_url=postgres_url(target), check=False
    )

    assert result.returncode != 0
    assert "damaged" in result.stderr or "incomplete" in result.stderr
    assert table_digests(target) == before == {"public.keep_me": before["public.keep_me"]}


# --- SQLite (the demo default) ------------------------------------------------------------------


def sqlite_digests(path: Path) -> dict[str, tuple[int, str]]:
    connection = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        digests = {}
        for table in tables:
            rows = sorted(repr(row) for row in connection.execute(f'SELECT * FROM "{table}"'))
            digests[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        return digests
    finally:
        connection.close()


def test_sqlite_round_trip(tmp_path):
    source, target = tmp_path / "demo.sqlite3", tmp_path / "restored.sqlite3"
    manage("migrate", "--noinput", "-v0", database_url=f"sqlite:///{source}")
    manage("shell", "-c", SEED, database_url=f"sqlite:///{source}")
    manage(
        "shell",
        "-c",
        WRITE_NOTES.format(numbers={0, 1, 2, 3}, notes=NOTES),
        database_url=f"sqlite:///{source}",
    )
    backup = tmp_path / "demo.backup"

    made = manage(
        "backup_database",
        "--output",
        str(backup),
        database_url=f"sqlite:///{source}",
        backup_key="",
    )
    # Unencrypted: restored only with no backup key set (a key refuses such a file).
    restored = manage(
        "restore_database", str(backup), database_url=f"sqlite:///{target}", backup_key=""
    )

    assert "NOT encrypted" in made.stdout  # allowed with DJANGO_DEBUG=1 only, and it shows:
    assert CHAT_MARKER.encode() in backup.read_bytes()
    assert "Restored and verified" in restored.stdout
    digests = sqlite_digests(source)
    assert digests["accounts_user"][0] == 33
    assert sqlite_digests(target) == digests
    connection = sqlite3.connect(target)
    tokens = [body for (body,) in connection.execute("SELECT body FROM sessions_app_sessionnote")]
    connection.close()
    fernet = notes_fernet(ROTATED_SALTS)
    assert sorted(fernet.decrypt(token.encode()).decode() for token in tokens) == sorted(NOTES)
    again = manage(
        "restore_database",
        str(backup),
        database_url=f"sqlite:///{target}",
        backup_key="",
        check=False,
    )
    assert again.returncode != 0
    assert "is not empty" in again.stderr


# --- The file format and the key ------------------------------------------------------------


def write_backup(payload: bytes, key: bytes | None, chunk_size: int = 7) -> bytes:
    stream = BytesIO()
    writer = BackupWriter(stream, key, chunk_size=chunk_size)
    writer.write_manifest({"engine": "test"})
    for start in range(0, len(payload), 5):
        writer.write(payload[start : start + 5])
    writer.close()
    return stream.getvalue()


def read_backup(content: bytes, key: bytes | None) -> tuple[dict, bytes]:
    manifest, dump = split_payload(BackupReader(BytesIO(content), key).chunks())
    return manifest, b"".join(dump)


@pytest.mark.parametrize("encrypted", [True, False])
def test_backup_file_round_trip_over_many_chunks(encrypted):
    key = os.urandom(32) if encrypted else None
    payload = os.urandom(1000)

    content = write_backup(payload, key)

    assert read_backup(content, key) == ({"engine": "test"}, payload)
    in_one_chunk = write_backup(payload, key, chunk_size=4096)
    assert (payload[:32] in in_one_chunk) is not encrypted


@pytest.mark.parametrize(
    ("damage", "code"),
    [
        (lambda c: c[:100] + bytes([c[100] ^ 1]) + c[101:], "damaged"),
        (lambda c: c[:-30], "truncated"),
        (lambda c: c + b"more", "damaged"),
        (lambda c: c[: len(c) // 2], "truncated"),
    ],
    ids=["changed byte", "cut short", "data appended", "cut in half"],
)
def test_a_changed_or_cut_backup_file_is_refused(damage, code):
    key = os.urandom(32)
    content = write_backup(os.urandom(1000), key)

    with pytest.raises(BackupError) as error:
        read_backup(damage(content), key)

    assert error.value.code == code


def test_a_wrong_or_missing_backup_key_is_named_before_anything_is_read():
    content = write_backup(b"dump", os.urandom(32))

    with pytest.raises(BackupError) as wrong:
        BackupReader(BytesIO(content), os.urandom(32))
    with pytest.raises(BackupError) as missing:
        BackupReader(BytesIO(content), None)

    assert wrong.value.code == "wrong_key"
    assert missing.value.code == "no_key"


def test_backup_key_is_32_bytes_of_base64_in_either_alphabet():
    raw = os.urandom(32)

    assert parse_backup_key(base64.urlsafe_b64encode(raw).decode()) == raw
    assert parse_backup_key(base64.b64encode(raw).decode() + "\n") == raw  # openssl rand -base64 32
    for bad in ("too-short", base64.b64encode(os.urandom(16)).decode(), "not base64 at all!!"):
        with pytest.raises(BackupError) as error:
            parse_backup_key(bad)
        assert error.value.code == "bad_key"


def test_no_unencrypted_backup_when_debug_is_off(settings, monkeypatch, tmp_path):
    settings.DEBUG = False
    monkeypatch.delenv("RUANGBK_BACKUP_KEY", raising=False)
    monkeypatch.delenv("RUANGBK_BACKUP_KEY_FILE", raising=False)

    with pytest.raises(CommandError, match="RUANGBK_BACKUP_KEY"):
        call_command("backup_database", output=str(tmp_path / "plain.backup"))

    assert list(tmp_path.iterdir()) == []


def test_backup_key_is_read_from_a_file(monkeypatch, tmp_path):
    raw = os.urandom(32)
    key_file = tmp_path / "backup.key"
    key_file.write_text(base64.urlsafe_b64encode(raw).decode() + "\n")
    monkeypatch.setenv("RUANGBK_BACKUP_KEY", "ignored-when-a-file-is-named")
    monkeypatch.setenv("RUANGBK_BACKUP_KEY_FILE", str(key_file))

    assert configured_backup_key() == raw

"""The backup file: a header, then the payload in chunks, each encrypted with AES-256-GCM.

    header  = b"RUANGBK-BACKUP\\n" | version (1 byte) | cipher (1 byte)
              [ | salt (16 bytes) | key id (8 bytes) ]          when encrypted
    chunk   = is_last (1 byte) | length (4 bytes) | body
    payload = manifest length (4 bytes) | manifest (JSON) | the database dump

Each file gets its own AES key, derived (HKDF) from the backup key and the file's random
salt; chunk n is sealed with nonce n and, as associated data, the header, n and is_last,
so a changed, reordered, dropped or truncated chunk fails to open. The key id (an HMAC of
the key) tells a wrong key from a damaged file without revealing anything about the key.
Only one chunk is held in memory at a time, whatever the size of the database.
"""

import base64
import binascii
import hashlib
import hmac
import json
import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"RUANGBK-BACKUP\n"
FORMAT_VERSION = 1
CIPHER_NONE = 0
CIPHER_AES_256_GCM = 1
CHUNK_SIZE = 1 << 20
MAX_CHUNK_BODY = 64 << 20
KEY_BYTES = 32
SALT_BYTES = 16
KEY_ID_BYTES = 8
CHUNK_HEAD = struct.Struct(">BI")
LENGTH = struct.Struct(">I")
KEY_ADVICE = (
    "Generate one with `python manage.py backup_database --generate-key` and keep it away "
    "from the backups (docs/backups.md)."
)


class BackupError(Exception):
    """A backup or restore that cannot go on; `code` says why, the message what to do."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def generate_backup_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def parse_backup_key(text: str) -> bytes:
    """32 random bytes written in base64 (URL-safe or standard alphabet)."""
    text = text.strip().replace("+", "-").replace("/", "_")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise BackupError("bad_key", f"The backup key must be 32 bytes in base64. {KEY_ADVICE}")
    return key


def configured_backup_key(key_file: str | None = None) -> bytes | None:
    """The key from `key_file`, RUANGBK_BACKUP_KEY_FILE or RUANGBK_BACKUP_KEY; None if unset."""
    path = key_file or os.environ.get("RUANGBK_BACKUP_KEY_FILE")
    if path:
        try:
            text = Path(path).read_text()
        except OSError as error:
            raise BackupError("bad_key", f"Cannot read the backup key file: {error}") from error
    else:
        text = os.environ.get("RUANGBK_BACKUP_KEY", "")
    return parse_backup_key(text) if text.strip() else None


def key_id(key: bytes) -> bytes:
    return hmac.new(key, b"ruangbk backup key id", hashlib.sha256).digest()[:KEY_ID_BYTES]


def file_cipher(key: bytes, salt: bytes) -> AESGCM:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"ruangbk backup v1")
    return AESGCM(hkdf.derive(key))


def chunk_nonce_and_aad(header: bytes, index: int, is_last: bool) -> tuple[bytes, bytes]:
    return index.to_bytes(12, "big"), header + struct.pack(">QB", index, is_last)


class BackupWriter:
    """Writes the header at once, then the payload in sealed chunks; `close()` ends it."""

    def __init__(self, stream: BinaryIO, key: bytes | None, chunk_size: int = CHUNK_SIZE):
        self.stream = stream
        self.chunk_size = chunk_size
        self.buffer = bytearray()
        self.index = 0
        self.header = MAGIC + bytes([FORMAT_VERSION])
        if key is None:
            self.header += bytes([CIPHER_NONE])
            self.cipher = None
        else:
            salt = os.urandom(SALT_BYTES)
            self.header += bytes([CIPHER_AES_256_GCM]) + salt + key_id(key)
            self.cipher = file_cipher(key, salt)
        stream.write(self.header)

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) > self.chunk_size:
            self._seal(bytes(self.buffer[: self.chunk_size]), is_last=False)
            del self.buffer[: self.chunk_size]

    def write_manifest(self, manifest: dict) -> None:
        encoded = json.dumps(manifest, sort_keys=True).encode()
        self.write(LENGTH.pack(len(encoded)) + encoded)

    def close(self) -> None:
        self._seal(bytes(self.buffer), is_last=True)
        self.buffer.clear()

    def _seal(self, plain: bytes, *, is_last: bool) -> None:
        body = plain
        if self.cipher is not None:
            nonce, aad = chunk_nonce_and_aad(self.header, self.index, is_last)
            body = self.cipher.encrypt(nonce, plain, aad)
        self.stream.write(CHUNK_HEAD.pack(is_last, len(body)) + body)
        self.index += 1


class BackupReader:
    """Checks the header (and the key) when opened; `chunks()` yields the payload."""

    def __init__(self, stream: BinaryIO, key: bytes | None) -> None:
        self.stream = stream
        header = read_exactly(stream, len(MAGIC) + 2)
        if header[: len(MAGIC)] != MAGIC:
            raise BackupError("not_a_backup", "This file is not a RuangBK backup.")
        version, cipher = header[len(MAGIC)], header[len(MAGIC) + 1]
        if version != FORMAT_VERSION or cipher not in {CIPHER_NONE, CIPHER_AES_256_GCM}:
            raise BackupError(
                "not_a_backup", f"Backup format {version}/{cipher} is not known to this version."
            )
        self.is_encrypted = cipher == CIPHER_AES_256_GCM
        if key is not None and not self.is_encrypted:
            # With a key set, only an authenticated file is trusted: an unencrypted one
            # could have been swapped in by anyone with write access to the backups.
            raise BackupError(
                "not_encrypted",
                "This backup is not encrypted, but RUANGBK_BACKUP_KEY is set: refusing a file "
                "that cannot be authenticated. Unset the key to restore a development backup.",
            )
        self.cipher = None
        if self.is_encrypted:
            extra = read_exactly(stream, SALT_BYTES + KEY_ID_BYTES)
            header += extra
            salt, stored_id = extra[:SALT_BYTES], extra[SALT_BYTES:]
            if key is None:
                raise BackupError(
                    "no_key",
                    "This backup is encrypted: set RUANGBK_BACKUP_KEY or RUANGBK_BACKUP_KEY_FILE "
                    f"to the backup key it was made with (key id {stored_id.hex()}).",
                )
            if not hmac.compare_digest(key_id(key), stored_id):
                raise BackupError(
                    "wrong_key",
                    f"Wrong backup key: this file was encrypted with key id {stored_id.hex()}, "
                    f"RUANGBK_BACKUP_KEY has key id {key_id(key).hex()}. Nothing was restored.",
                )
            self.cipher = file_cipher(key, salt)
        self.header = header

    def chunks(self) -> Iterator[bytes]:
        index = 0
        while True:
            is_last, length = CHUNK_HEAD.unpack(read_exactly(self.stream, CHUNK_HEAD.size))
            if is_last not in {0, 1} or length > MAX_CHUNK_BODY:
                raise damaged(index)
            body = read_exactly(self.stream, length)
            if self.cipher is not None:
                nonce, aad = chunk_nonce_and_aad(self.header, index, bool(is_last))
                try:
                    body = self.cipher.decrypt(nonce, body, aad)
                except InvalidTag:
                    raise damaged(index) from None
            yield body
            if is_last:
                if self.stream.read(1):
                    raise damaged(index + 1)
                return
            index += 1


def read_exactly(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BackupError("truncated", "The backup file is incomplete (cut short).")
    return data


def damaged(index: int) -> BackupError:
    return BackupError("damaged", f"The backup file is damaged or was changed (chunk {index}).")


def manifest_shape_ok(manifest: object) -> bool:
    if not isinstance(manifest, dict):
        return False
    notes, counts = manifest.get("notes"), manifest.get("row_counts")
    return (
        isinstance(notes, dict)
        and isinstance(notes.get("unreadable"), int)
        and isinstance(notes.get("total"), int)
        and isinstance(notes.get("by_key"), dict)
        and isinstance(counts, dict)
        and all(isinstance(count, int) for count in counts.values())
    )


def split_payload(chunks: Iterator[bytes]) -> tuple[dict, Iterator[bytes]]:
    """The manifest at the head of the payload, and an iterator over the dump after it."""
    buffer = bytearray()

    def take(size: int) -> bytes:
        while len(buffer) < size:
            chunk = next(chunks, None)
            if chunk is None:
                raise BackupError("truncated", "The backup file is incomplete (cut short).")
            buffer.extend(chunk)
        taken = bytes(buffer[:size])
        del buffer[:size]
        return taken

    (length,) = LENGTH.unpack(take(LENGTH.size))
    if length > MAX_CHUNK_BODY:
        raise damaged(0)
    try:
        manifest = json.loads(take(length))
    except ValueError as error:
        raise damaged(0) from error

    def dump() -> Iterator[bytes]:
        if buffer:
            yield bytes(buffer)
        yield from chunks

    return manifest, dump()

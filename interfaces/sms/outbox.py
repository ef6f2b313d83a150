"""The default SMS gateway: an outbox table, with no personal data in clear.

A message id sent again is not added twice; its ``attempts`` count goes up
instead. The ``message_id`` (the dedupe key: a blast prefix and a recipient
hash, ``ticket-<code>``, ``reminder-<recipient hex>-<day>``), ``queued_at``
and ``attempts`` are in clear; the phone and the text (it can name a
person's ticket and puskesmas) are sealed with AES-GCM under the event
store's cipher key (``RANTAI_CIPHER_KEY``), a fresh 96-bit nonce for every
value, bound to the row's message id and column as associated data so a
sealed value cannot be moved to another row or column unnoticed. A value is
stored as ``nonce (12 bytes) | tag (16) | ciphertext`` (the event store's
layout) in a BLOB.

Read it with the key, not with ``sqlite3``::

    OutboxGateway(path, cipher_key=key).message("ticket-K7Q2M9")  # one message, decrypted
    OutboxGateway(path, cipher_key=key).pending()                 # all of them, oldest first

Outbox files written before the phone was sealed hold it in clear: opening
one with the key encrypts those rows in place, in one transaction, with
SQLite's ``secure_delete`` on (the clear bytes are zeroed, not just freed),
then checkpoints and truncates the WAL. Nothing reads the clear form after
that, so no code path ever hands a clear phone from the file on.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from base64 import b64decode
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.sms import SmsMessage

log = logging.getLogger(__name__)

NONCE, TAG = 12, 16
PAGE = 1000  # rows read (or migrated) at a time


class OutboxKeyError(ValueError):
    """A sealed value that the gateway's key does not open (another key, or tampered with)."""


class RateLimit:
    """At most ``per_second`` messages a second, on average (0 = no limit)."""

    def __init__(self, per_second: float) -> None:
        self.per_second = per_second
        self.next_free = time.monotonic()

    def wait_for(self, count: int) -> None:
        """Sleep until ``count`` more messages may go."""
        if self.per_second <= 0:
            return
        now = time.monotonic()
        start = max(self.next_free, now)
        time.sleep(start - now)
        self.next_free = start + count / self.per_second


class Sealer:
    """AES-GCM with a key given in base64 (16, 24 or 32 bytes), as ``RANTAI_CIPHER_KEY`` is."""

    def __init__(self, cipher_key: str | None) -> None:
        key = b64decode(cipher_key.encode()) if cipher_key else AESGCM.generate_key(256)
        if len(key) not in (16, 24, 32):
            raise ValueError(f"The cipher key must be 16, 24 or 32 bytes (base64); it is {len(key)}.")
        self.aead = AESGCM(key)
        self.throwaway = not cipher_key

    @staticmethod
    def _context(message_id: str, column: str) -> bytes:
        return f"rantai-sms-outbox\0{column}\0{message_id}".encode()

    def seal(self, message_id: str, column: str, value: str) -> bytes:
        nonce = os.urandom(NONCE)  # a fresh nonce every time
        sealed = self.aead.encrypt(nonce, value.encode(), self._context(message_id, column))
        return nonce + sealed[-TAG:] + sealed[:-TAG]

    def open(self, message_id: str, column: str, value: bytes) -> str:
        nonce, tag, body = value[:NONCE], value[NONCE:NONCE + TAG], value[NONCE + TAG:]
        try:
            return self.aead.decrypt(nonce, body + tag, self._context(message_id, column)).decode()
        except (InvalidTag, ValueError):
            raise OutboxKeyError(
                f"SMS outbox message {message_id!r}: its {column} does not open with this cipher key "
                "(written under another key, or altered).") from None


def _has_messages_table(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'").fetchone() is not None


def _clear_rows(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM messages WHERE typeof(phone) = 'text' OR typeof(text) = 'text' "
                      "LIMIT 1").fetchone() is not None


def seal_clear_rows(db: sqlite3.Connection, sealer: Sealer) -> int:
    """Encrypt, in place and in one transaction, the rows an earlier Rantai left in
    clear (a phone or text stored as TEXT); the number of rows sealed.

    ``secure_delete`` zeroes the space the clear values held, and the WAL is
    checkpointed and truncated after, so the file keeps no copy of them."""
    if not _has_messages_table(db) or not _clear_rows(db):
        return 0
    if sealer.throwaway:
        raise ValueError("This SMS outbox holds phone numbers in clear, written before they were encrypted: "
                         "open it with the cipher key (RANTAI_CIPHER_KEY) to encrypt them in place.")
    db.execute("PRAGMA secure_delete = ON")
    sealed, last = 0, 0
    db.execute("BEGIN IMMEDIATE")  # one writer: a second process opening the file waits, then finds none
    try:
        while rows := db.execute(
                "SELECT rowid, message_id, phone, text FROM messages WHERE rowid > ? "
                "AND (typeof(phone) = 'text' OR typeof(text) = 'text') ORDER BY rowid LIMIT ?",
                (last, PAGE)).fetchall():
            db.executemany("UPDATE messages SET phone = ?, text = ? WHERE rowid = ?", [
                (phone if isinstance(phone, bytes) else sealer.seal(message_id, "phone", phone),
                 text if isinstance(text, bytes) else sealer.seal(message_id, "text", text), rowid)
                for rowid, message_id, phone, text in rows])
            sealed += len(rows)
            last = rows[-1][0]
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if db.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        busy, frames, copied = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy or frames != copied:  # another process is reading: the WAL may keep the clear frames a while
            log.warning("SMS outbox %s: %d rows encrypted, but the WAL could not be truncated while another "
                        "process reads it; restart the processes that have it open.", _file(db), sealed)
    return sealed


def _file(db: sqlite3.Connection) -> str:
    return next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "?")


def seal_outbox_file(path: str | Path, cipher_key: str) -> int:
    """Seal the clear rows of an outbox file, if there is one (the HTTP gateway keeps
    its provider ids in the same file, where an earlier outbox may have left messages)."""
    if not Path(path).is_file():
        return 0
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        return seal_clear_rows(db, Sealer(cipher_key))
    finally:
        db.close()


class OutboxGateway:
    """``cipher_key`` is the event store's (``settings.cipher_key``, base64). Without one
    the gateway seals under a random key of its own: a throwaway outbox (tests, benches)
    whose messages only this object can read back; it refuses a file holding clear rows."""

    def __init__(self, path: str | Path, per_second: float = 0, *, cipher_key: str | None = None) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.sealer = Sealer(cipher_key)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, phone BLOB NOT NULL, "
                "text BLOB NOT NULL, queued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1)"
            )
            self.db.commit()
            seal_clear_rows(self.db, self.sealer)
        except BaseException:
            self.db.close()
            raise
        self.rate = RateLimit(per_second)
        self.lock = threading.Lock()  # one connection shared by the server's request threads

    def send(self, messages: Sequence[SmsMessage]) -> None:
        self.rate.wait_for(len(messages))
        now = datetime.now(UTC).isoformat()
        seal = self.sealer.seal
        with self.lock, self.db:
            self.db.executemany(
                "INSERT INTO messages (message_id, phone, text, queued_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (message_id) DO UPDATE SET attempts = attempts + 1",
                [(m.message_id, seal(m.message_id, "phone", m.phone), seal(m.message_id, "text", m.text), now)
                 for m in messages],
            )

    def _message(self, message_id: str, phone: bytes, text: bytes) -> SmsMessage:
        return SmsMessage(message_id, self.sealer.open(message_id, "phone", phone),
                          self.sealer.open(message_id, "text", text))

    def message(self, message_id: str) -> SmsMessage | None:
        """The message queued under ``message_id``, decrypted; None if there is none."""
        with self.lock:
            row = self.db.execute("SELECT phone, text FROM messages WHERE message_id = ?", (message_id,)).fetchone()
        return self._message(message_id, *row) if row else None

    def pending(self) -> Iterator[SmsMessage]:
        """Every message queued, oldest first, decrypted: what a relay hands to a real
        gateway (the outbox keeps no sent mark; the message id is the dedupe key)."""
        last = 0
        while rows := self.db.execute(
                "SELECT rowid, message_id, phone, text FROM messages WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (last, PAGE)).fetchall():
            for _, message_id, phone, text in rows:
                yield self._message(message_id, phone, text)
            last = rows[-1][0]

    def resolve(self, provider_id: str) -> str | None:
        """The outbox's ids are Rantai's own message ids: known only if it was queued here."""
        row = self.db.execute("SELECT message_id FROM messages WHERE message_id = ?", (provider_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()

"""The default SMS gateway: an outbox table a developer can read.

``sqlite3 var/sms-outbox.sqlite 'select * from messages limit 5'``. A message
id sent again is not added twice; its ``attempts`` count goes up instead.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from application.sms import SmsMessage


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


class OutboxGateway:
    def __init__(self, path: str | Path, per_second: float = 0) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=30, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS messages (message_id TEXT PRIMARY KEY, phone TEXT NOT NULL, "
            "text TEXT NOT NULL, queued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1)"
        )
        self.rate = RateLimit(per_second)

    def send(self, messages: Sequence[SmsMessage]) -> None:
        self.rate.wait_for(len(messages))
        now = datetime.now(UTC).isoformat()
        with self.db:
            self.db.executemany(
                "INSERT INTO messages (message_id, phone, text, queued_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (message_id) DO UPDATE SET attempts = attempts + 1",
                [(m.message_id, m.phone, m.text, now) for m in messages],
            )

    def resolve(self, provider_id: str) -> str | None:
        """The outbox's ids are Rantai's own message ids: known only if it was queued here."""
        row = self.db.execute("SELECT message_id FROM messages WHERE message_id = ?", (provider_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()

"""Rate limits and lockouts kept in the database, so every server process sees them.

A ``Throttle`` counts failures (or requests) per key in a fixed window; a key
over its limit is locked until the window ends, or for the lockout time. Keys
are hashed before they are stored: a NIK or an address never lands in a
table as it was typed.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from interfaces.settings import Settings, sqlite_path


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``window`` seconds: the one that reaches it locks the key for ``lockout`` seconds."""

    name: str
    count: int
    window: float
    lockout: float


def _key(secret: bytes, limit: Limit, value: str) -> str:
    """Keyed with the server's secret: a NIK's 10^10 possible values cannot be tried against the table."""
    digest = hmac.new(secret, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]
    return f"{limit.name}:{digest}"


class Throttle:
    """``retry_after`` tells how long a key must wait (0: go ahead); ``hit`` counts
    one more; ``clear`` forgets a key (a successful login, an admin lifting a lockout)."""

    def __init__(self, settings: Settings) -> None:
        self.postgres = not settings.database_url.startswith("sqlite")
        self.secret = hashlib.sha256(b"rantai-throttle:" + (settings.nik_secret or "").encode()).digest()
        self.lock = threading.Lock()
        if self.postgres:
            from psycopg.conninfo import make_conninfo
            from psycopg_pool import ConnectionPool

            from interfaces.settings import event_store_env

            env = event_store_env(settings)
            info = make_conninfo(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                                 port=env["POSTGRES_PORT"], user=env["POSTGRES_USER"],
                                 password=env["POSTGRES_PASSWORD"])
            self.table = f'"{settings.postgres_schema}".rantai_throttle'
            self.pool = ConnectionPool(info, min_size=1, max_size=2, open=True,
                                       kwargs={"autocommit": True})
            with self.pool.connection() as conn, conn.transaction():
                # Server processes start together: one creates the table, the others wait for it
                # (two concurrent CREATE TABLE IF NOT EXISTS can both try, and one fails).
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.table,))
                conn.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, "
                             "hits INTEGER NOT NULL, window_start DOUBLE PRECISION NOT NULL, "
                             "locked_until DOUBLE PRECISION NOT NULL)")
        else:
            path = sqlite_path(settings)
            self.table = "rantai_throttle"
            self.db = sqlite3.connect(Path(path), timeout=10, check_same_thread=False, isolation_level=None)
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, "
                            "hits INTEGER NOT NULL, window_start REAL NOT NULL, locked_until REAL NOT NULL)")

    def _execute(self, sql: str, args: tuple[object, ...]) -> list[tuple[object, ...]]:
        if self.postgres:
            with self.pool.connection() as conn:
                cursor = conn.execute(sql.replace("?", "%s"), args)
                return cursor.fetchall() if cursor.description else []
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def retry_after(self, limit: Limit, value: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        rows = self._execute(f"SELECT locked_until FROM {self.table} WHERE key = ?", (_key(self.secret, limit, value),))
        if rows and float(rows[0][0]) > now:  # type: ignore[arg-type]
            return max(1, int(float(rows[0][0]) - now + 0.999))  # type: ignore[arg-type]
        return 0

    def hit(self, limit: Limit, value: str, now: float | None = None) -> int:
        """Count one; answers the seconds to wait when this hit went over the limit (else 0)."""
        now = time.time() if now is None else now
        key = _key(self.secret, limit, value)
        rows = self._execute(
            f"INSERT INTO {self.table} (key, hits, window_start, locked_until) VALUES (?, 1, ?, 0) "
            "ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN {self.table}.window_start < ? THEN 1 ELSE {self.table}.hits + 1 END, "
            f"window_start = CASE WHEN {self.table}.window_start < ? THEN ? ELSE {self.table}.window_start END "
            "RETURNING hits",
            (key, now, now - limit.window, now - limit.window, now),
        )
        hits = int(rows[0][0])  # type: ignore[arg-type]
        if hits < limit.count:
            return 0
        self._execute(f"UPDATE {self.table} SET locked_until = ? WHERE key = ?", (now + limit.lockout, key))
        return int(limit.lockout)

    def clear(self, limit: Limit, value: str) -> None:
        self._execute(f"DELETE FROM {self.table} WHERE key = ?", (_key(self.secret, limit, value),))

    def close(self) -> None:
        if self.postgres:
            self.pool.close()
        else:
            self.db.close()

"""The sealed log: a Merkle tree over every stored event, kept by a follower.

The sealer follows the event log as a read model does, seconds behind it,
and appends one leaf per stored row — the hash of the row exactly as stored
(originator id, version, topic and the encrypted state), in log order — and
every perfect subtree the new leaves complete, so that any root or proof
needs only a few dozen lookups. The leaves keep each row's log position,
aggregate, version and topic, so a row that later differs can be named.

Leaves are numbered 0, 1, 2… whatever the rows' notification ids: ids may
have gaps (PostgreSQL's sequence skips after a failed insert) and SQLite may
reuse the id of a deleted newest row, so what is compared is rows with
leaves, in order, never id continuity.

The tables live on the event store's backend: in the same schema on
PostgreSQL (``seal_leaves``, ``seal_nodes``, ``seal_checkpoints``), and in a
file of their own next to the event store on SQLite (``rantai.seal.sqlite``,
as each read model has its own), which attaches the event store to read it.
Two sealers (a worker and a ``rantai audit checkpoint``) never seal a leaf
twice: a leaf's number is its primary key, and the loser reads again.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from domain.merkle import Frontier
from projections.checkpoints import Checkpoint
from projections.follower import describe

PAGE_SIZE = 5000  # rows sealed per transaction
CHECKPOINT_EVERY = 3600.0  # seconds between the checkpoints a following sealer issues (when it has the key)
IDLE = 1.0  # seconds between looks at the log when there was nothing new
log = logging.getLogger(__name__)

Row = tuple[int, str, int, str, bytes]  # notification id, originator id (hex), version, topic, stored state


def leaf_of(row: Row) -> bytes:
    """The bytes a leaf hashes: ``originator id (32 hex digits) \\n version \\n topic \\n`` and the stored state.

    The state comes last, so the encoding is unambiguous (no field before it holds a newline)."""
    _, originator_id, version, topic, state = row
    return b"%s\n%d\n%s\n" % (originator_id.encode(), version, topic.encode()) + state


def leaf_hashes(rows: Sequence[Row]) -> list[bytes]:
    """``leaf_hash(leaf_of(row))`` of each row, inlined: verifying hashes every row of the log."""
    sha = hashlib.sha256
    return [sha(b"\x00%s\n%d\n%s\n%s" % (oid.encode(), version, topic.encode(), state)).digest()
            for _, oid, version, topic, state in rows]


@dataclass(frozen=True)
class Leaf:
    index: int
    notification_id: int
    originator_id: str
    version: int
    topic: str
    hash: bytes

    @property
    def key(self) -> tuple[str, int]:
        return self.originator_id, self.version


class SealConflict(RuntimeError):
    """Another sealer sealed these leaves first."""


LEAF_COLUMNS = "idx, notification_id, originator_id, version, topic, hash"
TABLES = {
    "seal_leaves": "idx BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL, originator_id TEXT NOT NULL, "
                   "version BIGINT NOT NULL, topic TEXT NOT NULL, hash {blob} NOT NULL",
    "seal_nodes": "level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx)",
    "seal_checkpoints": "size BIGINT PRIMARY KEY, root {blob} NOT NULL, note TEXT NOT NULL, issued_at TEXT NOT NULL",
}


class SealStore:
    """The seal's tables and a raw reader of the event log's rows, on one backend.

    Subclasses say how to connect and how the event table is named; the SQL
    is shared. Raw reads because verifying reads every row: building a
    ``Notification`` per row would cost more than hashing it."""

    mark = "?"
    blob = "BLOB"
    upsert_nothing = "ON CONFLICT DO NOTHING"

    def __init__(self) -> None:
        self._connection: Any = None
        self.lock = threading.Lock()

    # -- connections --------------------------------------------------------------------------------
    def connect(self) -> Any:
        raise NotImplementedError

    def cursor(self, connection: Any) -> Any:
        return connection.cursor()

    def events_table(self) -> str:
        raise NotImplementedError

    def table(self, name: str) -> str:
        return name

    def row_query(self) -> str:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.lock:
            if self._connection is None:
                self._connection = self.connect()
            connection = self._connection
            try:
                yield self.cursor(connection)
                connection.commit()
            except BaseException:
                self._rollback_or_drop()
                raise

    def _rollback_or_drop(self) -> None:
        try:
            self._connection.rollback()
        except Exception:  # the connection is gone: a new one next time
            self.close_connection()

    def close_connection(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            finally:
                self._connection = None

    def close(self) -> None:
        with self.lock:
            self.close_connection()

    def q(self, statement: str) -> str:
        """``{leaves}``, ``{nodes}``, ``{checkpoints}`` and ``{events}`` name the tables; ``?`` a parameter."""
        return statement.format(leaves=self.table("seal_leaves"), nodes=self.table("seal_nodes"),
                                checkpoints=self.table("seal_checkpoints"),
                                events=self.events_table()).replace("?", self.mark)

    def fetch(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        with self.transaction() as cursor:
            cursor.execute(self.q(statement), params)
            return cursor.fetchall()

    # -- the tables ---------------------------------------------------------------------------------
    def create_tables(self) -> None:
        with self.transaction() as cursor:
            for name, columns in TABLES.items():
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.table(name)} ({columns.format(blob=self.blob)})")
            cursor.execute(self.q("CREATE INDEX IF NOT EXISTS seal_leaves_event ON {leaves} (originator_id, version)"))

    def sealed(self) -> tuple[int, int]:
        """(leaves sealed, the log position of the last one)."""
        rows = self.fetch("SELECT idx, notification_id FROM {leaves} ORDER BY idx DESC LIMIT 1")
        return (rows[0][0] + 1, rows[0][1]) if rows else (0, 0)

    def node(self, level: int, index: int) -> bytes:
        """The hash of a perfect subtree (level 0: a leaf); ``KeyError`` if it is not stored."""
        if level == 0:
            rows = self.fetch("SELECT hash FROM {leaves} WHERE idx = ?", (index,))
        else:
            rows = self.fetch("SELECT hash FROM {nodes} WHERE level = ? AND idx = ?", (level, index))
        if not rows:
            raise KeyError((level, index))
        return bytes(rows[0][0])

    def nodes(self, level: int, lo: int, hi: int) -> dict[int, bytes]:
        """Stored subtree hashes of ``level``, numbered ``lo`` to ``hi - 1``."""
        rows = self.fetch("SELECT idx, hash FROM {nodes} WHERE level = ? AND idx >= ? AND idx < ?", (level, lo, hi))
        return {index: bytes(h) for index, h in rows}

    def edge(self, size: int) -> list[bytes]:
        return [self.node(level, index) for level, index in Frontier.edge_of(size)]

    def leaves(self, lo: int, hi: int) -> list[Leaf]:
        rows = self.fetch(f"SELECT {LEAF_COLUMNS} FROM {{leaves}} WHERE idx >= ? AND idx < ? ORDER BY idx", (lo, hi))
        return [Leaf(*row[:5], bytes(row[5])) for row in rows]

    def leaf_of_event(self, originator_id: str, version: int) -> Leaf | None:
        """The sealed leaf of an aggregate's event (its id as 32 hex digits)."""
        rows = self.fetch(f"SELECT {LEAF_COLUMNS} FROM {{leaves}} WHERE originator_id = ? AND version = ?",
                          (originator_id, version))
        return Leaf(*rows[0][:5], bytes(rows[0][5])) if rows else None

    def append(self, leaves: list[Leaf], nodes: list[tuple[int, int, bytes]]) -> None:
        """Seal ``leaves`` and the subtrees they complete, in one transaction."""
        try:
            with self.transaction() as cursor:
                cursor.executemany(self.q("INSERT INTO {leaves} VALUES (?, ?, ?, ?, ?, ?)"),
                                   [(x.index, x.notification_id, x.originator_id, x.version, x.topic, x.hash)
                                    for x in leaves])
                if nodes:
                    cursor.executemany(self.q("INSERT INTO {nodes} VALUES (?, ?, ?)"), nodes)
        except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation) as error:
            raise SealConflict from error

    def checkpoints(self) -> list[tuple[int, bytes, str]]:
        """Every stored checkpoint: (size, root, note), smallest first."""
        return [(size, bytes(root), note)
                for size, root, note in self.fetch("SELECT size, root, note FROM {checkpoints} ORDER BY size")]

    def add_checkpoint(self, size: int, root: bytes, note: str, issued_at: str) -> None:
        with self.transaction() as cursor:
            cursor.execute(self.q(f"INSERT INTO {{checkpoints}} VALUES (?, ?, ?, ?) {self.upsert_nothing}"),
                           (size, root, note, issued_at))

    # -- the event log ------------------------------------------------------------------------------
    def rows(self, after: int, limit: int) -> list[Row]:
        """The stored rows after log position ``after``, in log order, as stored."""
        return self.fetch(self.row_query(), (after, limit))

    def rows_upto(self, after: int, upto: int, page: int) -> Iterator[list[Row]]:
        """The stored rows after ``after`` up to log position ``upto``, a page at a time.

        No upper bound in the query (with one, PostgreSQL may sort the whole range before
        the limit): a page asks for no more rows than there are positions left, and sheds
        those beyond ``upto`` (there are some only where positions were skipped)."""
        while after < upto and (rows := self.rows(after, min(page, upto - after))):
            if rows[-1][0] > upto:
                yield [row for row in rows if row[0] <= upto]
                return
            yield rows
            after = rows[-1][0]

    def reopened(self) -> SealStore:
        """The same store on a connection of its own (opened when first used)."""
        raise NotImplementedError

    def head(self) -> int:
        rows = self.fetch(self.head_query())
        return (rows[0][0] or 0) if rows else 0

    def next_position(self, after: int) -> int | None:
        """The log position of the first row after ``after`` (None: there is none)."""
        rows = self.fetch(self.next_query(), (after,))
        return rows[0][0] if rows else None

    def head_query(self) -> str:
        raise NotImplementedError

    def next_query(self) -> str:
        raise NotImplementedError


class SQLiteSeal(SealStore):
    """The seal in its own file; the event store attached to the same connection (only read)."""

    def __init__(self, events_file: Path) -> None:
        super().__init__()
        self.events_file = events_file
        self.file = events_file.with_name(f"{events_file.stem}.seal{events_file.suffix}")

    def connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.file, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("ATTACH DATABASE ? AS log", (str(self.events_file),))
        return connection

    def events_table(self) -> str:
        return "log.stored_events"

    def row_query(self) -> str:
        return ("SELECT rowid, originator_id, originator_version, topic, state FROM {events} "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?")

    def reopened(self) -> SQLiteSeal:
        return SQLiteSeal(self.events_file)

    def head_query(self) -> str:
        return "SELECT MAX(rowid) FROM {events}"

    def next_query(self) -> str:
        return "SELECT MIN(rowid) FROM {events} WHERE rowid > ?"


class PostgresSeal(SealStore):
    """The seal's tables in the event store's schema."""

    mark = "%s"
    blob = "BYTEA"

    def __init__(self, conninfo: dict[str, str], schema: str, application: str) -> None:
        super().__init__()
        self.conninfo = conninfo
        self.schema = schema
        self.application = application

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(**self.conninfo, connect_timeout=10)

    def cursor(self, connection: Any) -> Any:
        return connection.cursor(binary=True)  # bytea in binary: no hex to decode

    def table(self, name: str) -> str:
        return sql.Identifier(self.schema, name).as_string(None)

    def events_table(self) -> str:
        return self.table(f"{self.application}_events")

    def row_query(self) -> str:
        return ("SELECT notification_id, replace(originator_id::text, '-', ''), originator_version, topic, state "
                "FROM {events} WHERE notification_id > ? ORDER BY notification_id LIMIT ?")

    def reopened(self) -> PostgresSeal:
        return PostgresSeal(self.conninfo, self.schema, self.application)

    def head_query(self) -> str:
        return "SELECT MAX(notification_id) FROM {events}"

    def next_query(self) -> str:
        return "SELECT MIN(notification_id) FROM {events} WHERE notification_id > ?"

    def install_triggers(self) -> None:
        """Refuse UPDATE, DELETE and TRUNCATE on the event and snapshot tables (idempotent).

        The library's own writes are INSERTs under ``LOCK TABLE … IN EXCLUSIVE MODE``,
        which needs the rights on the role itself: revoking them is not an option, a
        trigger is. Its owner can still disable it — that is what the seal is for."""
        function = self.table("rantai_refuse_change")
        with self.transaction() as cursor:
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'the event log is append-only: % on % refused', TG_OP, TG_TABLE_NAME "
                "USING ERRCODE = 'insufficient_privilege'; END $$"
            )
            for purpose in ("events", "snapshots"):
                target = self.table(f"{self.application}_{purpose}")
                cursor.execute(f"DROP TRIGGER IF EXISTS rantai_append_only ON {target}")
                cursor.execute(f"CREATE TRIGGER rantai_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {target} "
                               f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()")  # fires even on no rows


def open_seal(env: dict[str, str], application: str = "campaign") -> SealStore:
    """The seal of ``application``'s event store described by the eventsourcing environment ``env``."""
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        conninfo = {"host": env["POSTGRES_HOST"], "port": env["POSTGRES_PORT"], "dbname": env["POSTGRES_DBNAME"],
                    "user": env["POSTGRES_USER"], "password": env.get("POSTGRES_PASSWORD", "")}
        return PostgresSeal(conninfo, env.get("POSTGRES_SCHEMA", "public"), application)
    return SQLiteSeal(Path(env["SQLITE_DBNAME"]))


class Sealer:
    """Seals the log's new rows, a page per transaction; ``follow`` keeps doing it and,
    given a ``signer``, issues a checkpoint every ``every`` seconds while the log grows."""

    def __init__(self, store: SealStore, page_size: int = PAGE_SIZE,
                 signer: Callable[[int, bytes], Checkpoint] | None = None, every: float = CHECKPOINT_EVERY) -> None:
        self.store = store
        self.page_size = page_size
        self.signer = signer
        self.every = every

    def seal(self) -> int:
        """Seal every row recorded so far; answers the number of leaves."""
        while True:
            size, position = self.store.sealed()
            frontier = Frontier(size, self.store.edge(size))
            rows = self.store.rows(position, self.page_size)
            if not rows:
                return size
            leaves, nodes = [], []
            for row, h in zip(rows, leaf_hashes(rows), strict=True):
                leaves.append(Leaf(frontier.size, row[0], row[1], row[2], row[3], h))
                nodes += frontier.append(h)
            try:
                self.store.append(leaves, nodes)
            except SealConflict:
                continue  # another sealer got there first: go on from where it stopped

    def root(self, size: int) -> bytes:
        return Frontier(size, self.store.edge(size)).root()

    def checkpoint(self) -> Checkpoint:
        """Seal to the end of the log, then sign and store a checkpoint of it."""
        if self.signer is None:
            raise ValueError("no signing key: checkpoints cannot be issued")
        size = self.seal()
        checkpoint = self.signer(size, self.root(size))
        self.store.add_checkpoint(size, checkpoint.root, checkpoint.note, datetime.now(UTC).isoformat())
        return checkpoint

    def checkpoint_if_due(self, due: float) -> float:
        """Issue a checkpoint if ``due`` (monotonic seconds) has come and the log grew since the last; the next due."""
        if self.signer is None or time.monotonic() < due:
            return due
        stored = self.store.checkpoints()
        if not stored or self.store.sealed()[0] > stored[-1][0]:
            log.info("seal: checkpoint of %d events issued", self.checkpoint().size)
        return time.monotonic() + self.every

    def follow(self, stop: threading.Event, idle: float = IDLE) -> None:
        """Seal, then look again every ``idle`` seconds, until ``stop`` is set; errors are logged and retried."""
        try:
            self.store.create_tables()
        except Exception as error:  # the database is away: seal() below retries
            log.warning("seal: could not create its tables (%s)", describe(error))
        due = time.monotonic() + self.every
        try:
            while not stop.is_set():
                try:
                    self.seal()
                    due = self.checkpoint_if_due(due)
                except Exception as error:  # a database restart must not end the seal
                    log.warning("seal: could not seal (%s); retrying", describe(error))
                    stop.wait(5.0)
                stop.wait(idle)
        finally:
            self.store.close()  # its connection (opened again if the store is used after)

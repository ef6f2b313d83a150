"""Read-model tables, the row changes of a page of events, and the views that
write those changes and their tracking position in one transaction.

A view is an eventsourcing ``TrackingRecorder``: ``max_tracking_id`` tells
where it is, so after a crash it resumes exactly after the last page it
committed. Each read model declares its tables once; ``SQLiteView`` and
``PostgresView`` turn them into SQL for their backend.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from eventsourcing.persistence import OperationalError, ProgrammingError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder


@dataclass(frozen=True)
class Table:
    """``columns``: name -> SQL type (TEXT, INTEGER, BIGINT, REAL); ``key``: primary key."""

    name: str
    columns: dict[str, str]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        for column in (*self.key, *(c for index in self.indexes for c in index)):
            if column not in self.columns:
                raise ValueError(f"{self.name}: unknown column {column}")


class Changes:
    """What one page of events does to the tables, merged per row.

    ``insert`` sets columns only if the row is new (first seen wins); ``put``
    sets columns (a later put to the same row wins per column); ``add`` adds
    to counters. They are written in that order.
    """

    def __init__(self) -> None:
        self.inserts: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.puts: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self.adds: dict[str, dict[tuple[Any, ...], dict[str, float]]] = {}

    def insert(self, table: str, key: tuple[Any, ...], **values: Any) -> None:
        row = self.inserts.setdefault(table, {}).setdefault(key, {})
        for column, value in values.items():
            row.setdefault(column, value)

    def put(self, table: str, key: tuple[Any, ...], **values: Any) -> None:
        self.puts.setdefault(table, {}).setdefault(key, {}).update(values)

    def put_each(self, table: str, keys: Iterable[tuple[Any, ...]], **values: Any) -> None:
        """``put`` the same columns to many rows."""
        rows = self.puts.setdefault(table, {})
        for key in keys:
            rows.setdefault(key, {}).update(values)

    def add(self, table: str, key: tuple[Any, ...], **amounts: float) -> None:
        row = self.adds.setdefault(table, {}).setdefault(key, {})
        for column, amount in amounts.items():
            row[column] = row.get(column, 0) + amount

    def pending(self, table: str, key: tuple[Any, ...]) -> dict[str, Any]:
        """Columns put to a row earlier in this page (not yet written)."""
        return self.puts.get(table, {}).get(key, {})

    def __len__(self) -> int:
        return sum(len(rows) for kind in (self.inserts, self.puts, self.adds) for rows in kind.values())


COUNTER = "BIGINT NOT NULL DEFAULT 0"  # a column only ever added to

POSITION = Table("position", {"view": "TEXT", "notification_id": "BIGINT", "recorded_at": "TEXT"},
                 key=("view",))
# a read model its follower cannot take past one event: that event's log position and a
# short description of the error (its type and where it was raised, never the event's contents)
STUCK = Table("stuck", {"view": "TEXT", "notification_id": "BIGINT", "error": "TEXT", "since": "TEXT"},
              key=("view",))


class ReadModelView(TrackingRecorder):
    """A read model's tables; subclasses add the queries that answer its question.

    Every view also keeps its ``position``: the last log position it reflects
    and when that event was recorded, so each figure can be traced to events;
    and, when its follower could not get past an event, where it is ``stuck``."""

    tables: ClassVar[tuple[Table, ...]] = ()
    mark: ClassVar[str] = "?"  # the backend's parameter placeholder
    # Called before every ``select``: a replay that writes pages in another thread sets it to
    # wait for them, so a handler that reads its own tables sees every page before its own.
    settle: Callable[[], None] | None = None

    @property
    def all_tables(self) -> tuple[Table, ...]:
        return (POSITION, STUCK, *self.tables)

    def table(self, name: str) -> Table:
        return next(t for t in self.all_tables if t.name == name)

    def sql(self, statement: str) -> str:
        """``{table}`` names a table of this view; ``?`` marks a parameter."""
        names = {t.name: self.qualified(t.name) for t in self.all_tables}
        return statement.format(**names).replace("?", self.mark)

    def position(self) -> dict[str, Any]:
        """The log position this view reflects: notification id and its recorded time."""
        rows = self.select("SELECT notification_id, recorded_at FROM {position}")
        return rows[0] if rows else {"notification_id": 0, "recorded_at": None}

    def stuck(self) -> dict[str, Any] | None:
        """Where the follower stopped, if it did: ``notification_id``, ``error`` and ``since`` (UTC ISO)."""
        rows = self.select("SELECT notification_id, error, since FROM {stuck}")
        return rows[0] if rows else None

    def mark_stuck(self, name: str, tracking: Tracking, previous: int, error: str, since: str) -> None:
        """Record that the follower of read model ``name``, at ``previous``, cannot get past
        the event at ``tracking``; ``FollowerConflict`` if the position moved meanwhile."""
        changes = Changes()
        changes.put("stuck", (name,), notification_id=tracking.notification_id, error=error, since=since)
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(  # holds the position still (its row locked) until the mark is written
                f"UPDATE {self.tracking_table()} SET notification_id = notification_id "
                f"WHERE application_name = {self.mark} AND notification_id = {self.mark} RETURNING notification_id",
                (tracking.application_name, previous),
            )
            if cursor.fetchone() is None:
                raise FollowerConflict(tracking.application_name, previous)
            for statement, params in self.write_statements(changes):
                cursor.executemany(statement, params)

    def ensure_stuck_table(self) -> None:
        """Create the ``stuck`` table in a store made before it existed (other tables come from ``rantai db init``)."""
        try:
            self.stuck()
        except (ProgrammingError, OperationalError):  # no such table (or the database is away: then this fails too)
            with self.datastore.transaction(commit=True) as cursor:
                for statement in self.create_statements([STUCK]):
                    cursor.execute(statement)

    def qualified(self, name: str) -> str:
        return f'"rm_{name}"'

    def create_statements(self, tables: Sequence[Table] | None = None) -> list[str]:
        statements = []
        for t in self.all_tables if tables is None else tables:
            columns = ", ".join(f"{c} {kind}" for c, kind in t.columns.items())
            statements.append(f"CREATE TABLE IF NOT EXISTS {self.qualified(t.name)} "
                              f"({columns}, PRIMARY KEY ({', '.join(t.key)}))")
            for index in t.indexes:
                name = self.qualified(f"{t.name}_{'_'.join(index)}_idx").split(".")[-1]
                statements.append(f"CREATE INDEX IF NOT EXISTS {name} ON {self.qualified(t.name)} ({', '.join(index)})")
        return statements

    def write_statements(self, changes: Changes) -> list[tuple[str, list[tuple[Any, ...]]]]:
        """One statement per table and column set, with its parameter rows."""
        statements = []
        for name, rows in changes.inserts.items():
            statements += self._upserts(self.table(name), rows, "")
        for name, rows in changes.puts.items():
            statements += self._upserts(self.table(name), rows, "{c} = excluded.{c}")
        for name, rows in changes.adds.items():
            statements += self._upserts(self.table(name), rows, "{c} = t.{c} + excluded.{c}")
        return statements

    def _upserts(self, table: Table, rows: dict[tuple[Any, ...], dict[str, Any]], assign: str):
        by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for key, values in rows.items():
            by_columns.setdefault(tuple(values), []).append((*key, *values.values()))
        for columns, params in by_columns.items():
            names = (*table.key, *columns)
            sets = ", ".join(assign.format(c=c) for c in columns) if columns and assign else None
            conflict = f"ON CONFLICT ({', '.join(table.key)}) " + (f"DO UPDATE SET {sets}" if sets else "DO NOTHING")
            yield self.upsert(table, names, conflict, params)

    def upsert(self, table: Table, names: tuple[str, ...], conflict: str,
               params: list[tuple[Any, ...]]) -> tuple[str, list[tuple[Any, ...]]]:
        """One INSERT … ON CONFLICT and its parameter rows (run with ``executemany``)."""
        return (f"INSERT INTO {self.qualified(table.name)} AS t ({', '.join(names)}) VALUES "
                f"({', '.join([self.mark] * len(names))}) {conflict}", params)

    def apply(self, changes: Changes, tracking: Tracking, previous: int | None = None) -> None:
        """Write the rows and the tracking position in one transaction.

        With ``previous`` (a follower's page) the position moves only from
        ``previous`` to the new one, compare-and-set: if anyone else moved it
        meanwhile (another follower, a rebuild) nothing is written and
        ``FollowerConflict`` is raised, so no page is ever counted twice.
        Without it, the library's tracking rule applies (its ProjectionRunner)."""
        with self.datastore.transaction(commit=True) as cursor:
            if previous is None:
                self._insert_tracking(cursor, tracking)
            else:
                cursor.execute(
                    f"UPDATE {self.tracking_table()} SET notification_id = {self.mark} "
                    f"WHERE application_name = {self.mark} AND notification_id = {self.mark} "
                    "RETURNING notification_id",
                    (tracking.notification_id, tracking.application_name, previous),
                )
                if cursor.fetchone() is None:
                    raise FollowerConflict(tracking.application_name, previous)
            for statement, params in self.write_statements(changes):
                cursor.executemany(statement, params)

    def start_tracking(self, application_name: str) -> None:
        """Make sure a tracking row exists (at 0) for a follower to move."""
        with self.datastore.transaction(commit=True) as cursor:
            cursor.execute(
                f"INSERT INTO {self.tracking_table()} (application_name, notification_id) "
                f"VALUES ({self.mark}, 0) ON CONFLICT (application_name) DO NOTHING",
                (application_name,),
            )

    def select(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows answering ``statement`` (see ``sql``)."""
        if self.settle is not None:
            self.settle()
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.sql(statement), tuple(params))
            return [{k: _plain(v) for k, v in dict(row).items()} for row in cursor.fetchall()]

    def reset(self, application_name: str) -> None:
        """Empty the tables (a ``stuck`` mark too) and move the position back to 0, in one transaction."""
        with self.datastore.transaction(commit=True) as cursor:
            for t in self.all_tables:
                cursor.execute(f"DELETE FROM {self.qualified(t.name)}")
            cursor.execute(
                f"UPDATE {self.tracking_table()} SET notification_id = 0 WHERE application_name = {self.mark}",
                (application_name,),
            )

    @abstractmethod
    def tracking_table(self) -> str:
        """The library's tracking table, as SQL."""


class FollowerConflict(RuntimeError):
    def __init__(self, application_name: str, previous: int) -> None:
        super().__init__(f"the position of {application_name} moved away from {previous} meanwhile")


class SQLiteView(SQLiteTrackingRecorder, ReadModelView):
    def construct_create_table_statements(self) -> list[str]:
        return super().construct_create_table_statements() + self.create_statements()

    def tracking_table(self) -> str:
        return "tracking"


class PostgresView(PostgresTrackingRecorder, ReadModelView):
    mark = "%s"

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL

        self.sql_create_statements += [SQL(s) for s in self.create_statements()]  # type: ignore[arg-type]

    def upsert(self, table: Table, names: tuple[str, ...], conflict: str,
               params: list[tuple[Any, ...]]) -> tuple[str, list[tuple[Any, ...]]]:
        """All the rows in one statement, one array per column (``unnest``): a page's thousands of
        rows cost one round trip instead of one pipelined statement each (measured: a replay of
        the first 60,000 jan2021 events took half the time). A key appears once per statement:
        ``Changes`` merges rows by key."""
        arrays = ", ".join(f"%s::{table.columns[name].split()[0].lower()}[]" for name in names)
        columns = [list(column) for column in zip(*params, strict=True)]
        return (f"INSERT INTO {self.qualified(table.name)} AS t ({', '.join(names)}) "
                f"SELECT * FROM unnest({arrays}) {conflict}", [tuple(columns)])

    def qualified(self, name: str) -> str:
        """Read models share a schema here: their tables carry the read model's name."""
        prefix = self.tracking_table_name.removesuffix("_tracking")
        return f'"{self.datastore.schema}"."{prefix}_{name}"'

    def tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'


def _plain(value: Any) -> Any:
    """PostgreSQL sums integers as NUMERIC; give whole numbers back as ``int`` as SQLite does."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value

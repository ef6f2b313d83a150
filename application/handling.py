"""Running a command: load, decide, save atomically, retry on a lost race.

Every command goes through ``CommandHandling.handle``: it gives a command an
idempotency key (a repeat returns the first answer and writes nothing) and
turns the event store's optimistic-concurrency conflict into a fresh attempt
on fresh state, so the loser of a race gets the domain's own answer ("already
received", "only 3 vials on hand") rather than a lost update.

Keys are checked optimistically: the command's ``HandledCommand`` is saved in
the same write as its events, at version 1, so a second write with the same
key fails on the store's uniqueness; only then (or when the command is
refused) is the first answer looked up. A first request costs no lookup.

**Following the log.** Aggregates are cached per process (several server
processes write the same store). The library would bring each cached
aggregate up to date with a query of its own, every time a command loads it
(a dose loads four). Instead, each command starts with one query for every
event written since this process last looked (``catch_up``), applies those of
cached aggregates to them, and then loads cached aggregates with no query at
all. An aggregate loaded from the store while a catch-up ran is not cached
(the catch-up may have passed over its newer events); a write that loses a
race evicts what it wrote, so the retry loads it fresh.
"""

from __future__ import annotations

import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    LRUCache,
    ProcessingEvent,
    project_aggregate,
)
from eventsourcing.persistence import IntegrityError, Notification, Recording, StoredEvent

from application.errors import ConcurrentUpdate, NotFound
from application.access import Access, Caller
from domain.idempotency import HandledCommand
from domain.provenance import Provenance

ATTEMPTS = 5
FOLLOW_LIMIT = 2000  # events read per catch-up; a process further behind drops its cache instead


@dataclass(frozen=True)
class Outcome:
    """What a command answers: its result, and the log position of its write
    (``position``) so a caller can wait for projections to catch up."""

    result: dict[str, str] = field(default_factory=dict)
    position: int | None = None
    repeated: bool = False


# What a command decided: its answer, the aggregates it changed, and the
# provenance the server gave it (recorded with the idempotency key too).
Decision = tuple[dict[str, str], list[Any], Provenance]


@dataclass(frozen=True)
class RequestKey:
    """An idempotency key as a client sent it, with a hash of the request it came
    with (method, path, body): the same key for another request is refused."""

    key: str
    fingerprint: str = ""


def key_of(caller: Caller, key: RequestKey | str | None, command: str, subject: object) -> RequestKey | None:
    """Keys belong to the user who sent them (two users' key "1" are two keys) and
    are bound to the request: the interface's fingerprint of it, or else a hash of
    the command and what it was asked to act on."""
    if key is None:
        return None
    given = key if isinstance(key, RequestKey) else RequestKey(key)
    fingerprint = given.fingerprint or hashlib.sha256(f"{command}:{subject!r}".encode()).hexdigest()
    return RequestKey(f"{caller.username}:{given.key}", fingerprint)


def _render_statements(app: Application[UUID]) -> Any:
    """On PostgreSQL: the library keeps its statements composed (psycopg ``sql.Composed``),
    which psycopg renders anew on every execute; render them once, as plain SQL.
    Answers the statement that reads the log after a position (the catch-up's)."""
    recorder: Any = app.recorder
    if type(recorder).__module__ != "eventsourcing.postgres":
        return None
    from psycopg.sql import SQL, Composable, Identifier

    recorders = [recorder] + ([app.snapshots.recorder] if app.snapshots is not None else [])
    with recorder.datastore.get_connection() as conn:
        for each in recorders:
            for name in ("insert_events_statement", "select_events_statement", "max_notification_id_statement"):
                statement = getattr(each, name, None)
                if isinstance(statement, Composable):
                    setattr(each, name, SQL(statement.as_string(conn)))
            locks = getattr(each, "lock_table_statements", None)
            if isinstance(locks, list):
                each.lock_table_statements = [SQL(lock.as_string(conn)) if isinstance(lock, Composable) else lock
                                              for lock in locks]
        table = SQL("{}.{}").format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))
        return SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM "
            + table.as_string(conn) + " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        )


class CommandHandling(Access, Application[UUID]):
    _batch: dict[UUID, Any] | None = None
    _batch_size = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cache_lock = threading.RLock()  # the cache's contents, the catch-up and the copies made from it
        self._followed: int | None = None  # the log position up to which every cached aggregate is current
        self._current = threading.local()  # "caught up for this command" (set by handle, per thread)
        # One command at a time per process, from its catch-up to its write: the threads of one
        # server process would otherwise race each other for the same hot stock card, and the
        # losers retry (each write takes the event table's lock anyway, so little is lost).
        self._command_lock = threading.RLock()
        # With a cache that the library would fast-forward per load, follow the log instead.
        self.following = self.repository.cache is not None and self.repository.fastforward
        if self.following:
            self.repository.fastforward = False
        self._tail_statement = _render_statements(self)

    def handle(
        self,
        command: str,
        caller: Caller,
        decide: Callable[[], Decision],
        key: RequestKey | str | None = None,
        subject: object = None,
    ) -> Outcome:
        """Run ``decide`` and save what it changed in one write; ``subject`` (what the
        command acts on) binds an idempotency key that came without a fingerprint."""
        request = key_of(caller, key, command, subject)
        if self._batch is not None:
            return self._handle_in_batch(command, decide, request)
        for attempt in range(ATTEMPTS):
            with self._command_lock:
                outcome = self._attempt(command, decide, request)
            if outcome is not None:
                return outcome
            time.sleep(random.uniform(0, 0.004) * (attempt + 1))  # so the rivals do not collide again
        msg = "Someone else changed the same records at the same moment, several times over; try again."
        raise ConcurrentUpdate(msg)

    def _attempt(self, command: str, decide: Callable[[], Decision], request: RequestKey | None) -> Outcome | None:
        """Decide on the current state and save; None when the write lost a race."""
        self.catch_up()
        self._current.fresh = True
        try:
            try:
                result, aggregates, by = decide()
            except Exception:  # refused: a repeat of a command that was done is answered as the first time
                repeated = self._repeated(command, request)
                if repeated is not None:
                    return repeated
                raise
        finally:
            self._current.fresh = False
        if request is not None:
            aggregates.append(HandledCommand(request.key, command, result, by, request.fingerprint))
        try:
            recordings = self.save(*aggregates)
        except IntegrityError:  # lost a race (or the key was used): evict, so the retry starts fresh
            self.forget(aggregates)
            return self._repeated(command, request)
        position = recordings[-1].notification.id if recordings else None
        return Outcome(result, position)

    # Following the log: one query per command keeps every cached aggregate current

    def catch_up(self) -> None:
        """Apply every event written since the last catch-up (by any process) to the
        cached aggregates it belongs to: afterwards the cache is as current as the log."""
        if not self.following:
            return
        with self._cache_lock:
            if self._followed is None:  # first time: what was cached before is not known to be current
                self._drop_cache()
                return
            found = self._tail(self._followed)
            if len(found) >= FOLLOW_LIMIT:  # far behind (a bulk import by another process): start afresh
                self._drop_cache()
                return
            cache = self.repository.cache
            assert cache is not None  # noqa: S101 - following needs a cache
            for notification in found:
                cached = self._peek(notification.originator_id)
                if cached is None or notification.originator_version <= cached.version:
                    continue
                if notification.originator_version != cached.version + 1:
                    cache.get(notification.originator_id, evict=True)  # a gap: load it afresh when needed
                    continue
                self.mapper.to_domain_event(notification).mutate(cached)
            if found:
                self._followed = found[-1].id

    def _tail(self, after: int) -> list[Notification]:
        """The events after log position ``after`` (up to FOLLOW_LIMIT), in log order."""
        if self._tail_statement is None:
            return list(self.recorder.select_notifications(after, FOLLOW_LIMIT, inclusive_of_start=False))
        recorder: Any = self.recorder
        with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(self._tail_statement, (after, FOLLOW_LIMIT), prepare=True)
            return [Notification(id=row["notification_id"], originator_id=row["originator_id"],
                                 originator_version=row["originator_version"], topic=row["topic"],
                                 state=bytes(row["state"])) for row in cursor.fetchall()]

    def _drop_cache(self) -> None:
        cache = self.repository.cache
        size = cache.maxsize if isinstance(cache, LRUCache) else 0
        self.repository.cache = LRUCache(maxsize=size) if size > 0 else type(cache)()  # LRUCache.clear keeps the entries
        self._followed = self.recorder.max_notification_id() or 0

    def _peek(self, aggregate_id: UUID) -> Any:
        """The cached aggregate itself (not a copy), without touching its recency; or None."""
        cache = self.repository.cache
        entry = cache.cache.get(aggregate_id) if cache is not None else None
        if entry is None:
            return None
        return entry[LRUCache.RESULT] if isinstance(cache, LRUCache) else entry

    def _keep(self, aggregate: Any, followed: int | None = None) -> None:
        """Cache ``aggregate`` unless the cache holds a newer version of it, or (for one just
        loaded) a catch-up ran since ``followed`` and may have passed over its newer events."""
        cache = self.repository.cache
        if cache is None:
            return
        with self._cache_lock:
            if followed is not None and followed != self._followed:
                return
            cached = self._peek(aggregate.id)
            if cached is None or cached.version <= aggregate.version:
                cache.put(aggregate.id, aggregate)

    def forget(self, aggregates: list[Any]) -> None:
        cache = self.repository.cache
        if cache is not None:
            with self._cache_lock:
                for aggregate in aggregates:
                    if self._peek(aggregate.id) is not None:
                        cache.get(aggregate.id, evict=True)

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """As the library's, but what was written is cached only where it is not older than the cache."""
        recordings = self.events.put(processing_event.events, tracking=processing_event.tracking,
                                     **processing_event.saved_kwargs)
        if self.repository.cache is not None and not self.repository.fastforward:
            for aggregate in processing_event.aggregates.values():
                self._keep(aggregate)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot from the aggregate just saved when it stands at the snapshot's version
        (the library would load it again from the store); otherwise as the library does."""
        intervals = self.snapshotting_intervals or {}
        if not (self.snapshots and intervals):
            return
        for event in processing_event.events:
            aggregate = processing_event.aggregates.get(event.originator_id)
            interval = intervals.get(type(aggregate)) if aggregate is not None else None
            if interval is None or event.originator_version % interval:
                continue
            if aggregate.version == event.originator_version:
                snapshot_class = getattr(type(aggregate), "Snapshot", type(self).snapshot_class)
                self.snapshots.put([snapshot_class.take(aggregate)])
            else:
                self.take_snapshot(event.originator_id, version=event.originator_version)

    @contextmanager
    def batch(self, size: int = 1000) -> Iterator[None]:
        """Bulk work by one writer (replaying a scenario, a migration): commands
        run exactly as usual, but what they change is saved ``size`` aggregates
        at a time, in one transaction each, instead of one transaction per command."""
        self._batch, self._batch_size = {}, size
        try:
            yield
            self._save_batch()
        finally:
            self._batch = None

    def _repeated(self, command: str, request: RequestKey | None) -> Outcome | None:
        """The first answer when this key was handled already (for the same request)."""
        if request is None:
            return None
        handled = self.find(HandledCommand, HandledCommand.id_for(request.key))
        if handled is None:
            return None
        handled.check_same_request(command, request.fingerprint)
        return Outcome(handled.result, None, repeated=True)

    def _handle_in_batch(self, command: str, decide: Callable[[], Decision], request: RequestKey | None) -> Outcome:
        assert self._batch is not None  # noqa: S101 - only called in batch mode
        repeated = self._repeated(command, request)
        if repeated is not None:
            return repeated
        self.catch_up()
        self._current.fresh = True
        try:
            result, aggregates, by = decide()  # works on copies: a refused command leaves the batch as it was
        finally:
            self._current.fresh = False
        if request is not None:
            aggregates.append(HandledCommand(request.key, command, result, by, request.fingerprint))
        for aggregate in aggregates:
            self._batch[aggregate.id] = aggregate
        if len(self._batch) >= self._batch_size:
            self._save_batch()
        return Outcome(result)

    def _save_batch(self) -> None:
        if self._batch:
            pending = list(self._batch.values())
            self.save(*pending)  # _record keeps what it wrote in the cache
            self._batch.clear()

    def warm(self, ids: list[UUID]) -> None:
        """Load many aggregates with one query into the aggregate cache (bulk work)."""
        if self.repository.cache is None or not ids:
            return
        followed = self._followed
        by_id: dict[UUID, Any] = {}
        for stored in self._select_events(ids):
            event = self.mapper.to_domain_event(stored)
            by_id[event.originator_id] = event.mutate(by_id.get(event.originator_id))
        for aggregate in by_id.values():
            self._keep(aggregate, followed if self.following else None)

    def _select_events(self, ids: list[UUID]) -> list[StoredEvent]:
        rows = self._select_by_ids("originator_id, originator_version, topic, state", ids)
        return [StoredEvent(row[0], row[1], row[2], bytes(row[3])) for row in rows]

    def _select_by_ids(self, columns: str, ids: list[UUID], where: str = "TRUE") -> list[tuple[Any, ...]]:
        """Rows of the event table for many aggregates at once, ordered by id and
        version, ids as UUIDs (the library reads one aggregate per query)."""
        if not ids:
            return []
        recorder: Any = self.recorder
        order = "ORDER BY originator_id, originator_version"
        with recorder.datastore.transaction(commit=False) as cursor:
            if type(recorder).__module__ == "eventsourcing.postgres":
                from psycopg.sql import SQL, Identifier

                cursor.execute(SQL(
                    f"SELECT {columns} FROM {{}}.{{}} WHERE originator_id = ANY(%s) AND {where} {order}"
                ).format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)), (ids,))
                return [tuple(row.values()) for row in cursor.fetchall()]
            marks = ",".join("?" * len(ids))
            cursor.execute(
                f"SELECT {columns} FROM {recorder.events_table_name} "  # noqa: S608
                f"WHERE originator_id IN ({marks}) AND {where} {order}",
                [i.hex for i in ids],
            )
            return [(UUID(row[0]), *tuple(row)[1:]) for row in cursor.fetchall()]

    def find(self, cls: type, aggregate_id: UUID) -> Any:
        """A copy of the aggregate to work on (the caller may change it), or None."""
        if self._batch and aggregate_id in self._batch:
            aggregate = deepcopy(self._batch[aggregate_id])
            return aggregate if isinstance(aggregate, cls) else None
        if not self.following:
            try:
                aggregate = self.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
            return aggregate if isinstance(aggregate, cls) else None
        if not getattr(self._current, "fresh", False):  # a query outside a command: catch up now
            self.catch_up()
        with self._cache_lock:
            cached = self._peek(aggregate_id)
            if cached is not None:
                self.repository.cache.get(aggregate_id)  # type: ignore[union-attr]  # recency
                return deepcopy(cached) if isinstance(cached, cls) else None
            followed = self._followed
        aggregate = self._load(cls, aggregate_id)
        if aggregate is None:
            return None
        self._keep(deepcopy(aggregate), followed)
        return aggregate if isinstance(aggregate, cls) else None

    def _load(self, cls: type, aggregate_id: UUID) -> Any:
        """From the store: by the library (snapshot, then events) for a kind that is
        snapshotted, else its events in one query (no snapshot query that finds nothing)."""
        if cls in (self.snapshotting_intervals or {}):
            try:
                return self.repository._reconstruct_aggregate(aggregate_id, None, project_aggregate)  # noqa: SLF001
            except AggregateNotFoundError:
                return None
        aggregate = None
        for stored in self.recorder.select_events(aggregate_id):
            aggregate = self.mapper.to_domain_event(stored).mutate(aggregate)
        return aggregate

    def existing_ids(self, ids: list[UUID]) -> set[UUID]:
        """Which of these aggregates already exist: one query for a whole batch."""
        return {row[0] for row in self._select_by_ids("originator_id", ids, "originator_version = 1")}

    def load(self, cls: type, aggregate_id: UUID, error: type[NotFound], message: str) -> Any:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise error(message)
        return aggregate

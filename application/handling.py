"""Running a command: load, decide, save atomically, retry on a lost race.

Every command goes through ``CommandHandling.handle``: it gives a command an
idempotency key (a repeat returns the first answer and writes nothing) and
turns the event store's optimistic-concurrency conflict into a fresh attempt
on fresh state, so the loser of a race gets the domain's own answer ("already
received", "only 3 vials on hand") rather than a lost update.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, StoredEvent

from application.errors import ConcurrentUpdate, NotFound
from application.access import Access, Caller
from domain.idempotency import HandledCommand
from domain.provenance import Provenance

ATTEMPTS = 5


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


class CommandHandling(Access, Application[UUID]):
    _batch: dict[UUID, Any] | None = None
    _batch_size = 0

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
            repeated = self._repeated(command, request)
            if repeated is not None:
                return repeated
            result, aggregates, by = decide()
            if request is not None:
                aggregates.append(HandledCommand(request.key, command, result, by, request.fingerprint))
            try:
                recordings = self.save(*aggregates)
            except IntegrityError:  # lost a race: a short random pause so the rivals do not collide again
                time.sleep(random.uniform(0, 0.004) * (attempt + 1))
                continue
            self.remember(aggregates)
            position = recordings[-1].notification.id if recordings else None
            return Outcome(result, position)
        msg = "Someone else changed the same records at the same moment, several times over; try again."
        raise ConcurrentUpdate(msg)

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
        result, aggregates, by = decide()  # works on copies: a refused command leaves the batch as it was
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
            self.save(*pending)
            self.remember(pending)
            self._batch.clear()

    def warm(self, ids: list[UUID]) -> None:
        """Load many aggregates with one query into the aggregate cache (bulk work)."""
        cache = self.repository.cache
        if cache is None or not ids:
            return
        by_id: dict[UUID, Any] = {}
        for stored in self._select_events(ids):
            event = self.mapper.to_domain_event(stored)
            by_id[event.originator_id] = event.mutate(by_id.get(event.originator_id))
        for aggregate_id, aggregate in by_id.items():
            cache.put(aggregate_id, aggregate)

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

    def remember(self, aggregates: list[Any]) -> None:
        """Keep what was just written in the aggregate cache: the next command on
        it then reads only newer events (the library caches on load, not on save)."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

    def find(self, cls: type, aggregate_id: UUID) -> Any:
        if self._batch and aggregate_id in self._batch:
            aggregate = deepcopy(self._batch[aggregate_id])
            return aggregate if isinstance(aggregate, cls) else None
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            return None
        return aggregate

    def existing_ids(self, ids: list[UUID]) -> set[UUID]:
        """Which of these aggregates already exist: one query for a whole batch."""
        return {row[0] for row in self._select_by_ids("originator_id", ids, "originator_version = 1")}

    def load(self, cls: type, aggregate_id: UUID, error: type[NotFound], message: str) -> Any:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise error(message)
        return aggregate

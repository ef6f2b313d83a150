"""Running a command: load, decide, save atomically, retry on a lost race.

Every command goes through ``CommandHandling.handle``: it gives a command an
idempotency key (a repeat returns the first answer and writes nothing) and
turns the event store's optimistic-concurrency conflict into a fresh attempt
on fresh state, so the loser of a race gets the domain's own answer ("already
received", "only 3 vials on hand") rather than a lost update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from application.errors import ConcurrentUpdate, NotFound
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


Decision = tuple[dict[str, str], list[Any]]


class CommandHandling(Application[UUID]):
    def handle(
        self,
        command: str,
        by: Provenance,
        decide: Callable[[], Decision],
        key: str | None = None,
    ) -> Outcome:
        for _ in range(ATTEMPTS):
            if key is not None:
                handled = self.find(HandledCommand, HandledCommand.id_for(key))
                if handled is not None:
                    handled.check_same_command(command)
                    return Outcome(handled.result, None, repeated=True)
            result, aggregates = decide()
            if key is not None:
                aggregates.append(HandledCommand(key, command, result, by))
            try:
                recordings = self.save(*aggregates)
            except IntegrityError:
                continue
            self.remember(aggregates)
            position = recordings[-1].notification.id if recordings else None
            return Outcome(result, position)
        msg = "Someone else changed the same records at the same moment, several times over; try again."
        raise ConcurrentUpdate(msg)

    def remember(self, aggregates: list[Any]) -> None:
        """Keep what was just written in the aggregate cache: the next command on
        it then reads only newer events (the library caches on load, not on save)."""
        cache = self.repository.cache
        if cache is not None:
            for aggregate in aggregates:
                cache.put(aggregate.id, aggregate)

    def find(self, cls: type, aggregate_id: UUID) -> Any:
        try:
            aggregate = self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(aggregate, cls):
            return None
        return aggregate

    def existing_ids(self, ids: list[UUID]) -> set[UUID]:
        """Which of these aggregates already exist: one query for a whole batch."""
        if not ids:
            return set()
        recorder: Any = self.recorder
        table = recorder.events_table_name
        with recorder.datastore.transaction(commit=False) as cursor:
            if type(recorder).__module__ == "eventsourcing.postgres":
                from psycopg.sql import SQL, Identifier

                query = SQL(
                    "SELECT originator_id FROM {}.{} WHERE originator_id = ANY(%s) AND originator_version = 1"
                ).format(Identifier(recorder.datastore.schema), Identifier(table))
                cursor.execute(query, (ids,))
                return {row["originator_id"] for row in cursor.fetchall()}
            marks = ",".join("?" * len(ids))
            cursor.execute(
                f"SELECT originator_id FROM {table} WHERE originator_version = 1 "  # noqa: S608
                f"AND originator_id IN ({marks})",
                [i.hex for i in ids],
            )
            return {UUID(row[0]) for row in cursor.fetchall()}

    def load(self, cls: type, aggregate_id: UUID, error: type[NotFound], message: str) -> Any:
        aggregate = self.find(cls, aggregate_id)
        if aggregate is None:
            raise error(message)
        return aggregate

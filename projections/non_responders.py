"""Who has not registered, per district: the field officers' worklist.

A target is on the worklist once the deadline of a blast that messaged them
has passed, or at once when the list gave no phone; registering takes them
off. Field visits and their outcomes are kept beside each entry. No personal
data here: entries are keyed by the recipient's keyed-hash id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.dispatch import singledispatchmethod

from domain.blast import Blast
from domain.recipient import Recipient
from projections.read_model import ReadModel, utc
from projections.rows import PostgresView, ReadModelView, SQLiteView, Table


class NonRespondersView(ReadModelView):
    tables = (
        Table("worklist", {
            "recipient_id": "TEXT", "district": "TEXT", "phase": "INTEGER", "workplace": "TEXT",
            "has_phone": "INTEGER", "targeted_at": "TEXT", "deadline": "TEXT", "registered_at": "TEXT",
            "delivery": "TEXT", "visit_unit": "TEXT", "visit_outcome": "TEXT", "visit_at": "TEXT",
        }, key=("recipient_id",), indexes=(("district", "phase"),)),
        Table("blasts", {"blast_id": "TEXT", "phase": "INTEGER", "deadline": "TEXT"}, key=("blast_id",)),
    )

    def worklist(self, district: str, as_of: datetime, phase: int | None = None,
                 limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Targets in ``district`` not registered by ``as_of``, past their deadline or without a phone."""
        in_phase = "" if phase is None else f"AND phase = {int(phase)} "
        return self.select(
            "SELECT * FROM {worklist} WHERE district = ? " + in_phase
            + "AND (registered_at IS NULL OR registered_at > ?) "
            "AND ((deadline IS NOT NULL AND deadline <= ?) OR has_phone = 0) "
            "ORDER BY targeted_at, recipient_id LIMIT ? OFFSET ?",
            (district, utc(as_of), utc(as_of), limit, offset),
        )

    def outcomes(self, district: str, as_of: datetime) -> dict[str, int]:
        """How many on the worklist, by visit outcome ('' for not visited yet)."""
        rows = self.select(
            "SELECT coalesce(visit_outcome, '') AS outcome, count(*) AS n FROM {worklist} "
            "WHERE district = ? AND (registered_at IS NULL OR registered_at > ?) "
            "AND ((deadline IS NOT NULL AND deadline <= ?) OR has_phone = 0) GROUP BY 1",
            (district, utc(as_of), utc(as_of)),
        )
        return {row["outcome"]: row["n"] for row in rows}


class SQLiteNonRespondersView(SQLiteView, NonRespondersView):
    pass


class PostgresNonRespondersView(PostgresView, NonRespondersView):
    pass


class NonResponders(ReadModel):
    name = "non_responders"
    views = {"sqlite": SQLiteNonRespondersView, "postgres": PostgresNonRespondersView}
    handles = (Recipient.Targeted, Recipient.Registered, Recipient.DeliveryReported,
               Recipient.VisitAssigned, Recipient.VisitReported, Blast.Started, Blast.BatchSent)
    view: NonRespondersView

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def targeted(self, event: Recipient.Targeted) -> None:
        self.changes.put("worklist", (event.originator_id.hex,), district=event.district, phase=event.phase,
                         workplace=event.workplace, has_phone=int(bool(event.phone)),
                         targeted_at=utc(event.by.occurred_at))

    @apply_event.register
    def registered(self, event: Recipient.Registered) -> None:
        self.changes.put("worklist", (event.originator_id.hex,), registered_at=utc(event.by.occurred_at))

    @apply_event.register
    def delivery_reported(self, event: Recipient.DeliveryReported) -> None:
        self.changes.put("worklist", (event.originator_id.hex,), delivery=event.status)

    @apply_event.register
    def visit_assigned(self, event: Recipient.VisitAssigned) -> None:
        self.changes.put("worklist", (event.originator_id.hex,), visit_unit=event.unit.value)

    @apply_event.register
    def visit_reported(self, event: Recipient.VisitReported) -> None:
        self.changes.put("worklist", (event.originator_id.hex,), visit_outcome=event.outcome.value,
                         visit_at=utc(event.by.occurred_at))

    @apply_event.register
    def blast_started(self, event: Blast.Started) -> None:
        self.changes.put("blasts", (event.originator_id.hex,), phase=event.phase, deadline=utc(event.deadline))

    @apply_event.register
    def batch_sent(self, event: Blast.BatchSent) -> None:
        deadline = self.deadline_of(event.originator_id)
        self.changes.put_each("worklist", ((recipient,) for recipient in event.recipients), deadline=deadline)

    def deadline_of(self, blast_id: UUID) -> str:
        pending = self.changes.pending("blasts", (blast_id.hex,))
        if pending:
            return pending["deadline"]
        rows = self.view.select("SELECT deadline FROM {blasts} WHERE blast_id = ?", (blast_id.hex,))
        return rows[0]["deadline"]

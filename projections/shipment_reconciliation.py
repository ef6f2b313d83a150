"""Shipments reconciled: per line, vials dispatched vs accepted vs rejected
(with the reason) vs short, and the shipments never received."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.shipment import Shipment
from projections.read_model import ReadModel, utc
from projections.rows import PostgresView, ReadModelView, SQLiteView, Table


class ShipmentReconciliationView(ReadModelView):
    tables = (
        Table("lines", {"shipment_id": "TEXT", "lot_key": "TEXT", "sscc": "TEXT", "origin": "TEXT",
                        "destination": "TEXT", "gtin": "TEXT", "lot_number": "TEXT", "dispatched": "BIGINT",
                        "accepted": "BIGINT", "rejected": "BIGINT", "reason": "TEXT", "vvm_stage": "INTEGER"},
              key=("shipment_id", "lot_key")),
        Table("status", {"shipment_id": "TEXT", "status": "TEXT", "dispatched_at": "TEXT",
                         "received_at": "TEXT"}, key=("shipment_id",)),
    )

    def lines(self) -> list[dict[str, Any]]:
        """Each dispatched line; ``short`` = dispatched − accepted − rejected once received."""
        rows = self.select(
            "SELECT l.sscc, l.origin, l.destination, l.gtin, l.lot_number, l.dispatched, l.accepted, "
            "l.rejected, l.reason, l.vvm_stage, s.status, s.dispatched_at, s.received_at "
            "FROM {lines} l JOIN {status} s ON s.shipment_id = l.shipment_id "
            "WHERE s.status IN ('dispatched', 'received') ORDER BY s.dispatched_at, l.sscc, l.lot_key")
        for row in rows:
            received = row["status"] == "received"
            row["short"] = row["dispatched"] - row["accepted"] - row["rejected"] if received else None
        return rows

    def never_received(self) -> list[dict[str, Any]]:
        return [row for row in self.lines() if row["status"] == "dispatched"]


class SQLiteShipmentReconciliationView(SQLiteView, ShipmentReconciliationView):
    pass


class PostgresShipmentReconciliationView(PostgresView, ShipmentReconciliationView):
    pass


class ShipmentReconciliation(ReadModel):
    name = "shipment_reconciliation"
    views = {"sqlite": SQLiteShipmentReconciliationView, "postgres": PostgresShipmentReconciliationView}
    handles = (Shipment.Packed, Shipment.Dispatched, Shipment.Received, Shipment.ReceiptCorrected, Shipment.Cancelled)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def packed(self, event: Shipment.Packed) -> None:
        for line in event.lines:
            self.changes.put("lines", (event.originator_id.hex, line.lot_key), sscc=event.sscc,
                             origin=event.origin, destination=event.destination, gtin=line.gtin,
                             lot_number=line.lot_number, dispatched=line.vials, accepted=0, rejected=0)
        self.changes.put("status", (event.originator_id.hex,), status="packed")

    @apply_event.register
    def dispatched(self, event: Shipment.Dispatched) -> None:
        self.changes.put("status", (event.originator_id.hex,), status="dispatched",
                         dispatched_at=utc(event.by.occurred_at))

    @apply_event.register
    def received(self, event: Shipment.Received) -> None:
        """A lot counted in several parts is one line here: the parts added up, their reasons
        joined, the worst VVM stage recorded."""
        self.count_lines(event)
        self.changes.put("status", (event.originator_id.hex,), status="received",
                         received_at=utc(event.by.occurred_at))

    @apply_event.register
    def receipt_corrected(self, event: Shipment.ReceiptCorrected) -> None:
        """A recount replaces the receipt's figures (the history keeps both)."""
        self.count_lines(event)

    def count_lines(self, event: Any) -> None:
        parts: dict[str, list[Any]] = {}
        for line in event.lines:
            parts.setdefault(line.lot_key, []).append(line)
        for lot_key, counted in parts.items():
            stages = [part.vvm_stage for part in counted if part.vvm_stage is not None]
            reasons = "; ".join(dict.fromkeys(part.reason for part in counted if part.reason))
            self.changes.put("lines", (event.originator_id.hex, lot_key), accepted=sum(p.accepted for p in counted),
                             rejected=sum(p.rejected for p in counted), reason=reasons,
                             vvm_stage=max(stages) if stages else None)

    @apply_event.register
    def cancelled(self, event: Shipment.Cancelled) -> None:
        self.changes.put("status", (event.originator_id.hex,), status="cancelled")

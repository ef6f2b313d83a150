"""Where is each shipment, who holds it, for how long, and did it stay cold?"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.shipment import Shipment
from projections.read_model import ReadModel, utc
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

OVERDUE_AFTER_DAYS = 3


class ShipmentsView(ReadModelView):
    tables = (Table("shipments", {
        "shipment_id": "TEXT", "sscc": "TEXT", "origin": "TEXT", "destination": "TEXT", "status": "TEXT", "holder": "TEXT",
        "vials": "BIGINT", "packed_at": "TEXT", "dispatched_at": "TEXT", "received_at": "TEXT",
        "readings": COUNTER, "excursions": COUNTER, "arrival_celsius": "TEXT",
    }, key=("shipment_id",), indexes=(("status",), ("destination",), ("sscc",))),)

    def shipments(self, status: str | None = None, facility: str | None = None) -> list[dict[str, Any]]:
        clauses, params = [], []
        if status:
            clauses.append("status = ?")
            params.append(status)
        if facility:
            clauses.append("(origin = ? OR destination = ?)")
            params += [facility, facility]
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        return self.select(f"SELECT * FROM {{shipments}} {where} ORDER BY packed_at, sscc", params)

    def in_transit(self, as_of: datetime, overdue_after_days: int = OVERDUE_AFTER_DAYS) -> list[dict[str, Any]]:
        """Dispatched and not yet received, with hours in transit and whether it is overdue."""
        rows = self.shipments(status="dispatched")
        for row in rows:
            hours = (as_of - datetime.fromisoformat(row["dispatched_at"])) / timedelta(hours=1)
            row["hours_in_transit"] = round(hours, 1)
            row["overdue"] = hours > overdue_after_days * 24
        return rows


class SQLiteShipmentsView(SQLiteView, ShipmentsView):
    pass


class PostgresShipmentsView(PostgresView, ShipmentsView):
    pass


class Shipments(ReadModel):
    name = "shipments"
    views = {"sqlite": SQLiteShipmentsView, "postgres": PostgresShipmentsView}
    handles = (Shipment.Packed, Shipment.Dispatched, Shipment.Received, Shipment.Cancelled,
               Shipment.TemperatureRecorded, Shipment.HandedOver)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def packed(self, event: Shipment.Packed) -> None:
        self.changes.put("shipments", self.key(event), sscc=event.sscc, origin=event.origin, destination=event.destination,
                         status="packed", holder=event.origin, vials=sum(line.vials for line in event.lines),
                         packed_at=utc(event.by.occurred_at))

    @apply_event.register
    def dispatched(self, event: Shipment.Dispatched) -> None:
        self.changes.put("shipments", self.key(event), status="dispatched", holder="in transit",
                         dispatched_at=utc(event.by.occurred_at))

    @apply_event.register
    def received(self, event: Shipment.Received) -> None:
        self.changes.put("shipments", self.key(event), status="received", holder=event.by.facility,
                         received_at=utc(event.by.occurred_at), arrival_celsius=str(event.arrival_celsius))
        self.changes.add("shipments", self.key(event), excursions=int(event.excursion))

    @apply_event.register
    def cancelled(self, event: Shipment.Cancelled) -> None:
        self.changes.put("shipments", self.key(event), status="cancelled")

    @apply_event.register
    def temperature_recorded(self, event: Shipment.TemperatureRecorded) -> None:
        self.changes.add("shipments", self.key(event), readings=1, excursions=int(event.excursion))

    @staticmethod
    def key(event: Any) -> tuple[str]:
        return (event.originator_id.hex,)

    @apply_event.register
    def handed_over(self, event: Shipment.HandedOver) -> None:
        self.changes.put("shipments", self.key(event), holder=event.holder)

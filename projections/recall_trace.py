"""Where is this lot now, and who was vaccinated from it? The recall trace.

Per lot: its status; the doses on hand per facility, usable and quarantined
apart; the shipments carrying it and where they are; the doses given per
facility and day; the recipients vaccinated from it (their keyed ids only:
no personal data here); and the AEFI reports on it. Every answer is one
indexed query per table, so a lot given to 100,000 people answers in
milliseconds.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.lot import Lot
from domain.recipient import Recipient
from domain.shipment import Shipment
from projections.read_model import ReadModel, utc
from projections.stock_movements import STOCK_EVENTS, StockEvent, movement_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table


def lot_key(gtin: str, lot_number: str) -> str:
    return f"{gtin}/{lot_number}"


class RecallTraceView(ReadModelView):
    tables = (
        Table("lots", {"lot_id": "TEXT", "lot_key": "TEXT", "gtin": "TEXT", "lot_number": "TEXT", "expiry": "TEXT",
                       "doses_per_vial": "INTEGER", "status": "TEXT", "reference": "TEXT"}, key=("lot_id",),
              indexes=(("lot_key",),)),
        Table("on_hand", {"lot_key": "TEXT", "facility": "TEXT", "usable_doses": COUNTER,
                          "quarantined_doses": COUNTER}, key=("lot_key", "facility")),
        Table("carried", {"lot_key": "TEXT", "shipment_id": "TEXT", "vials": "BIGINT"},
              key=("lot_key", "shipment_id")),
        Table("shipments", {"shipment_id": "TEXT", "sscc": "TEXT", "origin": "TEXT", "destination": "TEXT",
                            "status": "TEXT", "holder": "TEXT", "at": "TEXT"}, key=("shipment_id",)),
        Table("given", {"lot_key": "TEXT", "facility": "TEXT", "day": "TEXT", "doses": COUNTER},
              key=("lot_key", "facility", "day")),
        Table("recipients", {"lot_key": "TEXT", "recipient_id": "TEXT", "facility": "TEXT", "day": "TEXT",
                             "doses": COUNTER}, key=("lot_key", "recipient_id")),
        Table("aefi", {"lot_key": "TEXT", "severity": "TEXT", "reports": COUNTER}, key=("lot_key", "severity")),
        Table("totals", {"lot_key": "TEXT", "recipients": COUNTER}, key=("lot_key",)),
    )

    def trace(self, gtin: str, lot_number: str, today: str) -> dict[str, Any] | None:
        """The trace of one lot (``today``: the day its expiry is judged on), or None if unknown."""
        key = lot_key(gtin, lot_number)
        found = self.select("SELECT * FROM {lots} WHERE lot_key = ?", (key,))
        if not found:
            return None
        lot = found[0]
        status = lot["status"]
        if status == "released" and lot["expiry"] and lot["expiry"] <= today:
            status = "expired"
        on_hand = self.select(
            "SELECT facility, usable_doses, quarantined_doses FROM {on_hand} WHERE lot_key = ? "
            "AND (usable_doses <> 0 OR quarantined_doses <> 0) ORDER BY facility", (key,))
        in_transit = self.select(
            "SELECT s.sscc, s.origin, s.destination, s.holder, c.vials FROM {carried} c "
            "JOIN {shipments} s ON s.shipment_id = c.shipment_id "
            "WHERE c.lot_key = ? AND s.status = 'dispatched' ORDER BY s.sscc", (key,))
        given = self.select("SELECT facility, day, doses FROM {given} WHERE lot_key = ? AND doses <> 0 "
                            "ORDER BY facility, day", (key,))
        recipients = self.select("SELECT recipients AS n FROM {totals} WHERE lot_key = ?", (key,))
        aefi = self.select("SELECT severity, reports FROM {aefi} WHERE lot_key = ? ORDER BY severity", (key,))
        return {
            "gtin": gtin, "lot": lot_number, "status": status, "expiry": lot["expiry"],
            "reference": lot["reference"], "on_hand": on_hand, "in_transit": in_transit,
            "doses_given": sum(row["doses"] for row in given), "given": given,
            "recipients": recipients[0]["n"] if recipients else 0,
            "aefi": sum(row["reports"] for row in aefi), "aefi_by_severity": aefi,
        }

    def recipients_of(self, gtin: str, lot_number: str, limit: int, offset: int) -> list[dict[str, Any]]:
        return self.select(
            "SELECT recipient_id, facility, day FROM {recipients} WHERE lot_key = ? AND doses > 0 "
            "ORDER BY recipient_id LIMIT ? OFFSET ?", (lot_key(gtin, lot_number), limit, offset))


class SQLiteRecallTraceView(SQLiteView, RecallTraceView):
    pass


class PostgresRecallTraceView(PostgresView, RecallTraceView):
    pass


class RecallTrace(ReadModel):
    name = "recall_trace"
    views = {"sqlite": SQLiteRecallTraceView, "postgres": PostgresRecallTraceView}
    handles = (Lot.Released, Lot.Quarantined, Lot.ReleasedFromQuarantine, Lot.Recalled,
               *STOCK_EVENTS,
               Shipment.Packed, Shipment.Dispatched, Shipment.Received, Shipment.Cancelled, Shipment.HandedOver,
               Recipient.Vaccinated, Recipient.DoseVoided, Recipient.AefiReported)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    # the lot's status

    @apply_event.register
    def released(self, event: Lot.Released) -> None:
        self.changes.put("lots", (event.originator_id.hex,), lot_key=lot_key(event.gtin, event.lot_number),
                         gtin=event.gtin, lot_number=event.lot_number, expiry=event.expiry.isoformat(),
                         doses_per_vial=event.doses_per_vial, status="released", reference="")

    def status(self, event: Any, status: str, reference: str = "") -> None:
        self.changes.put("lots", (event.originator_id.hex,), status=status, reference=reference)

    @apply_event.register
    def quarantined(self, event: Lot.Quarantined) -> None:
        self.status(event, "quarantined", event.reference)

    @apply_event.register
    def lifted(self, event: Lot.ReleasedFromQuarantine) -> None:
        self.status(event, "released")

    @apply_event.register
    def recalled(self, event: Lot.Recalled) -> None:
        self.status(event, "recalled", event.reference)

    # stock on hand, usable and quarantined

    @apply_event.register
    def moved(self, event: StockEvent) -> None:
        movement = movement_of(event)
        self.changes.add("on_hand", (movement.lot_key, event.facility), usable_doses=movement.usable,
                         quarantined_doses=movement.quarantined)

    # shipments carrying it

    @apply_event.register
    def packed(self, event: Shipment.Packed) -> None:
        shipment = event.originator_id.hex
        for line in event.lines:
            self.changes.put("carried", (line.lot_key, shipment), vials=line.vials)
        self.changes.put("shipments", (shipment,), sscc=event.sscc, origin=event.origin,
                         destination=event.destination, status="packed", holder=event.origin,
                         at=utc(event.by.occurred_at))

    @apply_event.register
    def dispatched(self, event: Shipment.Dispatched) -> None:
        self.changes.put("shipments", (event.originator_id.hex,), status="dispatched", holder=event.by.actor,
                         at=utc(event.by.occurred_at))

    @apply_event.register
    def shipment_received(self, event: Shipment.Received) -> None:
        self.changes.put("shipments", (event.originator_id.hex,), status="received", holder=event.by.facility,
                         at=utc(event.by.occurred_at))

    @apply_event.register
    def handed_over(self, event: Shipment.HandedOver) -> None:
        self.changes.put("shipments", (event.originator_id.hex,), holder=event.holder)

    @apply_event.register
    def cancelled(self, event: Shipment.Cancelled) -> None:
        self.changes.put("shipments", (event.originator_id.hex,), status="cancelled")

    # doses given and who got them

    @apply_event.register
    def vaccinated(self, event: Recipient.Vaccinated) -> None:
        key = lot_key(event.gtin, event.lot_number)
        self.changes.add("given", (key, event.facility, event.day.isoformat()), doses=1)
        self.changes.put("recipients", (key, event.originator_id.hex), facility=event.facility,
                         day=event.day.isoformat())
        self.changes.add("recipients", (key, event.originator_id.hex), doses=1)
        if event.new_to_lot:
            self.changes.add("totals", (key,), recipients=1)

    @apply_event.register
    def dose_voided(self, event: Recipient.DoseVoided) -> None:
        key = lot_key(event.gtin, event.lot_number)
        self.changes.add("given", (key, event.facility, event.day.isoformat()), doses=-1)
        self.changes.add("recipients", (key, event.originator_id.hex), doses=-1)
        if event.new_to_lot:
            self.changes.add("totals", (key,), recipients=-1)

    @apply_event.register
    def aefi(self, event: Recipient.AefiReported) -> None:
        self.changes.add("aefi", (lot_key(event.gtin, event.lot_number), event.severity.value), reports=1)

"""Logistics use cases: lots, shipments and stock cards.

All of Rantai's aggregates live in one eventsourcing application (one event
table) because the atomic commands span them: dispatch (shipment + origin
ledger), receipt (shipment + destination ledger) and a dose (recipient +
facility ledger). Two applications cannot share one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar
from eventsourcing.persistence import JSONTranscoder

from application.errors import (
    AlreadyExists,
    Forbidden,
    NotFound,
    FacilityNotFound,
    LotNotFound,
    ShipmentNotFound,
)
from application.access import CAMPAIGN, Caller
from application.handling import CommandHandling, Decision, Outcome, RequestKey
from application.identifiers import new_sscc, parse_gtin, parse_sscc
from application.transcodings import register_domain_transcodings
from domain.blast import Blast
from domain.facility import Facility, FacilityKind
from domain.lot import Lot, LotError
from domain.shipment import ReceiptLine, Shipment, ShipmentLine
from domain.stock_ledger import StockLedger, WastageReason

NATIONAL_WAREHOUSE = "BIOFARMA"
DEFAULT_COMPANY_PREFIX = "8992806"


def _by_lot(parts: list[ReceiptLine]) -> dict[str, list[ReceiptLine]]:
    grouped: dict[str, list[ReceiptLine]] = {}
    for part in parts:
        grouped.setdefault(part.lot_key, []).append(part)
    return grouped


def shipment_returning(shipment: Shipment) -> bool:
    return bool(getattr(shipment, "returning", False))  # shipments packed before returns were recorded: onward


class Logistics(CommandHandling):
    name = "campaign"
    # A busy store's ledger and a large blast (one event per 1,000 messages) load from snapshots.
    snapshotting_intervals: ClassVar[dict[type, int]] = {StockLedger: 10, Blast: 20}  # a card as of any version: at most 9 events past a snapshot

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_domain_transcodings(transcoder)

    @property
    def company_prefix(self) -> str:
        return self.env.get("GS1_COMPANY_PREFIX") or DEFAULT_COMPANY_PREFIX

    # Facilities

    def register_facility(
        self, code: str, name: str, kind: FacilityKind, parent: str | None, caller: Caller
    ) -> Outcome:
        def decide() -> Decision:
            by = self.acting("register_facility", caller, parent or CAMPAIGN)
            if self.find(Facility, Facility.id_for(code)) is not None:
                raise AlreadyExists(f"Facility {code} is already registered.")
            parent_facility = self.get_facility(parent) if parent else None
            facility = Facility.register(code, name, kind, parent_facility, by)
            return {"code": code}, [facility, StockLedger(code, by)], by

        return self.handle("register_facility", caller, decide)

    def register_facilities(
        self, rows: Iterable[tuple[str, str, FacilityKind, str | None]], caller: Caller,
        batch_size: int = 500,
    ) -> int:
        """Bulk load (reference data): parents before children; known codes skipped."""
        by = self.acting("register_facility", caller, CAMPAIGN)
        known: dict[str, Facility] = {}
        batch: list[Facility] = []
        created = 0
        for code, name, kind, parent in rows:
            if code in known or Facility.id_for(code) in self.repository:
                continue
            parent_facility = (known.get(parent) or self.get_facility(parent)) if parent else None
            facility = Facility.register(code, name, kind, parent_facility, by)
            known[code] = facility
            batch += [facility, StockLedger(code, by)]
            if len(batch) >= batch_size:
                self.save(*batch)
                created += len(batch) // 2
                batch = []
        if batch:
            self.save(*batch)
            created += len(batch) // 2
        return created

    def get_facility(self, code: str) -> Facility:
        return self.load(
            Facility, Facility.id_for(code), FacilityNotFound,
            f"No facility has the code {code!r}: check the code on the facility list.",
        )

    # Lots

    def release_lot(
        self, gtin: str, lot_number: str, expiry: date, product: str, doses_per_vial: int,
        manufacturer: str, vials: int, caller: Caller, key: RequestKey | str | None = None,
    ) -> Outcome:
        """Release a new lot into the national warehouse's stock."""
        gtin = parse_gtin(gtin)

        def decide() -> Decision:
            by = self.acting("release_lot", caller, NATIONAL_WAREHOUSE)
            if self.find(Lot, Lot.id_for(gtin, lot_number)) is not None:
                raise AlreadyExists(f"Lot {lot_number} of GTIN {gtin} was already released.")
            lot = Lot.release(gtin, lot_number, expiry, product, doses_per_vial, manufacturer, by)
            ledger = self.get_stock(NATIONAL_WAREHOUSE)
            ledger.receive(lot, vials, "release", by)
            return {"gtin": gtin, "lot_number": lot_number}, [lot, ledger], by

        return self.handle("release_lot", caller, decide, key, (gtin, lot_number, expiry, vials))

    def quarantine_lot(self, gtin: str, lot_number: str, reason: str, caller: Caller, reference: str = "") -> Outcome:
        """Hold a lot everywhere (a BPOM notice as reference): it may not move onward or be given."""
        return self._change_lot(gtin, lot_number, caller, lambda lot, by: lot.quarantine(reason, reference, by))

    def release_lot_from_quarantine(self, gtin: str, lot_number: str, caller: Caller, reason: str = "") -> Outcome:
        return self._change_lot(gtin, lot_number, caller, lambda lot, by: lot.release_from_quarantine(reason, by))

    def recall_lot(self, gtin: str, lot_number: str, reason: str, caller: Caller, reference: str = "") -> Outcome:
        """Recall a lot everywhere at once: it can only travel back towards Bio Farma."""
        return self._change_lot(gtin, lot_number, caller, lambda lot, by: lot.recall(reason, reference, by))

    def _change_lot(self, gtin: str, lot_number: str, caller: Caller, change: Any) -> Outcome:
        def decide() -> Decision:
            by = self.acting("change_lot", caller, NATIONAL_WAREHOUSE)
            lot = self.get_lot(gtin, lot_number)
            change(lot, by)
            return {"gtin": lot.gtin, "lot_number": lot_number}, [lot], by

        return self.handle("change_lot", caller, decide)

    def get_lot(self, gtin: str, lot_number: str) -> Lot:
        gtin = parse_gtin(gtin)
        return self.load(
            Lot, Lot.id_for(gtin, lot_number), LotNotFound,
            f"Lot {lot_number} of GTIN {gtin} is not known: check the lot number on the vial.",
        )

    def has_lot(self, gtin: str, lot_number: str) -> bool:
        return self.find(Lot, Lot.id_for(parse_gtin(gtin), lot_number)) is not None

    def get_lot_by_key(self, lot_key: str) -> Lot:
        gtin, lot_number = lot_key.split("/", 1)
        return self.get_lot(gtin, lot_number)

    # Shipments

    def pack(
        self, origin: str, destination: str, lines: list[ShipmentLine], caller: Caller,
        key: RequestKey | str | None = None, override_reason: str = "",
    ) -> Outcome:
        """Pack a shipment under a new SSCC label; stock moves at dispatch. Onward, only
        usable lots, earliest expiry first unless a reason is given; a return one level
        up the chain may carry any lot, and quarantined vials."""
        lines = [ShipmentLine(parse_gtin(line.gtin), line.lot_number, line.vials, None, line.quarantined)
                 for line in lines]

        def decide() -> Decision:
            source = self.get_facility(origin)
            by = self.acting("pack", caller, source.code)
            target = self.get_facility(destination)
            source.check_may_ship_to(target)
            returning = source.parent == target.code
            ledger = self.get_stock(origin)
            emptied = self._emptied_by(lines, ledger)
            packed = []
            for line in lines:
                lot = self.get_lot(line.gtin, line.lot_number)
                lot.check_movable(by.day, returning)
                if not returning:
                    unusable = frozenset(k for k in ledger.lots if not self._is_usable(self.get_lot_by_key(k), by.day))
                    earlier = ledger.earlier_lots(lot, unusable | emptied)
                    Shipment.check_earliest_expiry_first(line, earlier, override_reason)
                ledger.check_available(lot, line.vials * lot.doses_per_vial, line.quarantined)
                packed.append(ShipmentLine(lot.gtin, lot.lot_number, line.vials, lot.expiry, line.quarantined))
            sscc = new_sscc(self.company_prefix)
            shipment = Shipment.pack(sscc, origin, destination, packed, by, returning, override_reason)
            return {"sscc": sscc}, [shipment], by

        return self.handle("pack", caller, decide, key, (origin, destination, lines, override_reason))

    def _emptied_by(self, lines: list[ShipmentLine], ledger: StockLedger) -> frozenset[str]:
        """Lots this shipment takes every usable dose of: packing a later lot beside them is
        earliest expiry first (all of lot A and part of lot B, as the pick list proposes)."""
        taking: dict[str, int] = {}
        for line in lines:
            if not line.quarantined:
                lot = self.get_lot(line.gtin, line.lot_number)
                taking[lot.key] = taking.get(lot.key, 0) + line.vials * lot.doses_per_vial
        return frozenset(key for key, doses in taking.items() if doses >= ledger.doses_of(key))

    def dispatch(self, sscc: str, caller: Caller, key: RequestKey | str | None = None) -> Outcome:
        """Scan out: the shipment leaves and its vials leave the origin's stock card."""
        sscc = parse_sscc(sscc)

        def decide() -> Decision:
            shipment = self.get_shipment(sscc)
            by = self.acting("dispatch", caller, shipment.origin,
                             f"this shipment leaves from {shipment.origin}")
            shipment.dispatch(by)
            ledger = self.get_stock(shipment.origin)
            for line in shipment.lines:
                ledger.issue(self.get_lot(line.gtin, line.lot_number), line.vials, sscc, by,
                             returning=shipment_returning(shipment), quarantined=line.quarantined)
            return {"sscc": sscc}, [shipment, ledger], by

        return self.handle("dispatch", caller, decide, key, sscc)

    def receive(
        self, sscc: str, lines: list[ReceiptLine], arrival_celsius: Decimal, caller: Caller,
        key: RequestKey | str | None = None,
    ) -> Outcome:
        """Scan in and count at the shipment's destination: accepted vials of a usable lot
        enter its stock card; rejected ones (and a return's unusable lots) enter it as
        quarantined stock, so the card always balances."""
        sscc = parse_sscc(sscc)

        def decide() -> Decision:
            shipment = self.get_shipment(sscc)
            by = self.acting("receive", caller, shipment.destination,
                             f"this shipment is addressed to {shipment.destination}")
            shipment.receive(lines, arrival_celsius, by)
            ledger = self.get_stock(shipment.destination)
            for part in shipment.receipt:
                lot = self.get_lot(part.gtin, part.lot_number)
                if part.accepted > 0:
                    lot.check_usable(by.day)  # an unusable lot is counted as rejected: it goes to quarantine
                    ledger.receive(lot, part.accepted, sscc, by)
                if part.rejected > 0:
                    ledger.hold_in_quarantine(lot, part.rejected, part.reason, sscc, by)
            return {"sscc": sscc}, [shipment, ledger], by

        return self.handle("receive", caller, decide, key, (sscc, lines, arrival_celsius))

    def hand_over(self, sscc: str, carrier: str, vehicle: str, place: str, caller: Caller) -> Outcome:
        """A courier, driver or store on the way takes the box over (acts where the caller
        works: its own facility, or the shipment's origin for a national courier)."""
        sscc = parse_sscc(sscc)

        def decide() -> Decision:
            shipment = self.get_shipment(sscc)
            where = shipment.origin if caller.scope == "national" or caller.is_operator else caller.scope
            by = self.acting("hand_over", caller, where)
            shipment.hand_over(carrier, vehicle, place, by)
            return {"sscc": sscc, "holder": shipment.holder}, [shipment], by

        return self.handle("hand_over", caller, decide)

    def correct_receipt(self, sscc: str, lines: list[ReceiptLine], reason: str, caller: Caller) -> Outcome:
        """A receipt counted wrongly: the recount replaces it in every report, the
        differences enter the destination's card (usable and quarantined apart), and the
        history keeps both, the correction naming the receipt it corrects."""
        sscc = parse_sscc(sscc)

        def decide() -> Decision:
            shipment = self.get_shipment(sscc)
            by = self.acting("correct_receipt", caller, shipment.destination,
                             f"this shipment was received at {shipment.destination}")
            before = {key: (sum(p.accepted for p in parts), sum(p.rejected for p in parts))
                      for key, parts in _by_lot(shipment.receipt).items()}
            shipment.correct_receipt(lines, reason, by)
            ledger = self.get_stock(shipment.destination)
            for key, parts in _by_lot(shipment.receipt).items():
                accepted, rejected = sum(p.accepted for p in parts), sum(p.rejected for p in parts)
                was_accepted, was_rejected = before.get(key, (0, 0))
                if (accepted, rejected) != (was_accepted, was_rejected):
                    lot = self.get_lot_by_key(key)
                    if accepted > was_accepted:
                        lot.check_usable(by.day)
                    ledger.correct_receipt(lot, accepted - was_accepted, rejected - was_rejected, reason, sscc, by)
            return {"sscc": sscc}, [shipment, ledger], by

        return self.handle("correct_receipt", caller, decide)

    def correct_wastage(self, facility: str, version: int, correct_doses: int, reason: str,
                        caller: Caller) -> Outcome:
        """A wastage entry (``version`` on the facility's card) recorded with the wrong number of doses."""

        def decide() -> Decision:
            by = self.acting("record_wastage", caller, self.get_facility(facility).code)
            ledger = self.get_stock(facility)
            wasted = self.entry_of(ledger, version, StockLedger.Wasted)
            lot = self.get_lot(wasted.gtin, wasted.lot_number)
            ledger.correct_wastage(lot, version, wasted.doses, correct_doses, reason, by)
            return {"facility": facility, "corrects": str(version)}, [ledger], by

        return self.handle("correct_wastage", caller, decide)

    def entry_of(self, aggregate: Any, version: int, kind: type) -> Any:
        """The event at ``version`` of an aggregate, if it is of ``kind`` (what a correction names)."""
        found = list(self.repository.event_store.get(aggregate.id, gt=version - 1, lte=version)) if version > 0 else []
        if not found or not isinstance(found[0], kind):
            raise NotFound(f"Entry {version} of that card is not a {kind.__name__.lower()} entry.")
        return found[0]

    def cancel(self, sscc: str, reason: str, caller: Caller) -> Outcome:
        return self._change_shipment(sscc, caller, "cancel", lambda s: s.origin,
                                     lambda shipment, by: shipment.cancel(reason, by))

    def record_temperature(self, sscc: str, celsius: Decimal, caller: Caller) -> Outcome:
        """A reading in transit, by the sender or the receiver."""
        return self._change_shipment(
            sscc, caller, "record_temperature", self._end_in_scope(caller),
            lambda shipment, by: shipment.record_temperature(celsius, by),
        )

    def _end_in_scope(self, caller: Caller) -> Any:
        """The receiver's end when the caller may act there, else the sender's."""

        def end(shipment: Shipment) -> str:
            try:
                self.check_permission("record_temperature", caller, shipment.destination)
            except Forbidden:
                return shipment.origin
            return shipment.destination

        return end

    def _change_shipment(self, sscc: str, caller: Caller, name: str, where: Any, change: Any) -> Outcome:
        sscc = parse_sscc(sscc)

        def decide() -> Decision:
            shipment = self.get_shipment(sscc)
            by = self.acting(name, caller, where(shipment))
            change(shipment, by)
            return {"sscc": sscc}, [shipment], by

        return self.handle(name, caller, decide)

    def shipment_for(self, sscc: str, caller: Caller) -> Shipment:
        """A shipment for someone who may see it: at its origin or its destination."""
        shipment = self.get_shipment(sscc)
        self.check_readable(caller, "read_logistics", shipment.origin, shipment.destination)
        return shipment

    def get_shipment(self, sscc: str) -> Shipment:
        sscc = parse_sscc(sscc)
        return self.load(
            Shipment, Shipment.id_for(sscc), ShipmentNotFound,
            f"No shipment has the label {sscc}: check that the label belongs to this campaign.",
        )

    # Stock cards

    def record_wastage(
        self, facility: str, gtin: str, lot_number: str, doses: int, reason: WastageReason,
        note: str, caller: Caller, key: RequestKey | str | None = None, quarantined: bool = False,
    ) -> Outcome:
        """Doses lost from the usable stock, or quarantined vials destroyed (``quarantined``)."""

        def decide() -> Decision:
            by = self.acting("record_wastage", caller, self.get_facility(facility).code)
            ledger = self.get_stock(facility)
            ledger.waste(self.get_lot(gtin, lot_number), doses, reason, note, by, quarantined)
            return {"facility": facility}, [ledger], by

        return self.handle("record_wastage", caller, decide, key,
                           (facility, gtin, lot_number, doses, reason, quarantined))

    def record_count(
        self, facility: str, gtin: str, lot_number: str, vials: int, caller: Caller,
        loose_doses: int = 0, key: RequestKey | str | None = None,
    ) -> Outcome:
        """A physical count: the difference is recorded as an adjustment."""

        def decide() -> Decision:
            by = self.acting("record_count", caller, self.get_facility(facility).code)
            ledger = self.get_stock(facility)
            lot = self.get_lot(gtin, lot_number)
            difference = ledger.count(lot, vials * lot.doses_per_vial + loose_doses, by)
            return {"facility": facility, "difference_doses": str(difference)}, [ledger], by

        return self.handle("record_count", caller, decide, key, (facility, gtin, lot_number, vials, loose_doses))

    def stock_for(self, facility: str, caller: Caller) -> StockLedger:
        self.check_readable(caller, "read_logistics", self.get_facility(facility).code)
        return self.get_stock(facility)

    def suggest_lots(self, facility: str, gtin: str, vials: int, on: date) -> list[tuple[str, int]]:
        """Lots to pack, earliest expiry first, skipping quarantined or recalled ones."""
        ledger = self.get_stock(facility)
        gtin = parse_gtin(gtin)
        held = frozenset(
            key for key in ledger.lots
            if key.startswith(gtin) and not self._is_usable(self.get_lot_by_key(key), on)
        )
        return ledger.suggest_lots(gtin, vials, on, exclude=held)

    @staticmethod
    def _is_usable(lot: Lot, on: date) -> bool:
        try:
            lot.check_usable(on)
        except LotError:
            return False
        return True

    def get_stock(self, facility: str) -> StockLedger:
        """The facility's stock card, opened when the facility was registered."""
        ledger = self.find(StockLedger, StockLedger.id_for(facility))
        if ledger is None:
            self.get_facility(facility)  # raises FacilityNotFound with a clear message
            msg = f"Facility {facility} has no stock card."
            raise FacilityNotFound(msg)
        return ledger

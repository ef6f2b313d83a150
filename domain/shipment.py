"""Shipments: packed, dispatched and received once, at the right place."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from decimal import Decimal
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.bounds import MAX_LINES, MAX_VIALS_PER_LINE, check_celsius, check_lot_number, check_quantity, clean_text
from domain.errors import InvalidQuantity, RuleBroken
from domain.provenance import Provenance

COLD_CHAIN_MIN = Decimal(2)
COLD_CHAIN_MAX = Decimal(8)


def is_excursion(celsius: Decimal) -> bool:
    return not COLD_CHAIN_MIN <= celsius <= COLD_CHAIN_MAX


class ShipmentStatus(Enum):
    PACKED = "packed"
    DISPATCHED = "dispatched"
    RECEIVED = "received"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ShipmentLine:
    """A lot on a shipment, with its expiry (so the label and every card can be read
    without a lookup; lines packed before expiries were recorded have none) and
    whether its vials come from the quarantined part of the card (a return)."""

    gtin: str
    lot_number: str
    vials: int
    expiry: date | None = None
    quarantined: bool = False

    @property
    def lot_key(self) -> str:
        return f"{self.gtin}/{self.lot_number}"


@dataclass(frozen=True)
class ReceiptLine:
    """What the receiver counted of one part of a line: a lot's vials may arrive in
    different states, so a line may be counted in several parts, each with its own
    count, VVM stage and decision. Over all parts: accepted + rejected + short = sent.
    ``vvm_stage`` None: not recorded (required for every part after an excursion)."""

    gtin: str
    lot_number: str
    accepted: int
    rejected: int = 0
    reason: str = ""
    vvm_stage: int | None = 1

    @property
    def lot_key(self) -> str:
        return f"{self.gtin}/{self.lot_number}"


class ShipmentError(RuleBroken):
    pass


class NotDispatched(ShipmentError):
    pass


class AlreadyDispatched(ShipmentError):
    pass


class AlreadyReceived(ShipmentError):
    pass


class ShipmentCancelled(ShipmentError):
    pass


class WrongDestination(ShipmentError):
    pass


class WrongOrigin(ShipmentError):
    pass


class ReceiptMismatch(ShipmentError):
    pass


class VvmNotAcceptable(ShipmentError):
    pass


class VvmNeeded(ShipmentError):
    pass


class LaterExpiryFirst(ShipmentError):
    pass


class Shipment(Aggregate):
    """One labelled container (SSCC) moving from one facility to another."""

    @staticmethod
    def id_for(sscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:shipment:{sscc}")

    @classmethod
    def create_id(cls, sscc: str, **_: object) -> UUID:
        return cls.id_for(sscc)

    class Packed(Aggregate.Created):
        """Version 2 records whether the shipment is a return up the chain and the
        reason given for packing past an earlier-expiring lot; version 1 had neither."""

        class_version = 2
        sscc: str
        origin: str
        destination: str
        lines: list[ShipmentLine]
        by: Provenance
        returning: bool
        override_reason: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["returning"] = False
            state["override_reason"] = ""

    @event(Packed)
    def __init__(
        self,
        sscc: str,
        origin: str,
        destination: str,
        lines: list[ShipmentLine],
        by: Provenance,
        returning: bool = False,
        override_reason: str = "",
    ) -> None:
        self.sscc = sscc
        self.origin = origin
        self.destination = destination
        self.returning = returning
        self.override_reason = override_reason
        self.lines = list(lines)
        self.status = ShipmentStatus.PACKED
        self.dispatched_at = None
        self.received_at = None
        self.receipt: list[ReceiptLine] = []
        self.arrival_celsius: Decimal | None = None
        self.readings: list[tuple[str, Decimal, bool]] = []
        self.cancel_reason = ""

    @classmethod
    def pack(
        cls,
        sscc: str,
        origin: str,
        destination: str,
        lines: list[ShipmentLine],
        by: Provenance,
        returning: bool = False,
        override_reason: str = "",
    ) -> Shipment:
        if not lines or len(lines) > MAX_LINES:
            msg = f"A shipment has 1 to {MAX_LINES} lines: one per lot."
            raise InvalidQuantity(msg)
        keys = [line.lot_key for line in lines]
        if len(set(keys)) != len(keys):
            msg = f"Shipment {sscc} lists a lot twice: put all vials of a lot on one line."
            raise InvalidQuantity(msg)
        for line in lines:
            check_lot_number(line.lot_number)
            check_quantity(line.vials, f"Vials of lot {line.lot_number}", MAX_VIALS_PER_LINE)
            if line.quarantined and not returning:
                raise InvalidQuantity("Quarantined vials travel only back up the chain, as a return.")
        return cls(sscc, origin, destination, lines, by, returning, clean_text(override_reason, "The reason"))

    @staticmethod
    def check_earliest_expiry_first(line: ShipmentLine, earlier: list[str], override_reason: str) -> None:
        """Packing past an earlier-expiring usable lot of the same product needs a reason."""
        if earlier and not override_reason.strip():
            msg = (f"Lot {earlier[0]} of the same product expires before lot {line.lot_number}: pack it first, "
                   "or give the reason for packing this one (it is recorded).")
            raise LaterExpiryFirst(msg)

    @property
    def excursion(self) -> bool:
        return any(flag for _, _, flag in self.readings)

    def check_status(self, wanted: ShipmentStatus) -> None:
        if self.status is wanted:
            return
        if self.status is ShipmentStatus.CANCELLED:
            msg = f"Shipment {self.sscc} was cancelled ({self.cancel_reason})."
            raise ShipmentCancelled(msg)
        if self.status is ShipmentStatus.RECEIVED:
            msg = f"Shipment {self.sscc} was already received at {self.destination} on {self.received_at}."
            raise AlreadyReceived(msg)
        if self.status is ShipmentStatus.DISPATCHED:
            msg = f"Shipment {self.sscc} was already dispatched from {self.origin} on {self.dispatched_at}."
            raise AlreadyDispatched(msg)
        msg = f"Shipment {self.sscc} has not been dispatched yet: scan it out at {self.origin} first."
        raise NotDispatched(msg)

    def dispatch(self, by: Provenance) -> None:
        self.check_status(ShipmentStatus.PACKED)
        if by.facility != self.origin:
            msg = f"Shipment {self.sscc} leaves from {self.origin}, not from {by.facility}: scan it out there."
            raise WrongOrigin(msg)
        self._dispatched(by)

    @event("Dispatched")
    def _dispatched(self, by: Provenance) -> None:
        self.status = ShipmentStatus.DISPATCHED
        self.dispatched_at = by.occurred_at.isoformat()
        self.holder = by.actor

    def hand_over(self, carrier: str, vehicle: str, place: str, by: Provenance) -> None:
        """Custody in transit: whoever takes the box over (a courier, a driver, a store on
        the way) scans it; the shipment knows who holds it now and from whom it came."""
        self.check_status(ShipmentStatus.DISPATCHED)
        carrier = clean_text(carrier, "The carrier", 120)
        vehicle = clean_text(vehicle, "The vehicle", 40)
        place = clean_text(place, "The place", 120)
        self._handed_over(by.actor, getattr(self, "holder", self.origin), carrier, vehicle, place, by)

    @event("HandedOver")
    def _handed_over(self, holder: str, from_holder: str, carrier: str, vehicle: str, place: str,
                     by: Provenance) -> None:
        self.holder = holder

    def cancel(self, reason: str, by: Provenance) -> None:
        self.check_status(ShipmentStatus.PACKED)
        reason = clean_text(reason, "The reason")
        if not reason:
            raise InvalidQuantity("Say why the shipment is cancelled.")
        self._cancelled(reason, by)

    @event("Cancelled")
    def _cancelled(self, reason: str, by: Provenance) -> None:
        self.status = ShipmentStatus.CANCELLED
        self.cancel_reason = reason

    def record_temperature(self, celsius: Decimal, by: Provenance) -> None:
        celsius = check_celsius(celsius)
        self.check_status(ShipmentStatus.DISPATCHED)
        self._temperature_recorded(celsius, is_excursion(celsius), by)

    @event("TemperatureRecorded")
    def _temperature_recorded(self, celsius: Decimal, excursion: bool, by: Provenance) -> None:
        self.readings.append((by.occurred_at.isoformat(), celsius, excursion))

    def receive(self, lines: list[ReceiptLine], arrival_celsius: Decimal, by: Provenance) -> None:
        arrival_celsius = check_celsius(arrival_celsius)
        lines = [replace(line, reason=clean_text(line.reason, "The reason")) for line in lines]
        self.check_status(ShipmentStatus.DISPATCHED)
        self.check_destination(by.facility)
        self.check_receipt(lines)
        excursion = is_excursion(arrival_celsius)
        if (excursion or self.excursion) and any(line.vvm_stage is None for line in lines):
            msg = (f"Shipment {self.sscc} left 2–8 °C on the way: record the VVM stage of every part "
                   "before deciding what to accept.")
            raise VvmNeeded(msg)
        self._received(lines, arrival_celsius, excursion, by)

    @event("Received")
    def _received(
        self, lines: list[ReceiptLine], arrival_celsius: Decimal, excursion: bool, by: Provenance
    ) -> None:
        self.status = ShipmentStatus.RECEIVED
        self._receipt_version = self.version + 1  # applied before the version moves on
        self.received_at = by.occurred_at.isoformat()
        self.receipt = list(lines)
        self.arrival_celsius = arrival_celsius

    def correct_receipt(self, lines: list[ReceiptLine], reason: str, by: Provenance) -> None:
        """A receipt counted wrongly, recounted: the new count replaces the old in every
        report, and both stay in the history (``corrects``: the receipt's version)."""
        self.check_status(ShipmentStatus.RECEIVED)
        self.check_destination(by.facility)
        lines = [replace(line, reason=clean_text(line.reason, "The reason")) for line in lines]
        self.check_receipt(lines)
        reason = clean_text(reason, "The reason")
        if not reason:
            raise InvalidQuantity("A correction needs its reason.")
        self._receipt_corrected(lines, reason, self.receipt_version, by)

    @event("ReceiptCorrected")
    def _receipt_corrected(self, lines: list[ReceiptLine], reason: str, corrects: int, by: Provenance) -> None:
        self.receipt = list(lines)

    @property
    def receipt_version(self) -> int:
        """The version of this shipment's receipt event (what a correction refers to)."""
        return getattr(self, "_receipt_version", self.version)

    def check_destination(self, facility: str) -> None:
        if facility != self.destination:
            msg = (
                f"Shipment {self.sscc} is addressed to {self.destination}, not to {facility}: "
                "do not open it; contact the sender."
            )
            raise WrongDestination(msg)

    def check_receipt(self, lines: list[ReceiptLine]) -> None:
        """Each lot on the label counted, in one part or several; no lot that is not on it."""
        sent = {line.lot_key: line for line in self.lines}
        counted = {line.lot_key for line in lines}
        if counted != set(sent) or len(lines) > MAX_LINES:
            missing = sorted(set(sent) - counted)
            extra = sorted(counted - set(sent))
            msg = f"The count for shipment {self.sscc} must list each lot on the label"
            msg += f"; not counted: {', '.join(missing)}" if missing else ""
            msg += f"; not in this shipment: {', '.join(extra)}" if extra else ""
            raise ReceiptMismatch(msg + ".")
        for key, line in sent.items():
            parts = [part for part in lines if part.lot_key == key]
            for part in parts:
                self.check_receipt_line(part, line.vials)
            counted_vials = sum(part.accepted + part.rejected for part in parts)
            if counted_vials > line.vials:
                msg = (f"Lot {line.lot_number}: {counted_vials} vials counted in all is more than the "
                       f"{line.vials} sent; count again.")
                raise ReceiptMismatch(msg)

    def check_receipt_line(self, line: ReceiptLine, vials_sent: int) -> None:
        lot = line.lot_number
        if line.accepted < 0 or line.rejected < 0:
            msg = f"Lot {lot}: accepted and rejected vials cannot be negative."
            raise InvalidQuantity(msg)
        check_quantity(line.accepted, "Accepted vials", MAX_VIALS_PER_LINE, minimum=0)
        check_quantity(line.rejected, "Rejected vials", MAX_VIALS_PER_LINE, minimum=0)
        if line.accepted + line.rejected > vials_sent:
            msg = (
                f"Lot {lot}: {line.accepted} accepted + {line.rejected} rejected is more than "
                f"the {vials_sent} vials sent; count again."
            )
            raise ReceiptMismatch(msg)
        if line.vvm_stage not in (None, 1, 2, 3, 4):
            msg = f"Lot {lot}: the VVM stage must be 1, 2, 3 or 4."
            raise InvalidQuantity(msg)
        if line.vvm_stage is not None and line.vvm_stage >= 3 and line.accepted > 0:
            msg = (
                f"Lot {lot}: VVM stage {line.vvm_stage} means the vaccine was exposed to heat; "
                "reject every vial of it, none may be accepted."
            )
            raise VvmNotAcceptable(msg)
        if line.rejected > 0 and not line.reason.strip():
            msg = f"Lot {lot}: give a reason for the {line.rejected} rejected vials."
            raise ReceiptMismatch(msg)

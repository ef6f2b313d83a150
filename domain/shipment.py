"""Shipments: packed, dispatched and received once, at the right place."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
    gtin: str
    lot_number: str
    vials: int

    @property
    def lot_key(self) -> str:
        return f"{self.gtin}/{self.lot_number}"


@dataclass(frozen=True)
class ReceiptLine:
    """What the receiver counted for one line: accepted + rejected + short = sent."""

    gtin: str
    lot_number: str
    accepted: int
    rejected: int = 0
    reason: str = ""
    vvm_stage: int = 1

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


class Shipment(Aggregate):
    """One labelled container (SSCC) moving from one facility to another."""

    @staticmethod
    def id_for(sscc: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:shipment:{sscc}")

    @classmethod
    def create_id(cls, sscc: str, **_: object) -> UUID:
        return cls.id_for(sscc)

    @event("Packed")
    def __init__(
        self,
        sscc: str,
        origin: str,
        destination: str,
        lines: list[ShipmentLine],
        by: Provenance,
    ) -> None:
        self.sscc = sscc
        self.origin = origin
        self.destination = destination
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
        return cls(sscc, origin, destination, lines, by)

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
        self._received(lines, arrival_celsius, is_excursion(arrival_celsius), by)

    @event("Received")
    def _received(
        self, lines: list[ReceiptLine], arrival_celsius: Decimal, excursion: bool, by: Provenance
    ) -> None:
        self.status = ShipmentStatus.RECEIVED
        self.received_at = by.occurred_at.isoformat()
        self.receipt = list(lines)
        self.arrival_celsius = arrival_celsius

    def check_destination(self, facility: str) -> None:
        if facility != self.destination:
            msg = (
                f"Shipment {self.sscc} is addressed to {self.destination}, not to {facility}: "
                "do not open it; contact the sender."
            )
            raise WrongDestination(msg)

    def check_receipt(self, lines: list[ReceiptLine]) -> None:
        sent = {line.lot_key: line for line in self.lines}
        counted = [line.lot_key for line in lines]
        if sorted(counted) != sorted(sent):
            missing = sorted(set(sent) - set(counted))
            extra = sorted(set(counted) - set(sent))
            msg = f"The count for shipment {self.sscc} must list each lot on the label once"
            msg += f"; not counted: {', '.join(missing)}" if missing else ""
            msg += f"; not in this shipment: {', '.join(extra)}" if extra else ""
            raise ReceiptMismatch(msg + ".")
        for line in lines:
            self.check_receipt_line(line, sent[line.lot_key].vials)

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
        if line.vvm_stage not in (1, 2, 3, 4):
            msg = f"Lot {lot}: the VVM stage must be 1, 2, 3 or 4 (got {line.vvm_stage})."
            raise InvalidQuantity(msg)
        if line.vvm_stage >= 3 and line.accepted > 0:
            msg = (
                f"Lot {lot}: VVM stage {line.vvm_stage} means the vaccine was exposed to heat; "
                "reject every vial of it, none may be accepted."
            )
            raise VvmNotAcceptable(msg)
        if line.rejected > 0 and not line.reason.strip():
            msg = f"Lot {lot}: give a reason for the {line.rejected} rejected vials."
            raise ReceiptMismatch(msg)

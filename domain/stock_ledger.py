"""The stock card of one facility: every movement of every lot, in doses."""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.bounds import MAX_COUNT_VIALS, MAX_DOSES, MAX_RELEASE_VIALS, check_quantity, clean_text
from domain.errors import InvalidQuantity, RuleBroken
from domain.lot import Lot
from domain.provenance import Provenance


class WastageReason(Enum):
    BROKEN = "broken"
    EXPIRED = "expired"
    VVM = "vvm"
    COLD_CHAIN_FAILURE = "cold_chain_failure"
    OPEN_VIAL_TIME_LIMIT = "open_vial_time_limit"
    LOST = "lost"
    STOLEN = "stolen"


class StockError(RuleBroken):
    pass


class InsufficientStock(StockError):
    pass


class LotNotOnCard(StockError):
    pass


def describe(doses: int, doses_per_vial: int) -> str:
    vials, loose = divmod(doses, doses_per_vial)
    text = f"{vials} vial{'s' if vials != 1 else ''}"
    return text + (f" and {loose} dose{'s' if loose != 1 else ''}" if loose else "")


class StockLedger(Aggregate):
    """On hand per lot never goes below zero; corrections are new entries.
    Every movement names the ledger's facility, so read models need no lookup."""

    @staticmethod
    def id_for(facility: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:ledger:{facility}")

    @classmethod
    def create_id(cls, facility: str, **_: object) -> UUID:
        return cls.id_for(facility)

    @event("Opened")
    def __init__(self, facility: str, by: Provenance) -> None:
        self.facility = facility
        self.on_hand: dict[str, int] = {}
        self.lots: dict[str, dict[str, object]] = {}

    def doses_of(self, lot_key: str) -> int:
        return self.on_hand.get(lot_key, 0)

    def check_available(self, lot: Lot, doses: int) -> None:
        have = self.doses_of(lot.key)
        if have < doses:
            per = lot.doses_per_vial
            msg = (
                f"Only {describe(have, per)} of lot {lot.lot_number} on hand at {self.facility}; "
                f"{describe(doses, per)} needed."
            )
            raise InsufficientStock(msg)

    def receive(self, lot: Lot, vials: int, reference: str, by: Provenance) -> None:
        check_quantity(vials, f"Vials of lot {lot.lot_number} received", MAX_RELEASE_VIALS)
        self._received(
            self.facility, lot.gtin, lot.lot_number, lot.expiry, lot.doses_per_vial, vials,
            vials * lot.doses_per_vial, reference, by,
        )

    @event("Received")
    def _received(
        self, facility: str, gtin: str, lot_number: str, expiry: date, doses_per_vial: int,
        vials: int, doses: int, reference: str, by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.lots.setdefault(key, {
            "gtin": gtin, "lot_number": lot_number,
            "expiry": expiry.isoformat(), "doses_per_vial": doses_per_vial,
        })
        self.on_hand[key] = self.doses_of(key) + doses

    def issue(self, lot: Lot, vials: int, reference: str, by: Provenance) -> None:
        check_quantity(vials, f"Vials of lot {lot.lot_number}", MAX_RELEASE_VIALS)
        lot.check_usable(by.day)
        doses = vials * lot.doses_per_vial
        self.check_available(lot, doses)
        self._issued(self.facility, lot.gtin, lot.lot_number, vials, doses, reference, by)

    @event("Issued")
    def _issued(
        self, facility: str, gtin: str, lot_number: str, vials: int, doses: int, reference: str,
        by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) - doses

    def administer(self, lot: Lot, doses: int, reference: str, by: Provenance) -> None:
        check_quantity(doses, "Doses given", MAX_DOSES)
        lot.check_usable(by.day)
        self.check_available(lot, doses)
        self._administered(self.facility, lot.gtin, lot.lot_number, doses, reference, by)

    @event("Administered")
    def _administered(
        self, facility: str, gtin: str, lot_number: str, doses: int, reference: str, by: Provenance
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) - doses

    def waste(self, lot: Lot, doses: int, reason: WastageReason, note: str, by: Provenance) -> None:
        check_quantity(doses, "Doses wasted", MAX_DOSES)
        note = clean_text(note, "The note")
        self.check_available(lot, doses)
        self._wasted(self.facility, lot.gtin, lot.lot_number, doses, reason, note, by)

    @event("Wasted")
    def _wasted(
        self, facility: str, gtin: str, lot_number: str, doses: int, reason: WastageReason, note: str,
        by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) - doses

    def count(self, lot: Lot, counted_doses: int, by: Provenance) -> int:
        """Record a physical count; the difference becomes an adjustment."""
        if isinstance(counted_doses, int) and counted_doses < 0:
            msg = f"Lot {lot.lot_number}: a count cannot be negative."
            raise InvalidQuantity(msg)
        check_quantity(counted_doses, "Doses counted", MAX_COUNT_VIALS * lot.doses_per_vial, minimum=0)
        if lot.key not in self.lots:
            msg = f"Lot {lot.lot_number} has never been on the stock card of {self.facility}."
            raise LotNotOnCard(msg)
        expected = self.doses_of(lot.key)
        difference = counted_doses - expected
        self._counted(self.facility, lot.gtin, lot.lot_number, counted_doses, expected, difference, by)
        return difference

    @event("Counted")
    def _counted(
        self, facility: str, gtin: str, lot_number: str, counted: int, expected: int, difference: int,
        by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) + difference

    def suggest_lots(
        self, gtin: str, vials: int, on: date, exclude: frozenset[str] = frozenset()
    ) -> list[tuple[str, int]]:
        """Earliest expiry first: which lots to pack for ``vials`` of a product."""
        usable = [
            (info["expiry"], key) for key, info in self.lots.items()
            if info["gtin"] == gtin and key not in exclude
            and str(info["expiry"]) > on.isoformat()
        ]
        picks: list[tuple[str, int]] = []
        remaining = vials
        for _, key in sorted(usable):
            whole_vials = self.doses_of(key) // int(self.lots[key]["doses_per_vial"])  # type: ignore[call-overload]
            take = min(whole_vials, remaining)
            if take > 0:
                picks.append((key, take))
                remaining -= take
            if remaining == 0:
                break
        return picks

"""The stock card of one facility: every movement of every lot, in doses."""

from __future__ import annotations

from datetime import date
from typing import Any
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
    RECALLED = "recalled"


# Quarantined stock leaves a card only by a return shipment or by destruction for one of these.
DESTRUCTION_REASONS = frozenset({WastageReason.VVM, WastageReason.COLD_CHAIN_FAILURE, WastageReason.BROKEN,
                                 WastageReason.EXPIRED, WastageReason.RECALLED})


def _expiry_unknown(state: dict[str, Any]) -> None:
    """Movements recorded before they carried the lot's expiry: unknown (the card's
    Received entry has it)."""
    state["expiry"] = None


class StockError(RuleBroken):
    pass


class InsufficientStock(StockError):
    pass


class LotNotOnCard(StockError):
    pass


class NotForDestruction(StockError):
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

    class Issued(Aggregate.Event):
        """Version 2 carries the lot's expiry and whether the vials left the quarantined part."""

        class_version = 2
        facility: str
        gtin: str
        lot_number: str
        expiry: date | None
        vials: int
        doses: int
        reference: str
        quarantined: bool
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _expiry_unknown(state)
            state["quarantined"] = False

    class Administered(Aggregate.Event):
        """Version 2 carries the lot's expiry."""

        class_version = 2
        facility: str
        gtin: str
        lot_number: str
        expiry: date | None
        doses: int
        reference: str
        by: Provenance

        upcast_v1_v2 = staticmethod(_expiry_unknown)

    class Wasted(Aggregate.Event):
        """Version 2 carries the lot's expiry and whether quarantined vials were destroyed."""

        class_version = 2
        facility: str
        gtin: str
        lot_number: str
        expiry: date | None
        doses: int
        reason: WastageReason
        note: str
        quarantined: bool
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            _expiry_unknown(state)
            state["quarantined"] = False

    class Counted(Aggregate.Event):
        """Version 2 carries the lot's expiry."""

        class_version = 2
        facility: str
        gtin: str
        lot_number: str
        expiry: date | None
        counted: int
        expected: int
        difference: int
        by: Provenance

        upcast_v1_v2 = staticmethod(_expiry_unknown)

    @event("Opened")
    def __init__(self, facility: str, by: Provenance) -> None:
        self.facility = facility
        self.on_hand: dict[str, int] = {}
        self.quarantined: dict[str, int] = {}
        self.lots: dict[str, dict[str, object]] = {}

    def doses_of(self, lot_key: str) -> int:
        return self.on_hand.get(lot_key, 0)

    def quarantined_of(self, lot_key: str) -> int:
        return getattr(self, "quarantined", {}).get(lot_key, 0)  # snapshots from before quarantine had none

    def check_available(self, lot: Lot, doses: int, quarantined: bool = False) -> None:
        have = self.quarantined_of(lot.key) if quarantined else self.doses_of(lot.key)
        if have < doses:
            per = lot.doses_per_vial
            held = " in quarantine" if quarantined else " on hand"
            msg = (
                f"Only {describe(have, per)} of lot {lot.lot_number}{held} at {self.facility}; "
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
        self._note_lot(gtin, lot_number, expiry, doses_per_vial)
        self.on_hand[key] = self.doses_of(key) + doses

    def issue(self, lot: Lot, vials: int, reference: str, by: Provenance, returning: bool = False,
              quarantined: bool = False) -> None:
        """Vials leave the card: onward only if the lot is usable; a return up the chain
        may carry unusable lots and quarantined vials."""
        check_quantity(vials, f"Vials of lot {lot.lot_number}", MAX_RELEASE_VIALS)
        lot.check_movable(by.day, returning)
        doses = vials * lot.doses_per_vial
        self.check_available(lot, doses, quarantined)
        self._issued(self.facility, lot.gtin, lot.lot_number, lot.expiry, vials, doses, reference, quarantined, by)

    @event(Issued)
    def _issued(
        self, facility: str, gtin: str, lot_number: str, expiry: date | None, vials: int, doses: int,
        reference: str, quarantined: bool, by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        if quarantined:
            self.quarantined[key] = self.quarantined_of(key) - doses
        else:
            self.on_hand[key] = self.doses_of(key) - doses

    def hold_in_quarantine(self, lot: Lot, vials: int, reason: str, reference: str, by: Provenance) -> None:
        """Vials that arrived but may not be used (rejected at receipt, a lot on hold or
        recalled): on the card as quarantined stock until returned or destroyed."""
        check_quantity(vials, f"Quarantined vials of lot {lot.lot_number}", MAX_RELEASE_VIALS)
        self._held_in_quarantine(self.facility, lot.gtin, lot.lot_number, lot.expiry, lot.doses_per_vial, vials,
                                 vials * lot.doses_per_vial, clean_text(reason, "The reason"), reference, by)

    @event("HeldInQuarantine")
    def _held_in_quarantine(
        self, facility: str, gtin: str, lot_number: str, expiry: date, doses_per_vial: int, vials: int,
        doses: int, reason: str, reference: str, by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self._note_lot(gtin, lot_number, expiry, doses_per_vial)
        if not hasattr(self, "quarantined"):
            self.quarantined = {}
        self.quarantined[key] = self.quarantined_of(key) + doses

    def _note_lot(self, gtin: str, lot_number: str, expiry: date, doses_per_vial: int) -> None:
        self.lots.setdefault(f"{gtin}/{lot_number}", {
            "gtin": gtin, "lot_number": lot_number,
            "expiry": expiry.isoformat(), "doses_per_vial": doses_per_vial,
        })

    def administer(self, lot: Lot, doses: int, reference: str, by: Provenance) -> None:
        check_quantity(doses, "Doses given", MAX_DOSES)
        lot.check_usable(by.day)
        self.check_available(lot, doses)
        self._administered(self.facility, lot.gtin, lot.lot_number, lot.expiry, doses, reference, by)

    @event(Administered)
    def _administered(
        self, facility: str, gtin: str, lot_number: str, expiry: date | None, doses: int, reference: str,
        by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) - doses

    def waste(self, lot: Lot, doses: int, reason: WastageReason, note: str, by: Provenance,
              quarantined: bool = False) -> None:
        """Doses lost or destroyed; quarantined stock is destroyed only for a quarantine reason."""
        check_quantity(doses, "Doses wasted", MAX_DOSES)
        note = clean_text(note, "The note")
        if quarantined and reason not in DESTRUCTION_REASONS:
            allowed = ", ".join(sorted(r.value for r in DESTRUCTION_REASONS))
            raise NotForDestruction(f"Quarantined vials are destroyed for one of: {allowed}.")
        self.check_available(lot, doses, quarantined)
        self._wasted(self.facility, lot.gtin, lot.lot_number, lot.expiry, doses, reason, note, quarantined, by)

    @event(Wasted)
    def _wasted(
        self, facility: str, gtin: str, lot_number: str, expiry: date | None, doses: int, reason: WastageReason,
        note: str, quarantined: bool, by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        if quarantined:
            self.quarantined[key] = self.quarantined_of(key) - doses
        else:
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
        self._counted(self.facility, lot.gtin, lot.lot_number, lot.expiry, counted_doses, expected, difference, by)
        return difference

    @event(Counted)
    def _counted(
        self, facility: str, gtin: str, lot_number: str, expiry: date | None, counted: int, expected: int,
        difference: int, by: Provenance,
    ) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) + difference

    # Corrections: new entries that name the entry they correct (its version on this card
    # or the shipment it concerns), never edits.

    def correct_receipt(self, lot: Lot, usable_vials: int, quarantined_vials: int, reason: str, reference: str,
                        by: Provenance) -> None:
        """A receipt counted wrongly: the differences (+/-) enter the card, usable and quarantined apart."""
        reason = self._correction_reason(reason)
        usable, held = usable_vials * lot.doses_per_vial, quarantined_vials * lot.doses_per_vial
        if self.doses_of(lot.key) + usable < 0 or self.quarantined_of(lot.key) + held < 0:
            raise InsufficientStock(f"Lot {lot.lot_number}: the correction would leave less than nothing on the card "
                                    f"of {self.facility}; part of it has moved on since — correct that first.")
        self._receipt_corrected(self.facility, lot.gtin, lot.lot_number, lot.expiry, usable, held, reason, reference, by)

    @event("ReceiptCorrected")
    def _receipt_corrected(self, facility: str, gtin: str, lot_number: str, expiry: date, doses: int,
                           quarantined_doses: int, reason: str, reference: str, by: Provenance) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) + doses
        if not hasattr(self, "quarantined"):
            self.quarantined = {}
        self.quarantined[key] = self.quarantined_of(key) + quarantined_doses

    def correct_wastage(self, lot: Lot, corrects: int, recorded: int, correct: int, reason: str,
                        by: Provenance) -> None:
        """A wastage entry (version ``corrects`` of this card) of ``recorded`` doses that should have been
        ``correct``: the difference goes back to (or leaves) the usable stock."""
        check_quantity(correct, "The corrected doses", MAX_DOSES, minimum=0)
        reason = self._correction_reason(reason)
        difference = recorded - correct
        if self.doses_of(lot.key) + difference < 0:
            raise InsufficientStock(f"Lot {lot.lot_number}: not enough on hand at {self.facility} for that correction.")
        self._wastage_corrected(self.facility, lot.gtin, lot.lot_number, lot.expiry, difference, corrects, reason, by)

    @event("WastageCorrected")
    def _wastage_corrected(self, facility: str, gtin: str, lot_number: str, expiry: date, doses: int,
                           corrects: int, reason: str, by: Provenance) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) + doses

    def void_administration(self, lot: Lot, reference: str, reason: str, by: Provenance) -> None:
        """A dose recorded on the wrong ticket is voided: its dose returns to the card, to be
        drawn again when it is recorded on the right one."""
        self._administration_voided(self.facility, lot.gtin, lot.lot_number, lot.expiry, 1, reference,
                                    self._correction_reason(reason), by)

    @event("AdministrationVoided")
    def _administration_voided(self, facility: str, gtin: str, lot_number: str, expiry: date, doses: int,
                               reference: str, reason: str, by: Provenance) -> None:
        key = f"{gtin}/{lot_number}"
        self.on_hand[key] = self.doses_of(key) + doses

    @staticmethod
    def _correction_reason(reason: str) -> str:
        reason = clean_text(reason, "The reason")
        if not reason:
            raise InvalidQuantity("A correction needs its reason.")
        return reason

    def earlier_lots(self, lot: Lot, exclude: frozenset[str] = frozenset()) -> list[str]:
        """Lots of the same product on hand here that expire before ``lot`` (earliest first)."""
        earlier = sorted((str(info["expiry"]), str(info["lot_number"])) for key, info in self.lots.items()
                         if info["gtin"] == lot.gtin and key != lot.key and key not in exclude
                         and str(info["expiry"]) < lot.expiry.isoformat() and self.doses_of(key) > 0)
        return [lot_number for _, lot_number in earlier]

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

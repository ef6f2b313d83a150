"""Vaccine lots: released by the national warehouse, quarantined, recalled."""

from __future__ import annotations

from datetime import date
from typing import Any
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.bounds import MAX_DOSES_PER_VIAL, NAME_TEXT, check_expiry, check_lot_number, check_quantity, clean_text
from domain.errors import OutOfBounds, RuleBroken
from domain.provenance import Provenance


class LotStatus(Enum):
    RELEASED = "released"
    QUARANTINED = "quarantined"
    RECALLED = "recalled"


class LotError(RuleBroken):
    pass


class ExpiredLot(LotError):
    pass


class LotQuarantined(LotError):
    pass


class LotRecalled(LotError):
    pass


class LotNotQuarantined(LotError):
    pass


class Lot(Aggregate):
    """One manufacturing lot of one product (GTIN + lot number)."""

    @staticmethod
    def id_for(gtin: str, lot_number: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:lot:{gtin}:{lot_number}")

    @classmethod
    def create_id(cls, gtin: str, lot_number: str, **_: object) -> UUID:
        return cls.id_for(gtin, lot_number)

    @event("Released")
    def __init__(
        self,
        gtin: str,
        lot_number: str,
        expiry: date,
        product: str,
        doses_per_vial: int,
        manufacturer: str,
        by: Provenance,
    ) -> None:
        self.gtin = gtin
        self.lot_number = lot_number
        self.expiry = expiry
        self.product = product
        self.doses_per_vial = doses_per_vial
        self.manufacturer = manufacturer
        self.status = LotStatus.RELEASED
        self.status_reason = ""

    @classmethod
    def release(
        cls,
        gtin: str,
        lot_number: str,
        expiry: date,
        product: str,
        doses_per_vial: int,
        manufacturer: str,
        by: Provenance,
    ) -> Lot:
        check_lot_number(lot_number)
        check_quantity(doses_per_vial, "Doses per vial", MAX_DOSES_PER_VIAL)
        check_expiry(expiry, by.day)
        product = clean_text(product, "The product's name", NAME_TEXT)
        manufacturer = clean_text(manufacturer, "The manufacturer's name", NAME_TEXT)
        if expiry <= by.day:
            msg = f"Lot {lot_number} expired on {expiry.isoformat()}: an expired lot cannot be released."
            raise ExpiredLot(msg)
        return cls(gtin, lot_number, expiry, product, doses_per_vial, manufacturer, by)

    @property
    def key(self) -> str:
        return f"{self.gtin}/{self.lot_number}"

    def is_expired_on(self, day: date) -> bool:
        return self.expiry <= day

    def check_usable(self, on: date) -> None:
        """A lot that is expired, quarantined or recalled may not move or be given."""
        if self.status is LotStatus.RECALLED:
            msg = f"Lot {self.lot_number} has been recalled ({self.status_reason}): do not use or ship it."
            raise LotRecalled(msg)
        if self.status is LotStatus.QUARANTINED:
            msg = f"Lot {self.lot_number} is in quarantine ({self.status_reason}): hold it until it is released."
            raise LotQuarantined(msg)
        if self.is_expired_on(on):
            msg = f"Lot {self.lot_number} expired on {self.expiry.isoformat()}: it may not be shipped or given."
            raise ExpiredLot(msg)

    def status_on(self, day: date) -> str:
        """released, quarantined, recalled, or expired (a released lot past its expiry)."""
        if self.status is LotStatus.RELEASED and self.is_expired_on(day):
            return "expired"
        return self.status.value

    def check_movable(self, on: date, returning: bool) -> None:
        """Onward (packing, accepting as usable, dosing) only while usable; a return up
        the chain towards Bio Farma (for destruction or release) always."""
        if not returning:
            self.check_usable(on)

    class Quarantined(Aggregate.Event):
        """Version 2 names the reference (a BPOM notice); version 1 had none."""

        class_version = 2
        reason: str
        reference: str
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reference"] = ""

    class Recalled(Aggregate.Event):
        """Version 2 names the reference (a BPOM notice); version 1 had none."""

        class_version = 2
        reason: str
        reference: str
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reference"] = ""

    class ReleasedFromQuarantine(Aggregate.Event):
        """Version 2 says why the quarantine was lifted; version 1 did not."""

        class_version = 2
        reason: str
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["reason"] = ""

    def quarantine(self, reason: str, reference: str, by: Provenance) -> None:
        self.check_not_recalled()
        if self.status is LotStatus.QUARANTINED:
            raise LotQuarantined(f"Lot {self.lot_number} is already in quarantine ({self.status_reason}).")
        self._quarantined(*self._why(reason, reference), by)

    @staticmethod
    def _why(reason: str, reference: str) -> tuple[str, str]:
        reason, reference = clean_text(reason, "The reason"), clean_text(reference, "The reference", 60)
        if not reason:
            raise OutOfBounds("Say why (the reason is recorded with the lot's status).")
        return reason, reference

    @event(Quarantined)
    def _quarantined(self, reason: str, reference: str, by: Provenance) -> None:
        self.status = LotStatus.QUARANTINED
        self.status_reason = reason

    def release_from_quarantine(self, reason: str, by: Provenance) -> None:
        if self.status is not LotStatus.QUARANTINED:
            msg = f"Lot {self.lot_number} is not in quarantine."
            raise LotNotQuarantined(msg)
        self._released_from_quarantine(self._why(reason, "")[0], by)

    @event(ReleasedFromQuarantine)
    def _released_from_quarantine(self, reason: str, by: Provenance) -> None:
        self.status = LotStatus.RELEASED
        self.status_reason = ""

    def recall(self, reason: str, reference: str, by: Provenance) -> None:
        self.check_not_recalled()
        self._recalled(*self._why(reason, reference), by)

    @event(Recalled)
    def _recalled(self, reason: str, reference: str, by: Provenance) -> None:
        self.status = LotStatus.RECALLED
        self.status_reason = reason

    def check_not_recalled(self) -> None:
        if self.status is LotStatus.RECALLED:
            msg = f"Lot {self.lot_number} was already recalled."
            raise LotRecalled(msg)

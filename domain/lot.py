"""Vaccine lots: released by the national warehouse, quarantined, recalled."""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.bounds import MAX_DOSES_PER_VIAL, NAME_TEXT, check_expiry, check_lot_number, check_quantity, clean_text
from domain.errors import RuleBroken
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

    def quarantine(self, reason: str, by: Provenance) -> None:
        self.check_not_recalled()
        self._quarantined(clean_text(reason, "The reason"), by)

    @event("Quarantined")
    def _quarantined(self, reason: str, by: Provenance) -> None:
        self.status = LotStatus.QUARANTINED
        self.status_reason = reason

    def release_from_quarantine(self, by: Provenance) -> None:
        if self.status is not LotStatus.QUARANTINED:
            msg = f"Lot {self.lot_number} is not in quarantine."
            raise LotNotQuarantined(msg)
        self._released_from_quarantine(by)

    @event("ReleasedFromQuarantine")
    def _released_from_quarantine(self, by: Provenance) -> None:
        self.status = LotStatus.RELEASED
        self.status_reason = ""

    def recall(self, reason: str, by: Provenance) -> None:
        self.check_not_recalled()
        self._recalled(clean_text(reason, "The reason"), by)

    @event("Recalled")
    def _recalled(self, reason: str, by: Provenance) -> None:
        self.status = LotStatus.RECALLED
        self.status_reason = reason

    def check_not_recalled(self) -> None:
        if self.status is LotStatus.RECALLED:
            msg = f"Lot {self.lot_number} was already recalled."
            raise LotRecalled(msg)

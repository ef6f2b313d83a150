"""A puskesmas's vaccination session on one day, with its capacity."""

from __future__ import annotations

from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.bounds import MAX_CAPACITY, check_quantity, clean_text
from domain.errors import RuleBroken
from domain.provenance import Provenance


class SessionClosed(RuleBroken):
    pass


class SessionFull(RuleBroken):
    def __init__(self, message: str, free_days: list[date] | None = None) -> None:
        super().__init__(message)
        self.free_days = free_days or []


class VaccinationSession(Aggregate):
    """Bookings for one facility and day; never more than its capacity."""

    @staticmethod
    def id_for(facility: str, day: date) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:session:{facility}:{day.isoformat()}")

    @classmethod
    def create_id(cls, facility: str, day: date, **_: object) -> UUID:
        return cls.id_for(facility, day)

    @event("Opened")
    def __init__(self, facility: str, day: date, capacity: int, by: Provenance) -> None:
        self.facility = facility
        self.day = day
        self.capacity = capacity
        self.booked = 0

    @classmethod
    def open(cls, facility: str, day: date, capacity: int, by: Provenance) -> VaccinationSession:
        check_quantity(capacity, "Daily capacity", MAX_CAPACITY)
        return cls(facility, day, capacity, by)

    @property
    def has_room(self) -> bool:
        return self.booked < self.capacity

    def book(self, recipient_id: UUID, by: Provenance) -> None:
        if not self.has_room:
            msg = f"{self.facility} is fully booked on {self.day.isoformat()} ({self.capacity} places)."
            raise SessionFull(msg)
        self._booked(recipient_id, by)

    @event("Booked")
    def _booked(self, recipient_id: UUID, by: Provenance) -> None:
        self.booked += 1

    def cancel_booking(self, recipient_id: UUID, by: Provenance) -> None:
        """A booking moved elsewhere frees its place."""
        self._booking_cancelled(recipient_id, by)

    @event("BookingCancelled")
    def _booking_cancelled(self, recipient_id: UUID, by: Provenance) -> None:
        self.booked -= 1

    # Open multi-dose vials (Bio Farma's product: 10 doses a vial)

    def opens(self, gtin: str, lot_number: str, serial: str) -> bool:
        """Whether a dose from this serialised vial opens it (its first dose in this session)."""
        return (gtin, lot_number, serial) not in {tuple(v) for v in getattr(self, "vials", [])}

    def open_vial(self, gtin: str, lot_number: str, serial: str, doses_per_vial: int, by: Provenance) -> None:
        self._vial_opened(gtin, lot_number, clean_text(serial, "The vial's serial", 20), doses_per_vial, by)

    @event("VialOpened")
    def _vial_opened(self, gtin: str, lot_number: str, serial: str, doses_per_vial: int, by: Provenance) -> None:
        self.__dict__.setdefault("vials", []).append([gtin, lot_number, serial])

    def close(self, discarded_vials: int, by: Provenance) -> None:
        """The end of the day's session: the opened vials' remaining doses are discarded
        (open-vial wastage). A dose that happened before the close still counts when its
        scan arrives later."""
        if getattr(self, "closed_at", None):
            raise SessionClosed(f"The session of {self.facility} on {self.day.isoformat()} is already closed.")
        check_quantity(discarded_vials, "Opened vials discarded", MAX_CAPACITY, minimum=0)
        self._closed(self.facility, self.day, discarded_vials, by)

    @event("Closed")
    def _closed(self, facility: str, day: date, discarded_vials: int, by: Provenance) -> None:
        self.closed_at = by.occurred_at

"""A health worker on the target list, from targeting to the second dose.

Keyed by a keyed hash of the NIK (computed outside the domain with a secret),
never the NIK itself. Name, NIK and phone travel in the events, which the
event store encrypts at rest.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.bounds import LONG_TEXT, MAX_POSTPONE_DAYS, NAME_TEXT, clean_text
from domain.errors import OutOfBounds, RuleBroken
from domain.facility import Facility
from domain.provenance import Provenance

MAX_DOSES = 2


class Category(Enum):
    NAKES = "nakes"  # tenaga kesehatan
    TENAGA_PENUNJANG = "tenaga_penunjang"  # support staff


class Channel(Enum):
    WEB = "web"
    USSD = "ussd"
    FIELD = "field"  # registered on the spot by a visiting officer


class ScreeningResult(Enum):
    ELIGIBLE = "eligible"
    POSTPONED = "postponed"
    NOT_ELIGIBLE = "not_eligible"


class VisitUnit(Enum):
    TNI = "tni"
    POLRI = "polri"
    BABINSA = "babinsa"
    HEALTH_WORKER = "health_worker"


class VisitOutcome(Enum):
    REGISTERED = "registered"
    REFUSED = "refused"
    NOT_FOUND = "not_found"
    MOVED = "moved"
    DECEASED = "deceased"
    NO_PHONE = "no_phone"


class Severity(Enum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


@dataclass(frozen=True)
class Dose:
    number: int
    gtin: str
    lot_number: str
    facility: str
    vaccinator: str
    day: date


class RecipientError(RuleBroken):
    pass


class WrongPhoneDigits(RecipientError):
    pass


class WrongPlace(RecipientError):
    pass


class AlreadyRegistered(RecipientError):
    pass


class NotRegistered(RecipientError):
    pass


class TicketNotValid(RecipientError):
    pass


class NotScreenedEligible(RecipientError):
    pass


class TooEarlyForDose2(RecipientError):
    pass


class NoMoreDoses(RecipientError):
    pass


class NoDoseYet(RecipientError):
    pass


class ScreeningIncomplete(RecipientError):
    pass


class Recipient(Aggregate):
    """Every event after targeting also names the recipient's district and phase,
    so read models can count by district without looking anything up."""
    @event("Targeted")
    def __init__(
        self, nik: str, name: str, phone: str, phase: int, category: Category, source: str,
        district: str, workplace: str, by: Provenance,
    ) -> None:
        self.nik = nik
        self.name = name
        self.phone = phone
        self.phase = phase
        self.category = category
        self.source = source
        self.district = district
        self.workplace = workplace
        self.delivery: dict[str, str] = {}
        self.channel: Channel | None = None
        self.facility: str | None = None
        self.day: date | None = None
        self.ticket: str | None = None
        self.screening: tuple[date, ScreeningResult] | None = None
        self.doses: list[Dose] = []
        self.dose2_due: date | None = None
        self.visits: list[tuple[str, str]] = []
        self.aefi: list[str] = []

    @classmethod
    def target(cls, recipient_id: UUID, **fields: object) -> Recipient:
        return cls._create(cls.Targeted, id=recipient_id, **fields)

    @property
    def is_registered(self) -> bool:
        return self.channel is not None

    # SMS delivery, as reported by the gateway

    def report_delivery(self, message_id: str, status: str, reason: str, by: Provenance) -> None:
        reason = clean_text(reason, "The failure reason")
        self._delivery_reported(message_id[:100], status, reason, self.district, self.phase, by)

    @event("DeliveryReported")
    def _delivery_reported(
        self, message_id: str, status: str, reason: str, district: str, phase: int, by: Provenance
    ) -> None:
        self.delivery = {"message_id": message_id, "status": status, "reason": reason}

    # Registration

    def check_phone_digits(self, last_four: str) -> None:
        if not self.phone_digits_match(last_four):
            msg = "The last four digits do not match the phone number on the target list."
            raise WrongPhoneDigits(msg)

    def phone_digits_match(self, last_four: str) -> bool:
        return bool(self.phone) and len(last_four) == 4 and hmac.compare_digest(self.phone[-4:], last_four)

    def check_booking_place(self, place: Facility) -> None:
        """A booking is at a puskesmas or hospital of the recipient's own district."""
        if not place.gives_doses:
            msg = f"{place.label()} does not give doses: choose a puskesmas or hospital in {self.district}."
            raise WrongPlace(msg)
        if place.parent != self.district:
            msg = f"{place.label()} is not in your district ({self.district}): choose a puskesmas there."
            raise WrongPlace(msg)

    def move_booking(self, facility: str, day: date, by: Provenance) -> None:
        self.check_registered()
        if self.doses and len(self.doses) >= MAX_DOSES:
            raise NoMoreDoses("Both doses have been given: there is no booking to move.")
        self._booking_moved(facility, day, self.district, self.phase, by)

    @event("BookingMoved")
    def _booking_moved(self, facility: str, day: date, district: str, phase: int, by: Provenance) -> None:
        self.facility = facility
        self.day = day

    def record_access(self, purpose: str, by: Provenance) -> None:
        """Someone was shown this person's unmasked data (desk 1, a field visit)."""
        self._personal_data_read(purpose, self.district, self.phase, by)

    @event("PersonalDataRead")
    def _personal_data_read(self, purpose: str, district: str, phase: int, by: Provenance) -> None:
        pass

    def register(self, channel: Channel, facility: str, day: date, ticket: str, by: Provenance) -> None:
        if self.is_registered:
            msg = f"Already registered for {self.day} at {self.facility}; the ticket was sent by SMS."
            raise AlreadyRegistered(msg)
        self._registered(channel, ticket, self.district, self.phase, by)
        self._scheduled(facility, day, self.district, self.phase, by)

    @event("Registered")
    def _registered(
        self, channel: Channel, ticket: str, district: str, phase: int, by: Provenance
    ) -> None:
        self.channel = channel
        self.ticket = ticket

    @event("Scheduled")
    def _scheduled(self, facility: str, day: date, district: str, phase: int, by: Provenance) -> None:
        self.facility = facility
        self.day = day

    # Field visits for non-responders

    def assign_visit(self, unit: VisitUnit, officer: str, by: Provenance) -> None:
        self._visit_assigned(unit, clean_text(officer, "The officer's name", NAME_TEXT), self.district, self.phase, by)

    @event("VisitAssigned")
    def _visit_assigned(
        self, unit: VisitUnit, officer: str, district: str, phase: int, by: Provenance
    ) -> None:
        self.visits.append((unit.value, ""))

    def report_visit(self, outcome: VisitOutcome, note: str, by: Provenance) -> None:
        self._visit_reported(outcome, clean_text(note, "The note"), self.district, self.phase, by)

    @event("VisitReported")
    def _visit_reported(
        self, outcome: VisitOutcome, note: str, district: str, phase: int, by: Provenance
    ) -> None:
        unit = self.visits[-1][0] if self.visits else ""
        self.visits.append((unit, outcome.value))

    # Desk 2: screening

    def screen(self, result: ScreeningResult, reason: str, until: date | None, by: Provenance) -> None:
        self.check_registered()
        if len(self.doses) >= MAX_DOSES:
            raise NoMoreDoses(f"Both doses have been given (last on {self.doses[-1].day}).")
        reason = clean_text(reason, "The reason")
        if self.doses and by.day < self.doses[-1].day:
            raise ScreeningIncomplete(f"A screening cannot be dated before dose {self.doses[-1].number} "
                                      f"({self.doses[-1].day.isoformat()}): check the device's clock.")
        if result is not ScreeningResult.ELIGIBLE and not reason:
            raise ScreeningIncomplete("Give the reason the vaccination is postponed or not given.")
        if result is ScreeningResult.POSTPONED and (until is None or until <= by.day):
            raise ScreeningIncomplete("A postponement needs the date to come back, after today.")
        if until is not None and until > by.day + timedelta(days=MAX_POSTPONE_DAYS):
            raise OutOfBounds("A postponement lasts at most a year.")
        self._screened(result, reason, until, by.day, self.district, self.phase, by)

    @event("Screened")
    def _screened(
        self, result: ScreeningResult, reason: str, until: date | None, day: date, district: str,
        phase: int, by: Provenance,
    ) -> None:
        self.screening = (day, result)

    # Desks 3 and 4: the dose

    def check_registered(self) -> None:
        if not self.is_registered:
            raise NotRegistered("Not registered yet: register first (web, *119# or at desk 1).")

    def check_may_vaccinate(self, ticket: str, day: date) -> int:
        """The number of the dose that may be given today, or a clear refusal."""
        self.check_registered()
        if ticket != self.ticket:
            msg = "This ticket is not valid for the next dose: it was already used or replaced."
            raise TicketNotValid(msg)
        if len(self.doses) >= MAX_DOSES:
            raise NoMoreDoses("Both doses of this phase have been given; no third dose.")
        if self.screening != (day, ScreeningResult.ELIGIBLE):
            raise NotScreenedEligible("Screen the recipient at desk 2 today before the dose.")
        if self.doses and self.dose2_due and day < self.dose2_due:
            raise TooEarlyForDose2(f"Dose 2 is due from {self.dose2_due.isoformat()}, not before.")
        return len(self.doses) + 1

    def vaccinate(
        self, ticket: str, gtin: str, lot_number: str, vaccinator: str, interval_days: int,
        next_ticket: str, by: Provenance, opens_vial: bool = False, serial: str = "",
    ) -> int:
        day = by.day
        number = self.check_may_vaccinate(ticket, day)
        dose2_due = day + timedelta(days=interval_days) if number == 1 else None
        new_to_lot = not self.had_lot(gtin, lot_number, self.doses)
        self._vaccinated(number, gtin, lot_number, by.facility, vaccinator, day, dose2_due,
                         next_ticket if number < MAX_DOSES else "", self.district, self.phase, new_to_lot,
                         opens_vial, clean_text(serial, "The vial's serial", 20), by)
        return number

    @staticmethod
    def had_lot(gtin: str, lot_number: str, doses: list[Dose]) -> bool:
        return any((dose.gtin, dose.lot_number) == (gtin, lot_number) for dose in doses)

    class Vaccinated(Aggregate.Event):
        """Version 2 says whether this is the person's first dose from the lot (so the recall
        trace counts people, not doses, without a lookup); version 1 upcasts with dose 1 as
        the first from its lot (a dose 2 recorded then is taken as from the same lot). It also
        says whether the dose opened a vial, and the vial's serial when it had one; version 1
        did not know (taken as not opening one: open-vial figures start with version 2)."""

        class_version = 2
        number: int
        gtin: str
        lot_number: str
        facility: str
        vaccinator: str
        day: date
        dose2_due: date | None
        next_ticket: str
        district: str
        phase: int
        new_to_lot: bool
        opens_vial: bool
        serial: str
        by: Provenance

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["new_to_lot"] = state["number"] == 1
            state["opens_vial"] = False
            state["serial"] = ""

    @event(Vaccinated)
    def _vaccinated(
        self, number: int, gtin: str, lot_number: str, facility: str, vaccinator: str, day: date,
        dose2_due: date | None, next_ticket: str, district: str, phase: int, new_to_lot: bool,
        opens_vial: bool, serial: str, by: Provenance,
    ) -> None:
        self.__dict__.setdefault("dose_history", []).append((self.version + 1, self.ticket, self.dose2_due))
        self.doses.append(Dose(number, gtin, lot_number, facility, vaccinator, day))
        if dose2_due is not None:
            self.dose2_due = dose2_due
        self.ticket = next_ticket or None

    def void_last_dose(self, reason: str, by: Provenance) -> Dose:
        """The last dose was recorded on the wrong person's ticket: voided (a new fact that
        names the one it corrects); the ticket it used is valid again for the right record."""
        if not self.doses:
            raise NoDoseYet("There is no dose to void.")
        reason = clean_text(reason, "The reason")
        if not reason:
            raise OutOfBounds("Say why the dose record is voided.")
        last = self.doses[-1]
        corrects = self.__dict__.get("dose_history", [(0, None, None)])[-1][0]
        new_to_lot = not self.had_lot(last.gtin, last.lot_number, self.doses[:-1])
        self._dose_voided(last.number, last.gtin, last.lot_number, last.facility, last.day, reason, corrects,
                          self.district, self.phase, new_to_lot, by)
        return last

    @event("DoseVoided")
    def _dose_voided(self, number: int, gtin: str, lot_number: str, facility: str, day: date, reason: str,
                     corrects: int, district: str, phase: int, new_to_lot: bool, by: Provenance) -> None:
        self.doses.pop()
        history = self.__dict__.get("dose_history", [])
        if history:
            _, self.ticket, self.dose2_due = history.pop()

    def report_aefi(self, severity: Severity, description: str, by: Provenance) -> None:
        description = clean_text(description, "The description", LONG_TEXT)
        if not self.doses:
            raise NoDoseYet("An AEFI (KIPI) report needs a dose given first.")
        last = self.doses[-1]
        self._aefi_reported(severity, description, last.number, last.gtin, last.lot_number,
                            last.facility, self.district, self.phase, by)

    @event("AefiReported")
    def _aefi_reported(
        self, severity: Severity, description: str, dose: int, gtin: str, lot_number: str,
        facility: str, district: str, phase: int, by: Provenance,
    ) -> None:
        self.aefi.append(severity.value)

"""The campaign: logistics plus recipients, registration, screening and doses.

A dose saves the recipient and the facility's stock ledger in one write,
which is why recipients live in the same eventsourcing application as the
logistics aggregates.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder
from eventsourcing.utils import get_topic

from application.errors import NotFound
from application.handling import Outcome
from application.logistics import Logistics
from application.people import InvalidPersonalData, parse_phone
from application.sms import SmsGateway, SmsMessage
from application.target_lists import TargetLists
from application.transcodings import dataclass_transcoding, enum_transcoding
from domain.blast import Blast
from domain.facility import Facility
from domain.provenance import Provenance
from domain.recipient import (
    Category,
    Channel,
    Dose,
    Recipient,
    ScreeningResult,
    Severity,
    VisitOutcome,
    VisitUnit,
)
from domain.session import SessionFull, VaccinationSession
from domain.ticket import Ticket

DEFAULT_DAILY_CAPACITY = 100
DEFAULT_DOSE_INTERVAL_DAYS = 14  # CoronaVac: second dose 14 days after the first
TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class RecipientNotFound(NotFound):
    pass


class UnknownTicket(NotFound):
    pass


def new_ticket() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


class Campaign(TargetLists, Logistics):
    name = "campaign"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for enum in (Category, Channel, ScreeningResult, Severity, VisitOutcome, VisitUnit):
            transcoder.register(enum_transcoding(enum))
        transcoder.register(dataclass_transcoding(Dose))

    def get_recipient(self, recipient_id: UUID) -> Recipient:
        return self.load(Recipient, recipient_id, RecipientNotFound,
                         "This person is not on the target list.")

    def find_by_nik(self, nik: str) -> Recipient:
        return self.get_recipient(self.recipient_id(self.parse_nik(nik)))

    def find_by_ticket(self, token: str) -> Recipient:
        ticket = self.load(Ticket, Ticket.id_for(token.strip().upper()), UnknownTicket,
                           "This ticket is not known: check the code or register at desk 1.")
        return self.get_recipient(ticket.recipient_id)

    # SMS blast

    def start_blast(
        self, phase: int, districts: list[str], message: str, deadline: datetime, by: Provenance,
        resend: bool = False,
    ) -> Blast:
        """The blast for these targets: the unfinished one resumes; ``resend``
        starts a new run that messages everyone again."""
        for district in districts:
            if self.regions is not None and not self.regions.has_district(district):
                raise InvalidPersonalData(f"District {district!r} is not a known kabupaten/kota code.")
        run = 0
        while Blast.id_for(phase, districts, run) in self.repository:
            run += 1
        if run > 0 and not resend:
            return self.repository.get(Blast.id_for(phase, districts, run - 1))
        blast = Blast(phase, districts, run, message, deadline, by)
        self.save(blast)
        return blast

    def send_blast(
        self, blast_id: UUID, gateway: SmsGateway, by: Provenance, page_size: int = 1000
    ) -> Iterator[int]:
        """Send to every target after the blast's cursor, a page at a time;
        yields the number sent so far after each recorded page."""
        blast: Blast = self.repository.get(blast_id)
        topics = [get_topic(Recipient.Targeted)]
        districts = set(blast.districts)
        while True:
            page = self.recorder.select_notifications(blast.cursor + 1, page_size, topics=topics)
            if not page:
                return
            messages, recipients, per_district = [], [], Counter[str]()
            for notification in page:
                targeted = self.mapper.to_domain_event(notification)
                if targeted.phase == blast.phase and targeted.district in districts and targeted.phone:
                    messages.append(SmsMessage(blast.message_id(targeted.originator_id),
                                               targeted.phone, blast.message))
                    recipients.append(targeted.originator_id.hex)
                    per_district[targeted.district] += 1
            if messages:
                gateway.send(messages)
            blast.record_batch(recipients, dict(per_district), page[-1].id, by)
            self.save(blast)
            yield blast.sent

    @staticmethod
    def recipient_of_message(message_id: str) -> UUID:
        try:
            return UUID(hex=message_id.rsplit("-", 1)[1])
        except (IndexError, ValueError):
            raise RecipientNotFound(f"Message id {message_id!r} was not sent by a Rantai blast.") from None

    # SMS delivery reports

    def record_delivery(self, recipient_id: UUID, message_id: str, delivered: bool, reason: str,
                        by: Provenance) -> Outcome:
        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = self.get_recipient(recipient_id)
            recipient.report_delivery(message_id, "delivered" if delivered else "failed", reason, by)
            return {"recipient": recipient_id.hex}, [recipient]

        return self.handle("record_delivery", by, decide, key=f"delivery:{message_id}:{delivered}")

    # Registration and scheduling

    @property
    def daily_capacity(self) -> int:
        return int(self.env.get("DAILY_CAPACITY") or DEFAULT_DAILY_CAPACITY)

    def session(self, facility: str, day: date, by: Provenance) -> VaccinationSession:
        found = self.find(VaccinationSession, VaccinationSession.id_for(facility, day))
        return found or VaccinationSession.open(facility, day, self.daily_capacity, by)

    def has_room(self, facility: str, day: date) -> bool:
        found = self.find(VaccinationSession, VaccinationSession.id_for(facility, day))
        return found.has_room if found else self.daily_capacity > 0

    def free_days(self, facility: str, after: date, count: int = 3, horizon: int = 21) -> list[date]:
        days = (after + timedelta(days=n) for n in range(1, horizon + 1))
        return [day for day in days if self.has_room(facility, day)][:count]

    def register(
        self, nik: str, phone_last_four: str | None, channel: Channel, facility: str, day: date,
        by: Provenance, phone: str | None = None,
    ) -> Outcome:
        """Register a targeted person for a facility and day; answers the ticket."""
        recipient_id = self.recipient_id(self.parse_nik(nik))

        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = self.get_recipient(recipient_id)
            if channel is not Channel.FIELD:  # an officer checks identity in person, phone or not
                recipient.check_phone_digits(parse_phone(phone)[-4:] if phone else (phone_last_four or "").strip())
            place = self.get_facility(facility)
            session = self.session(place.code, day, by)
            try:
                session.book(recipient_id, by)
            except SessionFull:
                raise SessionFull(
                    f"{place.label()} is fully booked on {day.isoformat()}.",
                    self.free_days(place.code, day),
                ) from None
            token = new_ticket()
            recipient.register(channel, place.code, day, token, by)
            ticket = Ticket(token, recipient_id, 1, by)
            result = {"ticket": token, "facility": place.code, "day": day.isoformat()}
            return result, [recipient, session, ticket]

        return self.handle("register", by, decide)

    def facilities_in_kecamatan(self, kecamatan: str) -> list[Facility]:
        code = "P" + kecamatan.replace(".", "")
        found = self.find(Facility, Facility.id_for(code))
        return [found] if found else []

    # Field visits

    def assign_visit(self, recipient_id: UUID, unit: VisitUnit, officer: str, by: Provenance) -> Outcome:
        return self._change_recipient(recipient_id, by, lambda r: r.assign_visit(unit, officer, by))

    def report_visit(self, recipient_id: UUID, outcome: VisitOutcome, note: str, by: Provenance) -> Outcome:
        return self._change_recipient(recipient_id, by, lambda r: r.report_visit(outcome, note, by))

    def _change_recipient(self, recipient_id: UUID, by: Provenance, change: Any) -> Outcome:
        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = self.get_recipient(recipient_id)
            change(recipient)
            return {"recipient": recipient_id.hex}, [recipient]

        return self.handle("change_recipient", by, decide)

    # At the puskesmas

    def screen(self, ticket: str, result: ScreeningResult, reason: str, until: date | None,
               by: Provenance) -> Outcome:
        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = self.find_by_ticket(ticket)
            recipient.screen(result, reason, until, by)
            return {"recipient": recipient.id.hex, "result": result.value}, [recipient]

        return self.handle("screen", by, decide)

    def vaccinate(self, ticket: str, gtin: str, lot_number: str, vaccinator: str, by: Provenance,
                  key: str | None = None) -> Outcome:
        """Desk 3/4: ticket + vial scanned; the dose and the stock card move together."""

        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = self.find_by_ticket(ticket)
            lot = self.get_lot(gtin, lot_number)
            ledger = self.get_stock(by.facility)
            next_token = new_ticket()
            number = recipient.vaccinate(ticket.strip().upper(), lot.gtin, lot_number, vaccinator,
                                         self.dose_interval_days, next_token, by)
            ledger.administer(lot, 1, f"dose {number}", by)
            changed: list[Any] = [recipient, ledger]
            if recipient.ticket:
                changed.append(Ticket(next_token, recipient.id, number + 1, by))
            result = {"recipient": recipient.id.hex, "dose": str(number),
                      "next_ticket": recipient.ticket or "",
                      "dose2_due": recipient.dose2_due.isoformat() if recipient.dose2_due else ""}
            return result, changed

        return self.handle("vaccinate", by, decide, key)

    @property
    def dose_interval_days(self) -> int:
        return int(self.env.get("DOSE_INTERVAL_DAYS") or DEFAULT_DOSE_INTERVAL_DAYS)

    def report_aefi(self, ticket_or_id: str | UUID, severity: Severity, description: str,
                    by: Provenance) -> Outcome:
        def decide() -> tuple[dict[str, str], list[Any]]:
            recipient = (self.get_recipient(ticket_or_id) if isinstance(ticket_or_id, UUID)
                         else self.find_by_ticket(ticket_or_id))
            recipient.report_aefi(severity, description, by)
            return {"recipient": recipient.id.hex}, [recipient]

        return self.handle("report_aefi", by, decide)


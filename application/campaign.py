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

from application.access import CAMPAIGN, Caller
from application.accounts import Accounts
from application.errors import NotFound
from application.handling import Decision, Outcome, RequestKey
from application.logistics import Logistics
from application.people import InvalidPersonalData, parse_phone
from application.sms import SmsGateway, SmsMessage
from application.target_lists import TargetLists
from application.transcodings import dataclass_transcoding, enum_transcoding
from domain.blast import Blast
from domain.calendar import local_day
from domain.errors import RuleBroken
from domain.facility import Facility
from domain.phase import PhaseCalendar, RegistrationClosed
from domain.provenance import Provenance
from domain.recipient import (
    Category,
    Channel,
    Dose,
    NoDoseYet,
    Recipient,
    ScreeningResult,
    Severity,
    VisitOutcome,
    VisitUnit,
)
from domain.session import SessionFull, VaccinationSession
from domain.ticket import Ticket
from domain.user import Role, TokenKind

DEFAULT_DAILY_CAPACITY = 100
DEFAULT_DOSE_INTERVAL_DAYS = 14  # CoronaVac: second dose 14 days after the first
TICKET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


class RecipientNotFound(NotFound):
    pass


class UnknownTicket(NotFound):
    pass


class UnknownMessage(NotFound):
    pass


class NoMatch(RuleBroken):
    """Public registration: the NIK and phone digits do not match anyone on the
    list. One answer for an unknown NIK and for wrong digits, so the answer
    does not tell whether a NIK is on the target list."""


UNKNOWN_MESSAGE = "This delivery report is for a message Rantai did not send."
NO_MATCH = ("The NIK and the last digits of the phone do not match anyone on the target list: "
            "check both, or ask the district health office.")


def new_ticket() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


class Campaign(Accounts, TargetLists, Logistics):
    name = "campaign"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for enum in (Category, Channel, ScreeningResult, Severity, VisitOutcome, VisitUnit, Role, TokenKind):
            transcoder.register(enum_transcoding(enum))
        transcoder.register(dataclass_transcoding(Dose))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sms: SmsGateway | None = None  # set by the wiring: tickets and reminders go through it

    def get_recipient(self, recipient_id: UUID) -> Recipient:
        return self.load(Recipient, recipient_id, RecipientNotFound,
                         "This person is not on the target list.")

    def find_by_nik(self, nik: str) -> Recipient:
        return self.get_recipient(self.recipient_id(self.parse_nik(nik)))

    def find_by_ticket(self, token: str) -> Recipient:
        ticket = self.load(Ticket, Ticket.id_for(token.strip().upper()), UnknownTicket,
                           "This ticket is not known: check the code or register at desk 1.")
        return self.get_recipient(ticket.recipient_id)

    # The campaign calendar and the SMS blast

    def set_calendar(self, phase: int, deadline: datetime, days: list[date], caller: Caller) -> Outcome:
        """Per phase: when web and USSD registration close, and the vaccination days."""

        def decide() -> Decision:
            by = self.acting("run_blast", caller, CAMPAIGN)
            calendar = self.find(PhaseCalendar, PhaseCalendar.id_for(phase))
            if calendar is None:
                calendar = PhaseCalendar.set(phase, deadline, days, by)
            else:
                calendar.change(deadline, days, by)
            return {"phase": str(phase)}, [calendar], by

        return self.handle("set_calendar", caller, decide)

    def calendar(self, phase: int) -> PhaseCalendar:
        found = self.find(PhaseCalendar, PhaseCalendar.id_for(phase))
        if found is None:
            raise RegistrationClosed("Registration for this phase has not opened yet.")
        return found

    def start_blast(
        self, phase: int, districts: list[str], message: str, deadline: datetime, caller: Caller,
        resend: bool = False,
    ) -> Blast:
        """The blast for these targets: the unfinished one resumes; ``resend``
        starts a new run that messages everyone again."""
        by = self.acting("run_blast", caller, CAMPAIGN)
        for district in districts:
            if self.regions is not None and not self.regions.has_district(district):
                raise InvalidPersonalData("A district is not a known kabupaten/kota code.")
        run = 0
        while Blast.id_for(phase, districts, run) in self.repository:
            run += 1
        if run > 0 and not resend:
            return self.find(Blast, Blast.id_for(phase, districts, run - 1))
        blast = Blast(phase, districts, run, message, deadline, by)
        self.save(blast)
        return blast

    def send_blast(
        self, blast_id: UUID, gateway: SmsGateway, caller: Caller, page_size: int = 1000
    ) -> Iterator[int]:
        """Send to every target after the blast's cursor, a page at a time;
        yields the number sent so far after each recorded page."""
        by = self.acting("run_blast", caller, CAMPAIGN)
        blast: Blast = self.find(Blast, blast_id)
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

    # SMS delivery reports (the provider's callback, behind its shared secret)

    def record_delivery(self, message_id: str, delivered: bool, reason: str) -> Outcome:
        """A delivery report for a blast message. The gateway adapter has already
        checked that Rantai sent ``message_id``; its recipient is named in it."""
        recipient_id = self._recipient_of_message(message_id)
        by = self.system("sms-gateway")

        def decide() -> Decision:
            recipient = self.find(Recipient, recipient_id)
            if recipient is None:
                raise UnknownMessage(UNKNOWN_MESSAGE)
            recipient.report_delivery(message_id, "delivered" if delivered else "failed", reason[:200], by)
            return {"recipient": recipient_id.hex}, [recipient], by

        return self.handle("record_delivery", Caller.operator("sms-gateway"), decide,
                           key=f"delivery:{message_id}:{delivered}")

    @staticmethod
    def _recipient_of_message(message_id: str) -> UUID:
        prefix, _, recipient = message_id.partition("-")
        if len(prefix) != 12 or len(recipient) != 32:
            raise UnknownMessage(UNKNOWN_MESSAGE)
        try:
            return UUID(hex=recipient)
        except ValueError:
            raise UnknownMessage(UNKNOWN_MESSAGE) from None

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

    def free_days(self, facility: str, days: list[date], count: int = 3) -> list[date]:
        return [day for day in days if self.has_room(facility, day)][:count]

    def bookable_days(self, facility: str, phase: int, count: int = 5) -> list[date]:
        """The phase's vaccination days from today on (in the facility's zone) that still have room."""
        today = self.today_at(facility)
        days = [d for d in self.calendar(phase).days if d >= today]
        return [d for d in days if self.has_room(facility, d)][:count]

    def register(
        self, nik: str, phone_last_four: str | None, channel: Channel, facility: str, day: date,
        caller: Caller | None = None, phone: str | None = None,
    ) -> Outcome:
        """Register a targeted person for a facility and day; answers the ticket.

        Web and USSD are public (``caller`` is None; the person proves who they
        are with the last digits of the phone that got the SMS) and close at the
        phase's deadline; a district officer registers in the field after it."""
        recipient_id = self.recipient_id(self.parse_nik(nik))

        def decide() -> Decision:
            recipient = self.find(Recipient, recipient_id)
            if channel is Channel.FIELD:  # an officer checks identity in person, phone or not
                if recipient is None:
                    raise RecipientNotFound("This person is not on the target list.")
                by = self.acting("register_field", caller or Caller("nobody", Role.AUDITOR),
                                 recipient.district, f"this person lives in {recipient.district}")
            else:
                given = parse_phone(phone)[-4:] if phone else (phone_last_four or "").strip()
                if recipient is None or not recipient.phone_digits_match(given):
                    raise NoMatch(NO_MATCH)
                by = self.public(channel, facility)
                self.calendar(recipient.phase).check_open(by.occurred_at)
            return self._book(recipient, channel, facility, day, by)

        outcome = self.handle("register", caller or Caller.operator(f"self:{channel.value}"), decide)
        self._send_ticket(recipient_id, outcome)
        return outcome

    def _book(self, recipient: Recipient, channel: Channel, facility: str, day: date, by: Provenance) -> Decision:
        place = self.get_facility(facility)
        recipient.check_booking_place(place)
        calendar = self.calendar(recipient.phase)
        today = local_day(by.occurred_at, place.zone)
        calendar.check_day(day, today)
        session = self.session(place.code, day, by)
        try:
            session.book(recipient.id, by)
        except SessionFull:
            others = [d for d in calendar.days if d >= today and d != day]
            raise SessionFull(f"{place.label()} is fully booked on {day.isoformat()}.",
                              self.free_days(place.code, others)) from None
        token = new_ticket()
        recipient.register(channel, place.code, day, token, by)
        ticket = Ticket(token, recipient.id, 1, by)
        result = {"ticket": token, "facility": place.code, "day": day.isoformat()}
        return result, [recipient, session, ticket], by

    def move_booking(
        self, nik: str | None, phone_last_four: str | None, facility: str, day: date,
        caller: Caller | None = None, ticket: str | None = None,
    ) -> Outcome:
        """Move a booking to another day or facility under the same rules: by the
        same proofs as registration (public), or at the puskesmas desk by ticket."""

        def decide() -> Decision:
            if caller is None:
                recipient = self.find(Recipient, self.recipient_id(self.parse_nik(nik or "")))
                if recipient is None or not recipient.phone_digits_match((phone_last_four or "").strip()):
                    raise NoMatch(NO_MATCH)
                by = self.public(recipient.channel or Channel.WEB, facility)
            else:
                recipient = self.find_by_ticket(ticket or "")
                by = self.acting("move_booking", caller, recipient.facility or facility,
                                 "this booking is elsewhere")
            place = self.get_facility(facility)
            recipient.check_booking_place(place)
            calendar = self.calendar(recipient.phase)
            calendar.check_day(day, local_day(by.occurred_at, place.zone))
            old = self.session(recipient.facility, recipient.day, by) if recipient.facility else None
            new = self.session(place.code, day, by)
            if old is not None and old.id == new.id:
                return {"ticket": recipient.ticket or "", "facility": place.code, "day": day.isoformat()}, [], by
            try:
                new.book(recipient.id, by)
            except SessionFull:
                others = [d for d in calendar.days if d >= self.today_at(place.code) and d != day]
                raise SessionFull(f"{place.label()} is fully booked on {day.isoformat()}.",
                                  self.free_days(place.code, others)) from None
            recipient.move_booking(place.code, day, by)
            changed: list[Any] = [recipient, new]
            if old is not None:
                old.cancel_booking(recipient.id, by)
                changed.append(old)
            result = {"ticket": recipient.ticket or "", "facility": place.code, "day": day.isoformat()}
            return result, changed, by

        return self.handle("move_booking", caller or Caller.operator("self:web"), decide)

    def public(self, channel: Channel, facility: str) -> Provenance:
        """The provenance of a person registering themselves: the server's clock,
        the facility they book at (or the campaign when it is not known)."""
        place = self.find(Facility, Facility.id_for(facility))
        zone = place.zone if place else "Asia/Jakarta"
        return Provenance(f"self:{channel.value}", place.code if place else CAMPAIGN, channel.value,
                          self.clock(), zone, "public")

    def facilities_in_kecamatan(self, kecamatan: str) -> list[Facility]:
        code = "P" + kecamatan.replace(".", "")
        found = self.find(Facility, Facility.id_for(code))
        return [found] if found else []

    # Messages to recipients (through the SMS gateway the wiring sets)

    def _send_ticket(self, recipient_id: UUID, outcome: Outcome) -> None:
        if self.sms is None or outcome.repeated or not outcome.result.get("ticket"):
            return
        recipient = self.get_recipient(recipient_id)
        if recipient.phone:
            place = self.get_facility(outcome.result["facility"])
            text = (f"Vaksinasi COVID-19: Anda terdaftar di {place.name}, {outcome.result['day']}. "
                    f"Tiket: {outcome.result['ticket']}. Bawa KTP.")
            self.sms.send([SmsMessage(f"ticket-{outcome.result['ticket']}", recipient.phone, text)])

    def _send_dose2(self, recipient: Recipient) -> None:
        if self.sms is None or not recipient.phone or not recipient.ticket or not recipient.dose2_due:
            return
        text = (f"Vaksinasi COVID-19 dosis 1 tercatat. Dosis 2 mulai {recipient.dose2_due.isoformat()} "
                f"di {recipient.facility}. Tiket baru: {recipient.ticket}.")
        self.sms.send([SmsMessage(f"ticket-{recipient.ticket}", recipient.phone, text)])

    def send_reminders(self, day: date) -> int:
        """An SMS the day before to everyone booked on ``day`` or due for dose 2 on it."""
        if self.sms is None:
            return 0
        due: dict[UUID, str] = {}
        topics = [get_topic(Recipient.Scheduled), get_topic(Recipient.Vaccinated), get_topic(Recipient.BookingMoved)]
        start = 1
        while page := self.recorder.select_notifications(start, 1000, topics=topics):
            for notification in page:
                event = self.mapper.to_domain_event(notification)
                when = getattr(event, "day", None) if not hasattr(event, "dose2_due") else event.dose2_due
                if when == day:
                    due[event.originator_id] = notification.topic
            start = page[-1].id + 1
        messages = []
        for recipient_id in due:
            recipient = self.get_recipient(recipient_id)
            booked = recipient.day == day or recipient.dose2_due == day
            if recipient.phone and recipient.ticket and booked and len(recipient.doses) < 2:
                place = self.get_facility(recipient.facility or "").name if recipient.facility else "-"
                text = (f"Pengingat: vaksinasi COVID-19 Anda besok, {day.isoformat()}, di {place}. "
                        f"Tiket: {recipient.ticket}. Bawa KTP.")
                messages.append(SmsMessage(f"reminder-{recipient_id.hex}-{day.isoformat()}", recipient.phone, text))
        if messages:
            self.sms.send(messages)
        return len(messages)

    # Field visits

    def assign_visit(self, recipient_id: UUID, unit: VisitUnit, officer: str, caller: Caller) -> Outcome:
        return self._change_recipient(recipient_id, caller, "visit", lambda r, by: r.assign_visit(unit, officer, by))

    def report_visit(self, recipient_id: UUID, outcome: VisitOutcome, note: str, caller: Caller) -> Outcome:
        return self._change_recipient(recipient_id, caller, "visit", lambda r, by: r.report_visit(outcome, note, by))

    def _change_recipient(self, recipient_id: UUID, caller: Caller, name: str, change: Any) -> Outcome:
        def decide() -> Decision:
            recipient = self.get_recipient(recipient_id)
            by = self.acting(name, caller, recipient.district, f"this person lives in {recipient.district}")
            change(recipient, by)
            return {"recipient": recipient_id.hex}, [recipient], by

        return self.handle(name, caller, decide)

    # At the puskesmas

    def ticket_for(self, ticket: str, caller: Caller) -> Recipient:
        """Desk 1: the booking behind a ticket, for staff of the facility it is booked at."""
        self.check_role(caller, "read_ticket")
        recipient = self.find_by_ticket(ticket)
        self.check_readable(caller, "read_ticket", recipient.facility or recipient.district)
        return recipient

    def may_see_personal_data(self, caller: Caller, recipient: Recipient) -> bool:
        """Desk 1 of the recipient's own puskesmas, and the district officer for visits."""
        if caller.role is Role.VACCINATOR:
            return caller.scope == recipient.facility
        if caller.role is Role.DISTRICT_OFFICER:
            return self.within(caller.scope, recipient.district)
        return False

    def record_personal_data_read(self, caller: Caller, recipients: list[Recipient], purpose: str) -> None:
        """Every unmasked read of personal data is a fact: who looked at whose record, when."""
        if not recipients:
            return
        first = recipients[0]
        at_desk = caller.role is Role.VACCINATOR and first.facility
        by = self.acting("read_recipient", caller, first.facility if at_desk else first.district)
        for recipient in recipients:
            recipient.record_access(purpose, by)
        self.save(*recipients)

    def screen(self, ticket: str, result: ScreeningResult, reason: str, until: date | None,
               caller: Caller) -> Outcome:
        def decide() -> Decision:
            recipient = self.find_by_ticket(ticket)
            by = self._at_desk("screen", caller, recipient)
            recipient.screen(result, reason, until, by)
            return {"recipient": recipient.id.hex, "result": result.value}, [recipient], by

        return self.handle("screen", caller, decide)

    def _at_desk(self, name: str, caller: Caller, recipient: Recipient) -> Provenance:
        recipient.check_registered()
        return self.acting(name, caller, recipient.facility or recipient.district,
                           f"this person is booked at {recipient.facility}")

    def vaccinate(self, ticket: str, gtin: str, lot_number: str, vaccinator: str, caller: Caller,
                  key: RequestKey | str | None = None, serial: str = "", opens_vial: bool | None = None) -> Outcome:
        """Desk 3/4: ticket + vial scanned; the dose and the stock card move together,
        at the facility the person is booked at. A serialised vial (GS1 AI 21) says by
        itself whether this dose opens it; without a serial the vaccinator says so
        (``opens_vial``; a single-dose vial always does)."""
        decided: list[Recipient] = []  # the person as the saved attempt left them: the SMS needs no reload

        def decide() -> Decision:
            recipient = self.find_by_ticket(ticket)
            decided[:] = [recipient]
            by = self._at_desk("vaccinate", caller, recipient)
            lot = self.get_lot(gtin, lot_number)
            ledger = self.get_stock(by.facility)
            next_token = new_ticket()
            changed: list[Any] = []
            opens = lot.doses_per_vial == 1 or bool(opens_vial)
            if serial:
                session = self.session(by.facility, by.day, by)
                opens = session.opens(lot.gtin, lot_number, serial)
                if opens:
                    session.open_vial(lot.gtin, lot_number, serial, lot.doses_per_vial, by)
                    changed.append(session)
            number = recipient.vaccinate(ticket.strip().upper(), lot.gtin, lot_number, vaccinator or caller.username,
                                         self.dose_interval_days, next_token, by, opens, serial)
            ledger.administer(lot, 1, f"dose {number}", by)
            changed += [recipient, ledger]
            if recipient.ticket:
                changed.append(Ticket(next_token, recipient.id, number + 1, by))
            result = {"recipient": recipient.id.hex, "dose": str(number),
                      "next_ticket": recipient.ticket or "",
                      "dose2_due": recipient.dose2_due.isoformat() if recipient.dose2_due else ""}
            return result, changed, by

        outcome = self.handle("vaccinate", caller, decide, key, (ticket, gtin, lot_number))
        if not outcome.repeated and outcome.result.get("next_ticket"):
            self._send_dose2(decided[0])
        return outcome

    def close_session(self, facility: str, day: date, discarded_vials: int, caller: Caller) -> Outcome:
        """The end of a session: how many opened vials were discarded (open-vial wastage)."""

        def decide() -> Decision:
            by = self.acting("vaccinate", caller, self.get_facility(facility).code)
            session = self.session(facility, day, by)
            session.close(discarded_vials, by)
            return {"facility": facility, "day": day.isoformat()}, [session], by

        return self.handle("close_session", caller, decide)

    def void_dose(self, ticket: str, reason: str, caller: Caller) -> Outcome:
        """A dose recorded on the wrong ticket (``ticket``: the one it issued) is voided at the
        puskesmas that recorded it; its dose returns to the card to be recorded on the right one."""

        def decide() -> Decision:
            recipient = self.find_by_ticket(ticket)
            if not recipient.doses:
                raise NoDoseYet("There is no dose to void on this ticket.")
            by = self.acting("void_dose", caller, recipient.doses[-1].facility,
                             f"this dose was recorded at {recipient.doses[-1].facility}")
            dose = recipient.void_last_dose(reason, by)
            ledger = self.get_stock(dose.facility)
            ledger.void_administration(self.get_lot(dose.gtin, dose.lot_number), recipient.id.hex, reason, by)
            return {"recipient": recipient.id.hex, "voided_dose": str(dose.number),
                    "ticket": recipient.ticket or ""}, [recipient, ledger], by

        return self.handle("void_dose", caller, decide)

    @property
    def dose_interval_days(self) -> int:
        return int(self.env.get("DOSE_INTERVAL_DAYS") or DEFAULT_DOSE_INTERVAL_DAYS)

    def report_aefi(self, ticket_or_id: str | UUID, severity: Severity, description: str,
                    caller: Caller) -> Outcome:
        def decide() -> Decision:
            recipient = (self.get_recipient(ticket_or_id) if isinstance(ticket_or_id, UUID)
                         else self.find_by_ticket(ticket_or_id))
            by = self.acting("report_aefi", caller, recipient.doses[-1].facility if recipient.doses
                             else (recipient.facility or recipient.district))
            recipient.report_aefi(severity, description, by)
            return {"recipient": recipient.id.hex}, [recipient], by

        return self.handle("report_aefi", caller, decide)

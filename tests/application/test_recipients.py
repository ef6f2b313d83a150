"""Recipients: target lists, registration, screening, doses — on both backends."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

import pytest

from application.campaign import Campaign, NoMatch, RecipientNotFound, UnknownTicket
from application.logistics import NATIONAL_WAREHOUSE
from application.people import InvalidPersonalData
from domain.lot import ExpiredLot
from application.access import Caller
from domain.recipient import (
    Channel,
    NoDoseYet,
    NoMoreDoses,
    NotScreenedEligible,
    ScreeningIncomplete,
    ScreeningResult,
    Severity,
    TicketNotValid,
    TooEarlyForDose2,
    VisitOutcome,
    VisitUnit,
    WrongPhoneDigits,
)
from domain.session import SessionFull
from domain.stock_ledger import InsufficientStock
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, refused, target_row

PUSKESMAS = "P327301"
JAN_14 = date(2021, 1, 14)
WIB = timezone(timedelta(hours=7))
DEADLINE = datetime(2021, 1, 13, 23, 59, 59, tzinfo=WIB)


def import_rows(app: Campaign, rows: list[dict[str, str]], by: Caller):
    batches = list(app.import_targets(enumerate(rows, start=2), 1, "SDMK 2021", by, batch_size=2))
    imported = sum(b.imported for b in batches)
    rejected = [r for b in batches for r in b.rejected]
    return imported, rejected


@pytest.fixture
def clinic(chain: ColdChain) -> ColdChain:
    """Vaccine at a puskesmas in Kota Bandung, and three targeted health workers."""
    chain.release(vials=100)
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 50)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 30)))
    chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 20)))
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], chain.by("KEMENKES", "admin"))
    open_phase(chain)
    return chain


def open_phase(chain: ColdChain) -> None:
    """Phase 1's calendar: registration closes at midnight WIB on 13 January; doses on 14-16 January."""
    chain.app.set_calendar(1, DEADLINE, [JAN_14, JAN_14 + timedelta(days=1), JAN_14 + timedelta(days=2)],
                           chain.by("KEMENKES", "admin"))


def register(chain: ColdChain, serial: int = 1, day: date = JAN_14) -> str:
    outcome = chain.app.register(nik(serial=serial), f"{serial:08d}"[-4:], Channel.WEB, PUSKESMAS, day,
                                 chain.by("web"))
    return outcome.result["ticket"]


def at(chain: ColdChain, day: date) -> Caller:
    """The puskesmas's vaccinator at 09:00 WIB on ``day``: the scenario's clock moves there."""
    chain.now = datetime.combine(day, time(9), tzinfo=WIB)
    return Caller.operator("vaksinator.ani", device="tablet-3", occurred_at=chain.now)


def screen_and_vaccinate(chain: ColdChain, ticket: str, day: date = JAN_14):
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, day))
    return chain.app.vaccinate(ticket, CORONAVAC, "CV001", "vaksinator.ani", at(chain, day))


def test_import_validates_every_row_and_deduplicates_by_nik(chain: ColdChain) -> None:
    rows = [
        target_row(1),
        target_row(2, nik="32730117088500"),  # 14 digits
        target_row(3, nik=nik(born="331385", serial=3)),  # 33 December: impossible date
        target_row(4, nik=nik(kecamatan="329901", serial=4)),  # no such kecamatan
        target_row(1),  # the same NIK again
        target_row(6, phone="+14155550100"),  # not Indonesian
        target_row(7, phone="6281200000007"),
    ]
    imported, rejected = import_rows(chain.app, rows, chain.by("KEMENKES"))
    assert imported == 2
    reasons = dict(rejected)
    assert "16 digits" in reasons[3]
    assert "impossible birth date" in reasons[4]
    assert "not a known kecamatan" in reasons[5]
    assert "earlier in this file" in reasons[6] or "already on the target list" in reasons[6]
    assert "not a valid Indonesian number" in reasons[7]
    assert sorted(reasons) == [3, 4, 5, 6, 7]
    assert chain.app.find_by_nik(nik(serial=7)).phone == "+6281200000007"


def test_importing_the_same_list_twice_changes_nothing(chain: ColdChain) -> None:
    rows = [target_row(i) for i in range(1, 6)]
    assert import_rows(chain.app, rows, chain.by("KEMENKES"))[0] == 5
    position = last_position(chain.app)
    imported, rejected = import_rows(chain.app, rows, chain.by("KEMENKES"))
    assert imported == 0 and len(rejected) == 5
    assert last_position(chain.app) == position


def test_registers_with_last_four_phone_digits_and_issues_a_ticket(clinic: ColdChain) -> None:
    ticket = register(clinic)
    recipient = clinic.app.find_by_ticket(ticket)
    assert (recipient.channel, recipient.facility, recipient.day) == (Channel.WEB, PUSKESMAS, JAN_14)
    assert len(ticket) == 10 and nik(serial=1) not in ticket


def test_refuses_registration_for_unknown_nik_or_wrong_phone_digits_with_one_answer(clinic: ColdChain) -> None:
    with refused(clinic.app, NoMatch, "do not match anyone on the target list") as unknown:
        clinic.app.register(nik(serial=99), "0099", Channel.WEB, PUSKESMAS, JAN_14)
    with refused(clinic.app, NoMatch) as wrong_digits:
        clinic.app.register(nik(serial=1), "9999", Channel.WEB, PUSKESMAS, JAN_14)
    assert str(unknown.value) == str(wrong_digits.value)
    with refused(clinic.app, InvalidPersonalData, "16 digits"):
        clinic.app.register("123", "0001", Channel.WEB, PUSKESMAS, JAN_14, clinic.by("web"))


def test_full_session_is_refused_with_next_free_dates(clinic: ColdChain, store_env) -> None:
    clinic.app.env["DAILY_CAPACITY"] = "2"
    register(clinic, 1)
    register(clinic, 2)
    with refused(clinic.app, SessionFull, "fully booked on 2021-01-14") as info:
        register(clinic, 3)
    assert info.value.free_days == [JAN_14 + timedelta(days=n) for n in (1, 2)]  # the phase's other days
    register(clinic, 3, day=JAN_14 + timedelta(days=1))


def test_dose_needs_an_eligible_screening_that_day(clinic: ColdChain) -> None:
    ticket = register(clinic)
    with refused(clinic.app, NotScreenedEligible, "Screen the recipient"):
        clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, JAN_14))
    clinic.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, JAN_14 - timedelta(days=1)))
    with refused(clinic.app, NotScreenedEligible):
        clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, JAN_14))
    clinic.app.screen(ticket, ScreeningResult.POSTPONED, "fever 38.5", JAN_14 + timedelta(days=3),
                      at(clinic, JAN_14))
    with refused(clinic.app, NotScreenedEligible):
        clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, JAN_14))


def test_postponement_and_refusal_need_a_reason(clinic: ColdChain) -> None:
    ticket = register(clinic)
    with refused(clinic.app, ScreeningIncomplete, "reason"):
        clinic.app.screen(ticket, ScreeningResult.NOT_ELIGIBLE, " ", None, at(clinic, JAN_14))
    with refused(clinic.app, ScreeningIncomplete, "date to come back"):
        clinic.app.screen(ticket, ScreeningResult.POSTPONED, "fever", None, at(clinic, JAN_14))


def test_dose_draws_on_the_facility_stock_in_the_same_write(clinic: ColdChain) -> None:
    ticket = register(clinic)
    clinic.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, JAN_14))
    before = last_position(clinic.app)
    outcome = clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, JAN_14))
    topics = [n.topic.split(":")[1] for n in clinic.app.recorder.select_notifications(before + 1, 10)]
    assert topics == ["Recipient.Vaccinated", "StockLedger.Administered", "Ticket.Issued"]
    assert outcome.result["dose"] == "1" and outcome.result["dose2_due"] == "2021-01-28"
    assert clinic.on_hand(PUSKESMAS) == 19


def test_dose_2_not_before_the_interval_and_no_third_dose(clinic: ColdChain) -> None:
    first = screen_and_vaccinate(clinic, register(clinic))
    second_ticket = first.result["next_ticket"]
    early = JAN_14 + timedelta(days=13)
    clinic.app.screen(second_ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, early))
    with refused(clinic.app, TooEarlyForDose2, "due from 2021-01-28"):
        clinic.app.vaccinate(second_ticket, CORONAVAC, "CV001", "ani", at(clinic, early))
    second = screen_and_vaccinate(clinic, second_ticket, JAN_14 + timedelta(days=14))
    assert second.result["dose"] == "2" and second.result["next_ticket"] == ""
    with refused(clinic.app, NoMoreDoses):
        clinic.app.screen(second_ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, JAN_14 + timedelta(days=15)))
    assert clinic.on_hand(PUSKESMAS) == 18


def test_a_replayed_ticket_is_refused(clinic: ColdChain) -> None:
    ticket = register(clinic)
    screen_and_vaccinate(clinic, ticket)
    with refused(clinic.app, TicketNotValid, "already used"):
        clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, JAN_14 + timedelta(days=20)))
    with refused(clinic.app, UnknownTicket):
        clinic.app.vaccinate("NOSUCHCODE", CORONAVAC, "CV001", "ani", at(clinic, JAN_14))


def test_dose_lot_must_be_on_hand_here_and_usable(clinic: ColdChain) -> None:
    ticket = register(clinic)
    clinic.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, JAN_14))
    clinic.release(lot="OTHER", vials=5)  # at Bio Farma, not at this puskesmas
    with refused(clinic.app, InsufficientStock, "Only 0 vials of lot OTHER"):
        clinic.app.vaccinate(ticket, CORONAVAC, "OTHER", "ani", at(clinic, JAN_14))
    late = date(2022, 1, 3)  # CV001 expired on 2021-12-31
    clinic.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(clinic, late))
    with refused(clinic.app, ExpiredLot, "expired on 2021-12-31"):
        clinic.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(clinic, late))


def test_aefi_is_reported_after_a_dose_only(clinic: ColdChain) -> None:
    ticket = register(clinic)
    with refused(clinic.app, NoDoseYet):
        clinic.app.report_aefi(ticket, Severity.MILD, "pain at injection site", at(clinic, JAN_14))
    next_ticket = screen_and_vaccinate(clinic, ticket).result["next_ticket"]
    clinic.app.report_aefi(next_ticket, Severity.MILD, "pain at injection site", at(clinic, JAN_14))
    assert clinic.app.find_by_ticket(next_ticket).aefi == ["mild"]


def test_field_visit_is_assigned_and_reported(clinic: ColdChain) -> None:
    recipient = clinic.app.find_by_nik(nik(serial=2))
    by = clinic.by("32.73", "officer")
    clinic.app.assign_visit(recipient.id, VisitUnit.BABINSA, "Serka Budi", by)
    clinic.app.report_visit(recipient.id, VisitOutcome.NO_PHONE, "no phone; will come on 14th", by)
    assert clinic.app.get_recipient(recipient.id).visits == [("babinsa", ""), ("babinsa", "no_phone")]


def test_name_nik_and_phone_are_not_stored_in_clear(clinic: ColdChain) -> None:
    register(clinic)
    recorder = clinic.app.recorder
    raw = b"".join(n.state for n in recorder.select_notifications(1, 10_000))
    for secret in (nik(serial=1), "Siti Aminah", "812000000", "3273011708850001"):
        assert secret.encode() not in raw
    # and the topics and ids carry nothing personal either
    assert clinic.app.find_by_nik(nik(serial=1)).name == "Siti Aminah 1"


def test_an_officer_registers_a_target_without_a_phone_in_the_field(clinic: ColdChain) -> None:
    import_rows(clinic.app, [target_row(9, phone="")], clinic.by("KEMENKES"))
    with refused(clinic.app, NoMatch):
        clinic.app.register(nik(serial=9), "", Channel.WEB, PUSKESMAS, JAN_14)
    outcome = clinic.app.register(nik(serial=9), None, Channel.FIELD, PUSKESMAS, JAN_14,
                                  clinic.by("32.73", "babinsa"))
    assert clinic.app.find_by_ticket(outcome.result["ticket"]).channel is Channel.FIELD


def test_tickets_and_reminders_go_out_by_sms(clinic: ColdChain, settings) -> None:
    from interfaces.sms.outbox import OutboxGateway

    # Given an SMS gateway, When two people book 14 January and one 15 January
    outbox = OutboxGateway(settings.sms_outbox)
    clinic.app.sms = outbox
    tickets = [register(clinic, 1), register(clinic, 2), register(clinic, 3, day=JAN_14 + timedelta(days=1))]
    # Then each got the ticket, and the day before 14 January the first two get a reminder, once
    sent = {m.message_id: m.text for m in outbox.pending()}
    assert all(f"ticket-{t}" in sent and t in sent[f"ticket-{t}"] for t in tickets)
    assert clinic.app.send_reminders(JAN_14) == 2
    assert clinic.app.send_reminders(JAN_14) == 2  # the same message ids: the gateway drops the repeats
    reminders = [m for m in outbox.pending() if m.message_id.startswith("reminder-")]
    assert len(reminders) == 2 and all("Puskesmas Sukasari" in m.text for m in reminders)
    outbox.close()

"""Every aggregate's rules, given/when/then, without a store (fast, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from domain.bounds import check_celsius, check_lot_number, clean_text
from domain.errors import InvalidQuantity, OutOfBounds
from domain.facility import Facility, FacilityKind, RouteNotAllowed
from domain.idempotency import HandledCommand, KeyReused
from domain.lot import ExpiredLot, Lot, LotQuarantined, LotRecalled
from domain.provenance import Provenance
from domain.recipient import Category, Channel, NotScreenedEligible, Recipient, ScreeningResult, TicketNotValid
from domain.shipment import (
    AlreadyReceived,
    LaterExpiryFirst,
    ReceiptLine,
    ReceiptMismatch,
    Shipment,
    ShipmentLine,
    VvmNeeded,
    VvmNotAcceptable,
    WrongDestination,
)
from domain.stock_ledger import InsufficientStock, NotForDestruction, StockLedger, WastageReason
from domain.user import InvalidUsername, Role, TokenKind, User, UserDeactivated

NOW = datetime(2021, 1, 4, 8, tzinfo=UTC)
GTIN = "06992806000015"


def at(facility: str, moment: datetime = NOW) -> Provenance:
    return Provenance("ani", facility, "hp", moment)


def lot(number: str = "CV001", expiry: date = date(2021, 12, 31), per_vial: int = 1) -> Lot:
    return Lot.release(GTIN, number, expiry, "CoronaVac", per_vial, "Sinovac", at("BIOFARMA"))


def dispatched(vials: int = 10) -> Shipment:
    shipment = Shipment.pack("089928060000000017", "BIOFARMA", "32", [ShipmentLine(GTIN, "CV001", vials)], at("BIOFARMA"))
    shipment.dispatch(at("BIOFARMA"))
    return shipment


# Lots

def test_a_lot_is_refused_when_expired_bounds_or_characters_are_wrong() -> None:
    with pytest.raises(ExpiredLot):
        lot(expiry=date(2021, 1, 1))
    with pytest.raises(OutOfBounds):
        lot(expiry=date(2040, 1, 1))
    with pytest.raises(OutOfBounds):
        lot(number="LOT#1")
    assert check_lot_number("A/B?%&1") == "A/B?%&1"


def test_a_quarantined_or_recalled_lot_moves_only_as_a_return() -> None:
    held = lot()
    held.quarantine("log missing", "BPOM-1", at("BIOFARMA"))
    with pytest.raises(LotQuarantined):
        held.check_movable(NOW.date(), returning=False)
    held.check_movable(NOW.date(), returning=True)
    held.release_from_quarantine("log found", at("BIOFARMA"))
    held.recall("potency", "BPOM-2", at("BIOFARMA"))
    assert held.status_on(NOW.date()) == "recalled"
    with pytest.raises(LotRecalled):
        held.check_usable(NOW.date())
    assert lot(expiry=date(2021, 2, 1)).status_on(date(2021, 3, 1)) == "expired"


# Shipments

def test_a_receipt_is_counted_at_the_destination_once_in_parts_that_add_up() -> None:
    shipment = dispatched(10)
    with pytest.raises(WrongDestination):
        shipment.receive([ReceiptLine(GTIN, "CV001", 10)], Decimal(5), at("31"))
    with pytest.raises(ReceiptMismatch):
        shipment.receive([ReceiptLine(GTIN, "CV001", 8), ReceiptLine(GTIN, "CV001", 3)], Decimal(5), at("32"))
    with pytest.raises(VvmNotAcceptable):
        shipment.receive([ReceiptLine(GTIN, "CV001", 1, 0, "", 3)], Decimal(5), at("32"))
    shipment.receive([ReceiptLine(GTIN, "CV001", 8), ReceiptLine(GTIN, "CV001", 0, 2, "VVM 3", 3)], Decimal(5), at("32"))
    with pytest.raises(AlreadyReceived):
        shipment.receive([ReceiptLine(GTIN, "CV001", 10)], Decimal(5), at("32"))


def test_after_an_excursion_every_part_needs_a_vvm_stage() -> None:
    shipment = dispatched(10)
    shipment.record_temperature(Decimal("9.1"), at("BIOFARMA"))
    with pytest.raises(VvmNeeded):
        shipment.receive([ReceiptLine(GTIN, "CV001", 10, vvm_stage=None)], Decimal(5), at("32"))


def test_temperatures_and_texts_are_bounded() -> None:
    for wrong in ("-300", "1e308", "NaN", "5.123", "9" * 100):
        with pytest.raises(OutOfBounds):
            check_celsius(wrong)
    assert clean_text(" broken\u0001 \n vial ", "reason") == "broken vial"
    with pytest.raises(OutOfBounds):
        clean_text("x" * 201, "reason")
    with pytest.raises(InvalidQuantity):
        Shipment.pack("089928060000000017", "BIOFARMA", "32", [ShipmentLine(GTIN, "CV001", 10**30)], at("BIOFARMA"))


def test_earliest_expiry_first_needs_a_reason_to_skip() -> None:
    line = ShipmentLine(GTIN, "LATER", 5)
    with pytest.raises(LaterExpiryFirst, match="SOON"):
        Shipment.check_earliest_expiry_first(line, ["SOON"], "")
    Shipment.check_earliest_expiry_first(line, ["SOON"], "promised to DKI")


def test_routes_go_down_the_chain_or_one_level_back_up() -> None:
    biofarma = Facility.register("BIOFARMA", "Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None, at("BIOFARMA"))
    jabar = Facility.register("32", "Jawa Barat", FacilityKind.PROVINCE_OFFICE, biofarma, at("BIOFARMA"))
    bandung = Facility.register("32.73", "Kota Bandung", FacilityKind.DISTRICT_OFFICE, jabar, at("BIOFARMA"))
    biofarma.check_may_ship_to(jabar)
    bandung.check_may_ship_to(jabar)
    with pytest.raises(RouteNotAllowed):
        biofarma.check_may_ship_to(bandung)
    assert (bandung.zone, jabar.province) == ("Asia/Jakarta", "32")


# Stock cards

def test_quarantined_stock_is_apart_and_leaves_only_by_return_or_destruction() -> None:
    card, cv = StockLedger("32", at("32")), lot()
    card.receive(cv, 8, "SSCC", at("32"))
    card.hold_in_quarantine(cv, 2, "broken", "SSCC", at("32"))
    assert (card.doses_of(cv.key), card.quarantined_of(cv.key)) == (8, 2)
    with pytest.raises(NotForDestruction):
        card.waste(cv, 1, WastageReason.LOST, "", at("32"), quarantined=True)
    card.waste(cv, 1, WastageReason.BROKEN, "", at("32"), quarantined=True)
    card.issue(cv, 1, "RETURN", at("32"), returning=True, quarantined=True)
    with pytest.raises(InsufficientStock):
        card.issue(cv, 1, "RETURN", at("32"), returning=True, quarantined=True)
    assert (card.doses_of(cv.key), card.quarantined_of(cv.key)) == (8, 0)


def test_a_count_records_the_difference_and_corrections_name_what_they_correct() -> None:
    card, cv = StockLedger("32", at("32")), lot()
    card.receive(cv, 10, "SSCC", at("32"))
    assert card.count(cv, 9, at("32")) == -1
    card.waste(cv, 5, WastageReason.BROKEN, "", at("32"))
    card.correct_wastage(cv, card.version, 5, 1, "one broke, not five", at("32"))
    assert card.doses_of(cv.key) == 8
    with pytest.raises(InvalidQuantity):
        card.correct_wastage(cv, card.version, 1, 0, " ", at("32"))


# Recipients

def test_a_dose_needs_the_current_ticket_and_a_screening_that_day_and_can_be_voided() -> None:
    person = Recipient.target(uuid4(),
                              nik="3273011708850001", name="Siti", phone="+6281200000001", phase=1,
                              category=Category.NAKES, source="test", district="32.73", workplace="P327301",
                              by=at("national"))
    person.register(Channel.WEB, "P327301", date(2021, 1, 14), "TICKET1", at("P327301"))
    morning = datetime(2021, 1, 14, 1, tzinfo=UTC)  # 08:00 WIB
    desk = Provenance("ani", "P327301", "hp", morning)
    with pytest.raises(NotScreenedEligible):
        person.vaccinate("TICKET1", GTIN, "CV001", "ani", 14, "TICKET2", desk)
    person.screen(ScreeningResult.ELIGIBLE, "", None, desk)
    with pytest.raises(TicketNotValid):
        person.vaccinate("OTHER", GTIN, "CV001", "ani", 14, "TICKET2", desk)
    assert person.vaccinate("TICKET1", GTIN, "CV001", "ani", 14, "TICKET2", desk) == 1
    assert (person.ticket, person.dose2_due) == ("TICKET2", date(2021, 1, 28))
    person.void_last_dose("wrong ticket", desk)
    assert (person.doses, person.ticket) == ([], "TICKET1")


# Accounts and idempotency

def test_accounts_hold_hashed_tokens_that_stop_when_revoked_or_deactivated() -> None:
    with pytest.raises(InvalidUsername):
        User.add("Sari Dewi", "", Role.WAREHOUSE, "32", at("national"))
    user = User.add("sari", "Sari", Role.WAREHOUSE, "32", at("national"))
    user.issue_token("hash-1", TokenKind.API, NOW + timedelta(days=90), at("national"))
    assert user.token_is_valid("hash-1", NOW) and not user.token_is_valid("hash-1", NOW + timedelta(days=91))
    user.revoke_tokens([], at("national"))
    assert not user.token_is_valid("hash-1", NOW)
    user.deactivate(at("national"))
    with pytest.raises(UserDeactivated):
        user.issue_token("hash-2", TokenKind.API, NOW + timedelta(days=1), at("national"))


def test_a_key_answers_only_the_request_it_came_with() -> None:
    handled = HandledCommand("sari:1", "dispatch", {"sscc": "A"}, at("BIOFARMA"), "fingerprint-a")
    handled.check_same_request("dispatch", "fingerprint-a")
    with pytest.raises(KeyReused):
        handled.check_same_request("dispatch", "fingerprint-b")
    old = HandledCommand("1", "dispatch", {"sscc": "A"}, at("BIOFARMA"), "")  # as upcast from version 1
    old.check_same_request("dispatch", "anything")

"""The stock chain holds: rejected vials stay on a card as quarantined stock until
returned or destroyed, earliest expiry first, recalled lots move only back up the
chain — on both backends, with hand-worked figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from application.logistics import NATIONAL_WAREHOUSE
from domain.lot import LotQuarantined, LotRecalled
from domain.shipment import LaterExpiryFirst, ReceiptLine, ShipmentLine, VvmNeeded
from domain.stock_ledger import InsufficientStock, NotForDestruction, WastageReason
from projections.stock_on_hand import StockOnHand
from projections.stock_reconciliation import StockReconciliation
from tests.scenario import CORONAVAC, ColdChain, last_position, refused


def test_rejected_vials_stay_on_the_receivers_card_until_returned_or_destroyed(chain: ColdChain, follow) -> None:
    # Given 20 vials sent to Jawa Barat, 15 accepted and 5 rejected (broken): 3 at VVM 1, 2 at VVM 3
    chain.release(vials=100)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20))
    parts = [ReceiptLine(CORONAVAC, "CV001", 15, 3, "broken", 1), ReceiptLine(CORONAVAC, "CV001", 0, 2, "VVM 3", 3)]
    chain.app.receive(sscc, parts, Decimal("5"), chain.by("32"))
    card = chain.app.get_stock("32")
    key = f"{CORONAVAC}/CV001"
    assert (card.doses_of(key), card.quarantined_of(key)) == (15, 5)
    # When 2 quarantined vials go back to Bio Farma and 3 are destroyed (broken)
    back = chain.app.pack("32", NATIONAL_WAREHOUSE, [ShipmentLine(CORONAVAC, "CV001", 2, quarantined=True)],
                          chain.by("32")).result["sscc"]
    chain.app.dispatch(back, chain.by("32"))
    chain.app.record_wastage("32", CORONAVAC, "CV001", 3, WastageReason.BROKEN, "pecah", chain.by("32"),
                             quarantined=True)
    # Then the card holds 15 usable and nothing quarantined, and the reconciliation balances apart
    card = chain.app.get_stock("32")
    assert (card.doses_of(key), card.quarantined_of(key)) == (15, 0)
    with refused(chain.app, InsufficientStock, "in quarantine"):
        chain.app.record_wastage("32", CORONAVAC, "CV001", 1, WastageReason.VVM, "", chain.by("32"), quarantined=True)
    with refused(chain.app, NotForDestruction):
        chain.app.record_wastage("32", CORONAVAC, "CV001", 1, WastageReason.LOST, "", chain.by("32"), quarantined=True)
    reconciliation = follow(StockReconciliation)
    reconciliation.catch_up()
    rows = {r["facility"]: r for r in reconciliation.read_model.view.report()}
    row = rows["32"]
    assert (row["received"], row["closing"]) == (15, 15)
    assert (row["quarantine_held"], row["quarantine_returned"], row["quarantine_destroyed"],
            row["quarantine_closing"]) == (5, 2, 3, 0)
    on_hand = follow(StockOnHand)
    on_hand.catch_up()
    levels = {r["facility"]: r for r in on_hand.read_model.view.levels()}
    assert (levels["32"]["on_hand"], levels["32"]["quarantined"]) == (15, 0)
    # and the return, received at Bio Farma, is quarantined there until released or destroyed
    chain.app.receive(back, [ReceiptLine(CORONAVAC, "CV001", 0, 2, "returned broken", 1)], Decimal("5"),
                      chain.by(NATIONAL_WAREHOUSE))
    assert chain.app.get_stock(NATIONAL_WAREHOUSE).quarantined_of(key) == 2


def test_earliest_expiry_first_needs_a_reason_to_skip(chain: ColdChain) -> None:
    chain.release(lot="SOON", vials=10, expiry=date(2021, 6, 30))
    chain.release(lot="LATER", vials=10, expiry=date(2021, 12, 31))
    with refused(chain.app, LaterExpiryFirst, "Lot SOON"):
        chain.pack(NATIONAL_WAREHOUSE, "32", ("LATER", 5))
    sscc = chain.app.pack(NATIONAL_WAREHOUSE, "32", [ShipmentLine(CORONAVAC, "LATER", 5)], chain.by(),
                          override_reason="SOON is promised to DKI").result["sscc"]
    shipment = chain.app.get_shipment(sscc)
    assert shipment.override_reason == "SOON is promised to DKI"
    assert shipment.lines[0].expiry == date(2021, 12, 31)
    chain.pack(NATIONAL_WAREHOUSE, "32", ("SOON", 5))  # the earliest needs no reason


def test_a_recalled_lot_moves_only_back_towards_bio_farma(chain: ColdChain) -> None:
    # Given lot CV001 at a district
    chain.release(vials=100)
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 30)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 20)))
    onward = chain.ship("32.73", "P327301", ("CV001", 5))
    # When it is recalled
    chain.app.recall_lot(CORONAVAC, "CV001", "potency below spec", chain.by(), reference="BPOM-2021-017")
    lot = chain.app.get_lot(CORONAVAC, "CV001")
    assert lot.status_on(chain.now.date()) == "recalled"
    # Then onward packing, dispatch, acceptance as usable and doses are refused, and nothing is written
    with refused(chain.app, LotRecalled):
        chain.pack("32.73", "P327301", ("CV001", 1))
    with refused(chain.app, LotRecalled):
        chain.app.receive(onward, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.by())
    # the puskesmas records the arriving vials as rejected: they wait in quarantine
    chain.app.receive(onward, [ReceiptLine(CORONAVAC, "CV001", 0, 5, "recalled", 1)], Decimal(5), chain.by())
    assert chain.app.get_stock("P327301").quarantined_of(f"{CORONAVAC}/CV001") == 5
    # while a return up the chain is accepted
    back = chain.app.pack("32.73", "32", [ShipmentLine(CORONAVAC, "CV001", 15)], chain.by()).result["sscc"]
    chain.app.dispatch(back, chain.by())
    assert chain.app.get_shipment(back).returning


def test_quarantine_is_lifted_with_a_reason(chain: ColdChain) -> None:
    chain.release(vials=10)
    chain.app.quarantine_lot(CORONAVAC, "CV001", "temperature log missing", chain.by(), reference="BPOM-1")
    with refused(chain.app, LotQuarantined):
        chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1))
    with refused(chain.app, Exception, "Say why"):
        chain.app.release_lot_from_quarantine(CORONAVAC, "CV001", chain.by(), reason=" ")
    chain.app.release_lot_from_quarantine(CORONAVAC, "CV001", chain.by(), reason="log found, 2-8 °C throughout")
    chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1))


def test_after_an_excursion_every_part_needs_its_vvm_stage(chain: ColdChain) -> None:
    chain.release(vials=10)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    chain.app.record_temperature(sscc, Decimal("9.5"), chain.by())
    with refused(chain.app, VvmNeeded, "VVM stage of every part"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 10, vvm_stage=None)], Decimal(5), chain.by())
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 8, 0, "", 2), ReceiptLine(CORONAVAC, "CV001", 0, 2, "VVM 3", 3)],
                      Decimal(5), chain.by())
    assert chain.app.get_stock("32").quarantined_of(f"{CORONAVAC}/CV001") == 2


def test_a_miscounted_receipt_is_corrected_by_a_new_event(chain: ColdChain, follow) -> None:
    # Given 20 vials received at 32 as 20 accepted, though 2 were broken
    chain.release(vials=100)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20))
    chain.receive_all(sscc)
    # When the receipt is recounted: 18 accepted, 2 rejected (broken)
    chain.app.correct_receipt(sscc, [ReceiptLine(CORONAVAC, "CV001", 18, 2, "broken", 1)], "recount: 2 broken",
                              chain.by("32"))
    # Then the card holds 18 usable and 2 quarantined, the reports agree, and both events are in the history
    card, key = chain.app.get_stock("32"), f"{CORONAVAC}/CV001"
    assert (card.doses_of(key), card.quarantined_of(key)) == (18, 2)
    events = [type(e).__name__ for e in chain.app.repository.event_store.get(chain.app.get_shipment(sscc).id)]
    assert events[-2:] == ["Received", "ReceiptCorrected"]
    corrected = list(chain.app.repository.event_store.get(chain.app.get_shipment(sscc).id))[-1]
    assert corrected.corrects == 3 and corrected.reason == "recount: 2 broken"  # the Received event's version
    reconciliation = follow(StockReconciliation)
    reconciliation.catch_up()
    row = {r["facility"]: r for r in reconciliation.read_model.view.report()}["32"]
    assert (row["received"], row["closing"], row["quarantine_closing"]) == (18, 18, 2)


def test_a_wastage_entry_is_corrected_by_a_new_event(chain: ColdChain, follow) -> None:
    chain.release(vials=100)
    chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 10, WastageReason.BROKEN, "", chain.by())
    version = chain.app.get_stock(NATIONAL_WAREHOUSE).version
    chain.app.correct_wastage(NATIONAL_WAREHOUSE, version, 1, "one vial broke, not ten", chain.by())
    assert chain.app.get_stock(NATIONAL_WAREHOUSE).doses_of(f"{CORONAVAC}/CV001") == 99
    reconciliation = follow(StockReconciliation)
    reconciliation.catch_up()
    row = {r["facility"]: r for r in reconciliation.read_model.view.report()}[NATIONAL_WAREHOUSE]
    assert (row["wasted"], row["closing"]) == (1, 99)
    with refused(chain.app, Exception, "not a wasted entry"):
        chain.app.correct_wastage(NATIONAL_WAREHOUSE, 1, 1, "wrong entry", chain.by())


def test_a_dose_on_the_wrong_ticket_is_voided_and_recorded_on_the_right_one(chain: ColdChain, follow) -> None:
    from projections.dose_reconciliation import DoseReconciliation
    from projections.funnel import Funnel
    from domain.recipient import Channel, ScreeningResult
    from tests.application.test_recipients import JAN_14, at, import_rows, open_phase
    from tests.scenario import nik, target_row

    # Given two booked people, and the dose of person 2 recorded on person 1's ticket
    chain.release(vials=100)
    for origin, destination in ((NATIONAL_WAREHOUSE, "32"), ("32", "32.73"), ("32.73", "P327301")):
        chain.receive_all(chain.ship(origin, destination, ("CV001", 10)))
    import_rows(chain.app, [target_row(1), target_row(2)], chain.by())
    open_phase(chain)
    tickets = [chain.app.register(nik(serial=s), f"{s:04d}", Channel.WEB, "P327301", JAN_14).result["ticket"]
               for s in (1, 2)]
    for ticket in tickets:
        chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, JAN_14))
    wrong = chain.app.vaccinate(tickets[0], CORONAVAC, "CV001", "ani", at(chain, JAN_14)).result["next_ticket"]
    # When it is voided and recorded on the right ticket
    outcome = chain.app.void_dose(wrong, "given to person 2, scanned person 1's ticket", at(chain, JAN_14))
    assert outcome.result["ticket"] == tickets[0]  # person 1's first ticket is valid again
    chain.app.vaccinate(tickets[1], CORONAVAC, "CV001", "ani", at(chain, JAN_14))
    # Then person 1 has no dose, person 2 has one, the card gave one dose, and the reports agree
    assert not chain.app.find_by_nik(nik(serial=1)).doses and len(chain.app.find_by_nik(nik(serial=2)).doses) == 1
    assert chain.on_hand("P327301") == 9
    doses = follow(DoseReconciliation)
    doses.catch_up()
    row = {r["facility"]: r for r in doses.read_model.view.report()}["P327301"]
    assert (row["recorded"], row["drawn"], row["difference"]) == (1, 1, 0)
    funnel = follow(Funnel)
    funnel.catch_up()
    assert funnel.read_model.view.totals()["dose1"] == 1


def test_custody_is_recorded_at_every_hand_and_only_the_addressee_receives(chain: ColdChain, follow) -> None:
    from application.errors import Forbidden
    from domain.user import Role
    from projections.shipments import Shipments

    # Given a shipment from Bio Farma to Jawa Barat
    chain.release(vials=20)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    # When a courier and then Kota Bandung's store on the way take it over
    courier = chain.user(Role.WAREHOUSE, "national", "kurir.andi")
    chain.app.hand_over(sscc, "PT Kurir Dingin", "D 1234 AB", "Gerbang tol Pasteur", courier)
    store = chain.user(Role.WAREHOUSE, "32.73", "gudang.bandung")
    chain.app.hand_over(sscc, "Dinkes Kota Bandung", "", "Gudang Kota Bandung", store)
    # Then the shipment knows who holds it and the history names every hand
    shipment = chain.app.get_shipment(sscc)
    assert shipment.holder == "gudang.bandung"
    handovers = [e for e in chain.app.repository.event_store.get(shipment.id) if type(e).__name__ == "HandedOver"]
    assert [(e.from_holder, e.holder, e.carrier) for e in handovers] == [
        ("staff", "kurir.andi", "PT Kurir Dingin"), ("kurir.andi", "gudang.bandung", "Dinkes Kota Bandung")]
    follower = follow(Shipments)
    follower.catch_up()
    assert follower.read_model.view.shipments()[0]["holder"] == "gudang.bandung"
    # and only the addressee may receive it
    with refused(chain.app, Forbidden, "addressed to 32"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 10)], Decimal(5), store)
    with refused(chain.app, Forbidden):
        chain.app.hand_over(sscc, "x", "", "", chain.user(Role.VACCINATOR, "P327301"))


def test_open_vials_and_their_wastage_per_session(chain: ColdChain, follow) -> None:
    from datetime import datetime, time

    from domain.recipient import Channel, ScreeningResult
    from projections.dose_reconciliation import DoseReconciliation
    from tests.application.test_recipients import JAN_14, WIB, at, import_rows, open_phase
    from tests.scenario import BIOFARMA_VAC, nik, target_row

    # Given 10-dose vials at the puskesmas and three people booked on 14 January
    chain.release(lot="BF001", vials=10, product_gtin=BIOFARMA_VAC, doses_per_vial=10)
    for origin, destination in ((NATIONAL_WAREHOUSE, "32"), ("32", "32.73"), ("32.73", "P327301")):
        sscc = chain.app.pack(origin, destination, [ShipmentLine(BIOFARMA_VAC, "BF001", 2)], chain.by()).result["sscc"]
        chain.app.dispatch(sscc, chain.by())
        chain.receive_all(sscc)
    import_rows(chain.app, [target_row(s) for s in (1, 2, 3)], chain.by())
    open_phase(chain)
    tickets = [chain.app.register(nik(serial=s), f"{s:04d}", Channel.WEB, "P327301", JAN_14).result["ticket"]
               for s in (1, 2, 3)]
    # When two doses come from serialised vial S1 and one from vial S2
    for ticket, serial in zip(tickets, ("S1", "S1", "S2"), strict=True):
        chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, JAN_14))
        chain.app.vaccinate(ticket, BIOFARMA_VAC, "BF001", "ani", at(chain, JAN_14), serial=serial)
    # and the session closes with the two opened vials discarded
    chain.now = datetime.combine(JAN_14, time(16), tzinfo=WIB)
    chain.app.close_session("P327301", JAN_14, 2, chain.by())
    # Then the session shows 2 vials opened, 3 doses given, 17 doses of open-vial wastage
    doses = follow(DoseReconciliation)
    doses.catch_up()
    [session] = doses.read_model.view.sessions("P327301")
    assert (session["vials_opened"], session["given"], session["open_vial_wastage"]) == (2, 3, 17)
    assert session["discarded_vials"] == 2 and session["closed_at"]
    assert doses.read_model.view.vial_flags() == []

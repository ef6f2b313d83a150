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

"""Scenarios of the logistics core, run on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from application.errors import (
    AlreadyExists,
    FacilityNotFound,
    Forbidden,
    InvalidIdentifier,
    LotNotFound,
    ShipmentNotFound,
)
from application.logistics import NATIONAL_WAREHOUSE
from domain.errors import InvalidQuantity
from domain.facility import FacilityKind, RouteNotAllowed, WrongParent
from domain.lot import ExpiredLot, LotQuarantined, LotRecalled
from domain.shipment import (
    AlreadyDispatched,
    AlreadyReceived,
    LaterExpiryFirst,
    NotDispatched,
    ReceiptLine,
    ReceiptMismatch,
    ShipmentCancelled,
    ShipmentLine,
    ShipmentStatus,
    VvmNotAcceptable,
)
from domain.stock_ledger import InsufficientStock, StockLedger, WastageReason
from domain.user import Role
from tests.scenario import CORONAVAC, ColdChain, gtin, last_position, refused


def test_ships_down_the_chain_and_moves_stock_with_each_handoff(chain: ColdChain) -> None:
    # Given a released lot of 100 vials at Bio Farma
    chain.release(vials=100)
    # When 40 go to the province and 15 of those on to a district
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 40)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 15)))
    # Then each stock card shows what it holds
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 60
    assert chain.on_hand("32") == 25
    assert chain.on_hand("32.73") == 15


def test_dispatch_saves_shipment_and_origin_ledger_in_one_write(chain: ColdChain) -> None:
    chain.release(vials=10)
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 4))
    before = last_position(chain.app)
    outcome = chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))
    topics = [n.topic for n in chain.app.recorder.select_notifications(before + 1, 10)]
    assert topics == ["domain.shipment:Shipment.Dispatched", "domain.stock_ledger:StockLedger.Issued"]
    assert outcome.position == before + 2


def test_refuses_receipt_by_a_user_of_another_province(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    with refused(chain.app, Forbidden, "may receive only at 31 and below; this shipment is addressed to 32"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.user(Role.WAREHOUSE, "31"))


def test_refuses_second_receipt(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.receive_all(sscc)
    with refused(chain.app, AlreadyReceived, "already received"):
        chain.receive_all(sscc)
    assert chain.on_hand("32") == 5


def test_refuses_receipt_before_dispatch(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    with refused(chain.app, NotDispatched, "not been dispatched"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.by("32"))


def test_refuses_second_dispatch(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    with refused(chain.app, AlreadyDispatched):
        chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))


def test_refuses_dispatch_by_a_user_of_the_destination(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    with refused(chain.app, Forbidden, "this shipment leaves from BIOFARMA"):
        chain.app.dispatch(sscc, chain.user(Role.WAREHOUSE, "32"))


def test_the_receipt_is_recorded_at_the_destination_whatever_the_caller_names(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.user(Role.WAREHOUSE, "32", "sari"))
    received = chain.app.repository.event_store.get(chain.app.get_shipment(sscc).id)
    last = list(received)[-1]
    assert (last.by.actor, last.by.facility, last.by.role, last.by.zone) == ("sari", "32", "warehouse", "Asia/Jakarta")


def test_cancelled_shipment_cannot_be_dispatched_and_dispatched_cannot_be_cancelled(
    chain: ColdChain,
) -> None:
    chain.release()
    packed = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.app.cancel(packed, "wrong box", chain.by(NATIONAL_WAREHOUSE))
    with refused(chain.app, ShipmentCancelled, "cancelled"):
        chain.app.dispatch(packed, chain.by(NATIONAL_WAREHOUSE))
    moving = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    with refused(chain.app, AlreadyDispatched):
        chain.app.cancel(moving, "too late", chain.by(NATIONAL_WAREHOUSE))
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 95


def test_short_delivery_and_rejection_are_recorded_per_line(chain: ColdChain) -> None:
    # Given 20 vials dispatched
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20))
    # When 15 are accepted, 3 rejected as broken and 2 never arrived
    line = ReceiptLine(CORONAVAC, "CV001", accepted=15, rejected=3, reason="broken", vvm_stage=1)
    chain.app.receive(sscc, [line], Decimal("4.5"), chain.by("32"))
    # Then only the accepted vials enter the province's stock card
    assert chain.on_hand("32") == 15
    shipment = chain.app.get_shipment(sscc)
    assert shipment.status is ShipmentStatus.RECEIVED
    assert shipment.receipt == [line]


def test_vvm_stage_3_or_4_must_be_rejected(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    for stage in (3, 4):
        with refused(chain.app, VvmNotAcceptable, f"VVM stage {stage}"):
            chain.app.receive(
                sscc, [ReceiptLine(CORONAVAC, "CV001", 1, 9, "VVM", stage)], Decimal(5),
                chain.by("32"),
            )
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 0, 10, "VVM", 3)], Decimal(5),
                      chain.by("32"))
    assert chain.on_hand("32") == 0


def test_receipt_must_count_each_line_within_what_was_sent(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    by = chain.by("32")
    with refused(chain.app, ReceiptMismatch, "more than the 10 vials sent"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 11)], Decimal(5), by)
    with refused(chain.app, ReceiptMismatch, "not counted"):
        chain.app.receive(sscc, [], Decimal(5), by)
    with refused(chain.app, ReceiptMismatch, "reason"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5, 5)], Decimal(5), by)
    with refused(chain.app, InvalidQuantity, "negative"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", -1)], Decimal(5), by)


def test_temperature_outside_2_to_8_is_flagged_as_excursion(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    chain.app.record_temperature(sscc, Decimal("6.5"), chain.by(NATIONAL_WAREHOUSE))
    assert not chain.app.get_shipment(sscc).excursion
    chain.app.record_temperature(sscc, Decimal("9.1"), chain.by(NATIONAL_WAREHOUSE))
    assert chain.app.get_shipment(sscc).excursion


def test_stock_never_goes_negative(chain: ColdChain) -> None:
    chain.release(vials=10)
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 8))
    chain.app.dispatch(chain.pack(NATIONAL_WAREHOUSE, "31", ("CV001", 5)), chain.by(NATIONAL_WAREHOUSE))
    with refused(chain.app, InsufficientStock, "Only 5 vials of lot CV001"):
        chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 5


def test_refuses_to_pack_a_lot_not_on_hand(chain: ColdChain) -> None:
    chain.release(vials=3)
    with refused(chain.app, InsufficientStock):
        chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 4))
    with refused(chain.app, LotNotFound, "NOPE"):
        chain.pack(NATIONAL_WAREHOUSE, "32", ("NOPE", 1))


def test_refuses_zero_or_negative_quantities(chain: ColdChain) -> None:
    chain.release()
    for vials in (0, -3):
        with refused(chain.app, InvalidQuantity, "greater than zero"):
            chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", vials))
    with refused(chain.app, InvalidQuantity):
        chain.app.release_lot(CORONAVAC, "CV002", date(2021, 12, 1), "CoronaVac", 1, "Sinovac", 0,
                              chain.by(NATIONAL_WAREHOUSE))
    with refused(chain.app, InvalidQuantity):
        chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 0, WastageReason.BROKEN, "",
                                 chain.by(NATIONAL_WAREHOUSE))


def test_refuses_release_with_past_expiry(chain: ColdChain) -> None:
    with refused(chain.app, ExpiredLot, "expired on 2021-01-02"):
        chain.release(lot="OLD", expiry=date(2021, 1, 2))


def test_refuses_second_release_of_the_same_lot(chain: ColdChain) -> None:
    chain.release()
    with refused(chain.app, AlreadyExists, "already released"):
        chain.release()


def test_refuses_bad_gtin_and_sscc_check_digits(chain: ColdChain) -> None:
    bad_gtin = CORONAVAC[:-1] + str((int(CORONAVAC[-1]) + 1) % 10)
    with refused(chain.app, InvalidIdentifier, "wrong check digit"):
        chain.release(product_gtin=bad_gtin)
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1))
    bad_sscc = sscc[:-1] + str((int(sscc[-1]) + 1) % 10)
    with refused(chain.app, InvalidIdentifier, "wrong check digit"):
        chain.app.dispatch(bad_sscc, chain.by(NATIONAL_WAREHOUSE))
    with refused(chain.app, InvalidIdentifier, "18 digits"):
        chain.app.dispatch("12345", chain.by(NATIONAL_WAREHOUSE))


def test_refuses_unknown_facility_and_unknown_shipment(chain: ColdChain) -> None:
    chain.release()
    with refused(chain.app, FacilityNotFound, "99.99"):
        chain.pack(NATIONAL_WAREHOUSE, "99.99", ("CV001", 1))
    with refused(chain.app, ShipmentNotFound):
        chain.app.dispatch(gtin("08992806000000009"), chain.by(NATIONAL_WAREHOUSE))


def test_routes_only_down_to_children_or_one_level_back_up(chain: ColdChain) -> None:
    chain.release()
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 10)))
    # skipping a level, or crossing into another province, is refused
    for origin, destination in [
        (NATIONAL_WAREHOUSE, "32.73"), (NATIONAL_WAREHOUSE, "P327301"),
        ("32", "31.71"), ("32", "31"), ("32.73", NATIONAL_WAREHOUSE),
    ]:
        with refused(chain.app, RouteNotAllowed, "may not ship"):
            chain.pack(origin, destination, ("CV001", 1))
    # a return one level up is allowed
    chain.receive_all(chain.ship("32.73", "32", ("CV001", 2)))
    assert chain.on_hand("32") == 12


def test_refuses_facility_under_the_wrong_parent(chain: ColdChain) -> None:
    with refused(chain.app, WrongParent, "parent must be a district office"):
        chain.app.register_facility("P9", "Puskesmas X", FacilityKind.PUSKESMAS, "32",
                                    chain.by(NATIONAL_WAREHOUSE))


def test_quarantined_or_recalled_lot_cannot_be_shipped(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    by = chain.by(NATIONAL_WAREHOUSE)
    chain.app.quarantine_lot(CORONAVAC, "CV001", "temperature log missing", by)
    with refused(chain.app, LotQuarantined, "quarantine"):
        chain.app.dispatch(sscc, by)
    chain.app.release_lot_from_quarantine(CORONAVAC, "CV001", by, reason="temperature log found")
    chain.app.dispatch(sscc, by)
    chain.app.recall_lot(CORONAVAC, "CV001", "potency below spec", by)
    with refused(chain.app, LotRecalled, "recalled"):
        chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1))


def test_expired_lot_cannot_be_dispatched(chain: ColdChain) -> None:
    chain.release(expiry=date(2021, 1, 10))
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.later(days=7)
    with refused(chain.app, ExpiredLot, "expired on 2021-01-10"):
        chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))


def test_wastage_is_recorded_with_its_reason(chain: ColdChain) -> None:
    chain.release(vials=10)
    by = chain.by(NATIONAL_WAREHOUSE)
    chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 2, WastageReason.BROKEN, "dropped", by)
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 8
    with refused(chain.app, InsufficientStock):
        chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 9, WastageReason.LOST, "", by)


def test_physical_count_records_the_difference_not_an_overwrite(chain: ColdChain) -> None:
    # Given 10 vials on the stock card
    chain.release(vials=10)
    by = chain.by(NATIONAL_WAREHOUSE)
    # When staff count 7
    outcome = chain.app.record_count(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 7, by)
    # Then the card shows 7 and the event records expected 10, difference -3
    assert outcome.result["difference_doses"] == "-3"
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 7
    ledger = chain.app.get_stock(NATIONAL_WAREHOUSE)
    counted = list(chain.app.events.get(ledger.id))[-1]
    assert type(counted).__name__ == "Counted"
    assert (counted.counted, counted.expected, counted.difference) == (7, 10, -3)


def test_packing_suggests_earliest_expiry_first_skipping_held_lots(chain: ColdChain) -> None:
    chain.release(lot="LATE", vials=10, expiry=date(2021, 9, 1))
    chain.release(lot="SOON", vials=4, expiry=date(2021, 3, 1))
    chain.release(lot="HELD", vials=10, expiry=date(2021, 2, 1))
    chain.app.quarantine_lot(CORONAVAC, "HELD", "check", chain.by(NATIONAL_WAREHOUSE))
    picks = chain.app.suggest_lots(NATIONAL_WAREHOUSE, CORONAVAC, 6, chain.now.date())
    assert picks == [(f"{CORONAVAC}/SOON", 4), (f"{CORONAVAC}/LATE", 2)]


def test_the_pick_list_packs_as_proposed_all_of_the_earlier_lot_and_part_of_the_later(chain: ColdChain) -> None:
    chain.release(lot="LATE", vials=10, expiry=date(2021, 9, 1))
    chain.release(lot="SOON", vials=4, expiry=date(2021, 3, 1))
    picks = chain.app.suggest_lots(NATIONAL_WAREHOUSE, CORONAVAC, 6, chain.now.date())
    lines = [ShipmentLine(CORONAVAC, key.split("/")[1], vials) for key, vials in picks]
    assert chain.app.pack(NATIONAL_WAREHOUSE, "32", lines, chain.by(NATIONAL_WAREHOUSE)).result["sscc"]
    # part of the earlier lot beside the later one still needs a reason
    chain.release(lot="SOONER", vials=4, expiry=date(2021, 2, 1))
    with refused(chain.app, LaterExpiryFirst, "SOONER"):
        chain.app.pack(NATIONAL_WAREHOUSE, "32", [ShipmentLine(CORONAVAC, "SOONER", 3),
                                                 ShipmentLine(CORONAVAC, "LATE", 1)], chain.by(NATIONAL_WAREHOUSE))


def test_every_event_carries_who_where_which_device_and_when(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1))
    chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE, actor="sari", device="hh-07"))
    events = list(chain.app.events.get(chain.app.get_shipment(sscc).id))
    dispatched = events[-1]
    assert (dispatched.by.actor, dispatched.by.facility, dispatched.by.device) == (
        "sari", NATIONAL_WAREHOUSE, "hh-07")
    assert dispatched.by.occurred_at == chain.now
    assert dispatched.timestamp > chain.now  # recorded now, long after the 2021 scan
    for notification in chain.app.recorder.select_notifications(1, 1000):
        event = chain.app.mapper.to_domain_event(notification)
        assert event.by.actor and event.by.facility and event.by.device and event.by.occurred_at


def test_repeated_command_with_same_key_returns_first_result_and_writes_nothing(
    chain: ColdChain,
) -> None:
    chain.release()
    by = chain.by(NATIONAL_WAREHOUSE)
    lines = [ShipmentLine(CORONAVAC, "CV001", 3)]
    first = chain.app.pack(NATIONAL_WAREHOUSE, "32", lines, by, key="pack-123")
    position = last_position(chain.app)
    again = chain.app.pack(NATIONAL_WAREHOUSE, "32", lines, by, key="pack-123")
    assert again.result == first.result and again.repeated
    assert last_position(chain.app) == position
    chain.app.dispatch(first.result["sscc"], by, key="dispatch-1")
    chain.app.dispatch(first.result["sscc"], by, key="dispatch-1")  # a retry, not an error
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 97


def test_reusing_a_key_for_another_command_is_refused(chain: ColdChain) -> None:
    from domain.idempotency import KeyReused

    chain.release()
    by = chain.by(NATIONAL_WAREHOUSE)
    outcome = chain.app.pack(NATIONAL_WAREHOUSE, "32", [ShipmentLine(CORONAVAC, "CV001", 3)], by, key="k")
    with refused(chain.app, KeyReused, "already used"):
        chain.app.dispatch(outcome.result["sscc"], by, key="k")


def test_busy_stock_ledgers_are_snapshotted(chain: ColdChain) -> None:
    chain.release(vials=1000)
    by = chain.by(NATIONAL_WAREHOUSE)
    for _ in range(60):
        chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 1, WastageReason.BROKEN, "", by)
    ledger_id = StockLedger.id_for(NATIONAL_WAREHOUSE)
    snapshots = list(chain.app.snapshots.get(ledger_id))
    assert snapshots, "a ledger with more than 10 events should have a snapshot"
    assert chain.app.repository.get(ledger_id).doses_of(f"{CORONAVAC}/CV001") == 940

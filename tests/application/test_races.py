"""Two people scanning the same box at once: nothing lost, nothing doubled."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest

from application.errors import ConcurrentUpdate
from application.logistics import NATIONAL_WAREHOUSE
from domain.errors import RuleBroken
from domain.shipment import AlreadyReceived, ReceiptLine, ShipmentStatus
from domain.stock_ledger import InsufficientStock
from tests.scenario import CORONAVAC, ColdChain

ROUNDS = 8


def race(*commands: Callable[[], object]) -> list[object]:
    """Run the commands in threads released at the same instant; return each
    one's result or the error it raised."""
    barrier = threading.Barrier(len(commands))
    results: list[object] = [None] * len(commands)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = commands[i]()
        except (RuleBroken, ConcurrentUpdate) as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_receipts_of_one_shipment_at_once_leave_exactly_one(chain: ColdChain) -> None:
    chain.release(vials=ROUNDS * 10)
    for _ in range(ROUNDS):
        # Given a dispatched shipment of 10 vials
        sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
        line = [ReceiptLine(CORONAVAC, "CV001", 10)]

        def receive(device: str, sscc: str = sscc) -> object:
            return chain.app.receive(sscc, line, Decimal(5), chain.by("32", device=device))

        # When two staff scan it in at the same moment
        results = race(lambda: receive("hh-1"), lambda: receive("hh-2"))
        # Then exactly one receipt stands and the other gets a clear error
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], AlreadyReceived | ConcurrentUpdate)
        assert "already received" in str(errors[0]) or "same moment" in str(errors[0])
        assert chain.app.get_shipment(sscc).status is ShipmentStatus.RECEIVED
    assert chain.on_hand("32") == ROUNDS * 10


def test_two_dispatches_drawing_the_same_last_vials_leave_one(chain: ColdChain) -> None:
    for round_ in range(ROUNDS):
        lot = f"LAST{round_}"
        # Given 6 vials left, and two packed shipments of 4 each
        chain.release(lot=lot, vials=6)
        first = chain.pack(NATIONAL_WAREHOUSE, "32", (lot, 4))
        second = chain.pack(NATIONAL_WAREHOUSE, "31", (lot, 4))
        by = chain.by(NATIONAL_WAREHOUSE)
        # When both are scanned out at once
        results = race(lambda: chain.app.dispatch(first, by), lambda: chain.app.dispatch(second, by))
        # Then one leaves, the other is refused, and stock is never negative
        errors = [r for r in results if isinstance(r, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], InsufficientStock | ConcurrentUpdate)
        assert chain.on_hand(NATIONAL_WAREHOUSE, lot) == 2
        statuses = {chain.app.get_shipment(s).status for s in (first, second)}
        assert statuses == {ShipmentStatus.DISPATCHED, ShipmentStatus.PACKED}


def test_a_lost_race_is_retried_on_fresh_state(chain: ColdChain) -> None:
    # Given a dispatched shipment, and a command that read it before a rival's receipt
    chain.release()
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    line = [ReceiptLine(CORONAVAC, "CV001", 5)]
    caller = chain.by("32")
    attempts = []

    def decide() -> tuple[dict[str, str], list[object], object]:
        shipment = chain.app.get_shipment(sscc)
        if not attempts:
            chain.app.receive(sscc, line, Decimal(5), caller)  # the rival commits first
        attempts.append(1)
        by = chain.app.acting("receive", caller, shipment.destination)
        shipment.receive(line, Decimal(5), by)
        return {}, [shipment], by

    # When the stale write conflicts, Then the retry sees the rival's receipt
    with pytest.raises(AlreadyReceived):
        chain.app.handle("receive", caller, decide)
    assert len(attempts) == 2
    assert chain.on_hand("32") == 5


def test_many_boxes_scanned_out_of_one_warehouse_at_once_all_leave(chain: ColdChain) -> None:
    # Given twelve packed shipments drawing on one stock card
    chain.release(vials=120)
    packed = [chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 10)) for _ in range(12)]
    by = chain.by(NATIONAL_WAREHOUSE)
    # When twelve scanners in one server process scan them out at the same instant
    results = race(*[lambda sscc=sscc: chain.app.dispatch(sscc, by) for sscc in packed])
    # Then every one leaves: the process runs its commands on that card one after the other,
    # so none loses a race to its neighbour and gives up
    assert [r for r in results if isinstance(r, Exception)] == []
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 0
    assert {chain.app.get_shipment(s).status for s in packed} == {ShipmentStatus.DISPATCHED}

"""Several server processes on one store: each caches aggregates and follows the
log (one query per command) instead of asking the store about each cached
aggregate on every load. What another process wrote must be seen all the same."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from application import handling
from application.campaign import Campaign
from application.logistics import NATIONAL_WAREHOUSE
from domain.lot import LotQuarantined, LotRecalled
from domain.shipment import ShipmentLine, ShipmentStatus
from domain.stock_ledger import StockLedger, WastageReason
from interfaces.bootstrap import open_campaign
from tests.scenario import CORONAVAC, ColdChain


@pytest.fixture
def other(settings, chain: ColdChain) -> Iterator[ColdChain]:
    """A second server process on the same store (its own cache), at the same scenario time."""
    second: Campaign = open_campaign(settings)
    second.clock = chain.app.clock
    yield ColdChain(second, now=chain.now)
    second.close()


def test_a_recall_made_by_another_process_stops_a_dispatch_here(chain: ColdChain, other: ColdChain) -> None:
    # Given this process has the lot and Bio Farma's card cached from a dispatch
    chain.release(vials=100)
    chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    second = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    assert chain.app.following
    # When another process recalls the lot
    other.app.recall_lot(CORONAVAC, "CV001", "potency below specification", other.by(NATIONAL_WAREHOUSE))
    # Then this process refuses to ship it, without being told
    with pytest.raises(LotRecalled):
        chain.app.dispatch(second, chain.by(NATIONAL_WAREHOUSE))
    assert chain.app.get_shipment(second).status is ShipmentStatus.PACKED


def test_stock_counted_by_another_process_is_seen_here(chain: ColdChain, other: ColdChain) -> None:
    chain.release(vials=100)
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 100  # cached here
    for _ in range(3):
        other.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 2, WastageReason.BROKEN, "",
                                 other.by(NATIONAL_WAREHOUSE))
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 94
    chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 1, WastageReason.BROKEN, "",
                             chain.by(NATIONAL_WAREHOUSE))
    assert other.on_hand(NATIONAL_WAREHOUSE) == 93


def test_a_process_far_behind_starts_afresh(chain: ColdChain, other: ColdChain, monkeypatch) -> None:
    # Given this process has the lot cached, and reads at most 5 events per catch-up
    monkeypatch.setattr(handling, "FOLLOW_LIMIT", 5)
    chain.release(vials=100)
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    # When another process writes more than that, the last of it a quarantine
    for _ in range(6):
        other.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 1, WastageReason.BROKEN, "",
                                 other.by(NATIONAL_WAREHOUSE))
    other.app.quarantine_lot(CORONAVAC, "CV001", "temperature excursion", other.by(NATIONAL_WAREHOUSE))
    # Then this process, too far behind to follow, drops its cache and still sees all of it
    with pytest.raises(LotQuarantined):
        chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 94


def test_a_cached_command_reads_the_log_once(chain: ColdChain, monkeypatch) -> None:
    # Given a store whose lot and card this process has cached
    chain.release(vials=100)
    packed = [chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1)) for _ in range(2)]
    chain.app.dispatch(packed[0], chain.by(NATIONAL_WAREHOUSE))
    reads: list[str] = []
    for name in ("_tail", "_load"):
        original = getattr(chain.app, name)
        monkeypatch.setattr(chain.app, name, lambda *args, _o=original, _n=name: reads.append(_n) or _o(*args))
    # When a dispatch loads the shipment (cached when packed), the card and the lot
    chain.app.dispatch(packed[1], chain.by(NATIONAL_WAREHOUSE))
    # Then it read the store once: the catch-up
    assert reads == ["_tail"]


def test_snapshots_taken_from_memory_equal_the_replayed_state(chain: ColdChain) -> None:
    chain.release(vials=1000)
    by = chain.by(NATIONAL_WAREHOUSE)
    for i in range(23):
        chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 1 + i % 3, WastageReason.BROKEN, "", by)
    ledger_id = StockLedger.id_for(NATIONAL_WAREHOUSE)
    snapshots = list(chain.app.snapshots.get(ledger_id))
    assert [s.originator_version for s in snapshots] == [10, 20]
    for snapshot in snapshots:
        replayed = None
        for event in chain.app.events.get(ledger_id, lte=snapshot.originator_version):
            replayed = event.mutate(replayed)
        assert vars(snapshot.mutate(None)) == vars(replayed)


def test_an_aggregate_loaded_while_another_thread_caught_up_is_not_cached(
    chain: ColdChain, other: ColdChain, monkeypatch,
) -> None:
    # Given a shipment packed by another process (not cached here)
    other.release(vials=100)
    sscc = other.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 10))
    loading = chain.app._load

    def load_while_the_log_moves_on(cls, aggregate_id):
        found = loading(cls, aggregate_id)  # read as packed...
        other.app.dispatch(sscc, other.by(NATIONAL_WAREHOUSE))  # ...dispatched meanwhile...
        chain.app.catch_up()  # ...and another thread here caught up past it (not cached yet: skipped)
        return found

    monkeypatch.setattr(chain.app, "_load", load_while_the_log_moves_on)
    assert chain.app.get_shipment(sscc).status is ShipmentStatus.PACKED  # what that load read
    monkeypatch.setattr(chain.app, "_load", loading)
    # Then what it read was not kept: the next read loads the shipment as it is
    assert chain.app.get_shipment(sscc).status is ShipmentStatus.DISPATCHED

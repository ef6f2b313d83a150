"""Bulk work: the same commands, saved many to a transaction."""

from __future__ import annotations

import pytest

from application.logistics import NATIONAL_WAREHOUSE
from domain.stock_ledger import InsufficientStock, WastageReason
from tests.application.test_recipients import import_rows
from tests.scenario import CORONAVAC, ColdChain, last_position, target_row


def test_batch_saves_commands_together_and_a_refused_one_leaves_it_intact(chain: ColdChain) -> None:
    chain.release(vials=10)
    by = chain.by(NATIONAL_WAREHOUSE)
    before = last_position(chain.app)
    # Given a batch of commands on one stock card
    with chain.app.batch(size=100):
        for _ in range(3):
            chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 2, WastageReason.BROKEN, "", by)
        # When one of them breaks a rule
        with pytest.raises(InsufficientStock, match="Only 4 vials"):
            chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 5, WastageReason.LOST, "", by)
        # Then nothing is written until the batch ends
        assert last_position(chain.app) == before
    # and then the accepted commands are, the refused one is not
    assert last_position(chain.app) == before + 3
    assert chain.on_hand(NATIONAL_WAREHOUSE) == 4


def test_warm_loads_many_aggregates_in_one_go(chain: ColdChain) -> None:
    import_rows(chain.app, [target_row(i) for i in range(1, 6)], chain.by("KEMENKES"))
    ids = [chain.app.recipient_id(f"3273011708850{i:03d}") for i in range(1, 6)]
    chain.app.repository.cache.clear()
    chain.app.warm(ids)
    for recipient_id in ids:
        cached = chain.app.repository.cache.get(recipient_id)
        assert cached.version == 1 and cached.name.startswith("Siti Aminah")

"""Read models opened on the same store as the scenario's application."""

from __future__ import annotations

import pytest

from projections.catalog import open_read_model
from projections.follower import Follower


@pytest.fixture
def follow(app, store_env):
    """``follow(ReadModelClass)`` -> a Follower of it, on the test's store."""
    opened = []

    def open_follower(cls):
        follower = Follower(app, open_read_model(cls, store_env))
        opened.append(follower)
        return follower

    yield open_follower
    for follower in opened:
        follower.read_model.view.datastore.close()

"""Read models opened on the same store as the scenario's application."""

from __future__ import annotations

from typing import Any

import pytest

from projections.catalog import open_read_model
from projections.follower import Follower


class CheckedFollower(Follower):
    """A follower whose read model must not get stuck: a test says so at once, instead
    of reading the figures of a read model that stopped before the log's head."""

    def catch_up(self, *args: Any, **kwargs: Any) -> int:
        processed = super().catch_up(*args, **kwargs)
        assert self.stuck is None, f"read model {self.name} is stuck: {self.stuck}"
        return processed


@pytest.fixture
def follow(app, store_env):
    """``follow(ReadModelClass)`` -> a Follower of it, on the test's store."""
    opened = []

    def open_follower(cls):
        follower = CheckedFollower(app, open_read_model(cls, store_env))
        opened.append(follower)
        return follower

    yield open_follower
    for follower in opened:
        follower.read_model.view.datastore.close()

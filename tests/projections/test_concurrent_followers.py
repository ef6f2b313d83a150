"""Two followers of one read model (a worker and a rebuild, or two workers by
mistake) never count an event twice: the position moves by compare-and-set."""

from __future__ import annotations

import threading

import pytest

from eventsourcing.persistence import Tracking
from projections.catalog import open_read_model
from projections.follower import Follower
from projections.funnel import Funnel
from projections.rows import Changes, FollowerConflict
from tests.application.test_blast import import_targets
from tests.scenario import ColdChain


def dump(view) -> list[dict]:
    return view.select("SELECT * FROM {funnel} ORDER BY district, phase, hour")


def test_a_page_written_from_a_stale_position_is_refused_and_writes_nothing(chain: ColdChain, store_env) -> None:
    import_targets(chain, 10)
    follower = Follower(chain.app, open_read_model(Funnel, store_env))
    follower.catch_up()
    rows, position = dump(follower.read_model.view), follower.position
    changes = Changes()
    changes.add("funnel", ("32.73", 1, "2021-01-03T08:00:00+00:00"), targeted=5)
    with pytest.raises(FollowerConflict):
        follower.read_model.view.apply(changes, Tracking(chain.app.name, position + 5), previous=position - 1)
    assert dump(follower.read_model.view) == rows and follower.position == position
    follower.read_model.view.datastore.close()


def test_two_followers_racing_from_zero_count_every_event_once(chain: ColdChain, store_env) -> None:
    # Given 600 targeted health workers and two followers of the funnel, pages of 20
    import_targets(chain, 600)
    followers = [Follower(chain.app, open_read_model(Funnel, store_env), page_size=20) for _ in range(2)]
    # When both catch up at the same time
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def race(follower: Follower) -> None:
        barrier.wait()
        try:
            follower.catch_up()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=race, args=(f,)) for f in followers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # Then the funnel counts each of them once, as a rebuild from zero does
    assert errors == []
    view = followers[0].read_model.view
    raced = dump(view)
    assert sum(row["targeted"] for row in raced) == 600
    followers[0].rebuild()
    assert dump(view) == raced
    for follower in followers:
        follower.read_model.view.datastore.close()

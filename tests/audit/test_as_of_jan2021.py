""""What did the dashboard show at 18:30 WIB on 13 January?" — asked afterwards, answered by
replaying the log as of that occurred instant, equal to what the live funnel showed when the
log stood there (the jan2021 scenario at a small scale, both backends)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.recipient import Channel
from interfaces.as_of import Moment, funnel_figures, read_models_as_of
from interfaces.scenarios.jan2021 import Rollout, at
from interfaces.sms.outbox import OutboxGateway
from projections.catalog import open_read_model
from projections.follower import Follower
from projections.funnel import Funnel

SIX_THIRTY_PM = at(13, 18.5)  # 18:30 WIB on 13 January 2021


class WatchedRollout(Rollout):
    """The rollout with its funnel followed live: when the first registration after 18:30 WIB on
    13 January comes, what was booked before it is saved and the live funnel is read."""

    follower: Follower
    seen: dict[str, Any] | None = None

    def book(self, index: int, row: list[str], channel: Channel, day: date, moment: Any,
             officer: Any = None) -> None:
        if self.seen is None and moment > SIX_THIRTY_PM:
            self.app._save_batch()  # the bookings before 18:30 reach the log, as they did live
            self.follower.catch_up()
            view = self.follower.read_model.view
            self.seen = {"position": self.follower.position, "totals": view.totals(), "districts": view.by_district()}
        super().book(index, row, channel, day, moment, officer)


def test_the_1830_dashboard_asked_afterwards_equals_what_the_live_funnel_showed(app, settings, store_env) -> None:
    # Given the rollout, its funnel followed live and read when the clock passed 18:30 on the 13th
    live = Follower(app, open_read_model(Funnel, store_env))
    gateway = OutboxGateway(settings.sms_outbox)
    rollout = WatchedRollout(app, gateway, scale=0.001)
    rollout.follower = live
    try:
        rollout.run()
    finally:
        gateway.close()
    seen = rollout.seen
    assert seen is not None and seen["totals"]["registered"] > 0
    head = app.recorder.max_notification_id()
    assert head > seen["position"], "the rollout went on after 18:30 (late registrations, visits, doses)"

    # When the auditor asks, after the whole rollout, as of that occurred instant
    with read_models_as_of(app, store_env, Moment(occurred=SIX_THIRTY_PM), ["funnel"]) as models:
        then = models["funnel"].view
        figures = funnel_figures(models)
        # Then the figures are those the live funnel showed, district by district
        assert then.totals() == seen["totals"]
        assert then.by_district() == seen["districts"]
        assert figures["totals"] == seen["totals"]
    # and the same as of the log position the live funnel stood at
    with read_models_as_of(app, store_env, Moment(position=seen["position"]), ["funnel"]) as models:
        assert models["funnel"].view.totals() == seen["totals"]
        assert models["funnel"].view.position()["notification_id"] == seen["position"]
    # while today's funnel has moved on: late registrations and doses
    live.catch_up()
    now = live.read_model.view.totals()
    assert now["registered"] > seen["totals"]["registered"] and now["dose1"] > 0 == seen["totals"]["dose1"]
    live.read_model.view.datastore.close()

"""The seeds as a scenario: the rollout's calendar shows in the read models."""

from __future__ import annotations

from datetime import datetime

from interfaces.scenarios.jan2021 import LOT, Rollout, at
from interfaces.sms.outbox import OutboxGateway
from projections.dose_reconciliation import DoseReconciliation
from projections.funnel import Funnel
from projections.stock_on_hand import StockOnHand


def test_rollout_follows_the_calendar_of_january_2021(app, settings, follow) -> None:
    # Given an empty store, When the rollout is replayed for 500 health workers
    gateway = OutboxGateway(settings.sms_outbox)
    rollout = Rollout(app, gateway, scale=0.001)
    rollout.run()
    gateway.close()
    funnel = follow(Funnel)
    funnel.catch_up()
    totals = funnel.read_model.view.totals(phase=1)
    # Then all 500 were targeted and messaged, and about a fifth registered
    assert totals["targeted"] == totals["sms_sent"] == 500
    assert totals["delivered"] + totals["failed"] == 500
    assert 50 <= totals["registered"] <= 150
    assert totals["dose1"] == totals["eligible"] > 0
    # registrations came between the blast (12 Jan 19:00 WIB) and midnight of the 13th
    hours = funnel.read_model.view.by_hour(phase=1)
    registering = [datetime.fromisoformat(h["hour"]) for h in hours if h["registered_web"] + h["registered_ussd"]]
    assert at(12, 18) <= min(registering) and max(registering) < at(14, 0)
    # and most had registered by 18:30 on the 13th, as the ministry reported
    early = sum(h["registered_web"] + h["registered_ussd"] for h in hours
                if datetime.fromisoformat(h["hour"]) < at(13, 18.5))
    assert early / (totals["registered_web"] + totals["registered_ussd"]) > 0.7
    # doses were given on 14 and 15 January only
    dosing = {datetime.fromisoformat(h["hour"]).astimezone(at(1, 0).tzinfo).day for h in hours if h["dose1"]}
    assert dosing <= {14, 15}
    # every dose drawn from a stock card is a dose recorded on a person, and no store ran dry
    doses = follow(DoseReconciliation)
    doses.catch_up()
    assert all(row["difference"] == 0 for row in doses.read_model.view.report())
    stock = follow(StockOnHand)
    stock.catch_up()
    # (the incidents leave Bio Farma's two 10-dose lots used up or returned on some cards)
    assert all(row["on_hand"] > 0 for row in stock.read_model.view.levels() if row["lot_number"] == LOT)

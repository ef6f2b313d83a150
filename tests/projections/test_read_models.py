"""Every read model and report on a small scenario whose figures are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from application.logistics import NATIONAL_WAREHOUSE
from domain.shipment import ReceiptLine
from projections.aefi import Aefi
from projections.catalog import READ_MODELS
from projections.dose_reconciliation import DoseReconciliation
from projections.funnel import Funnel
from projections.shipment_reconciliation import ShipmentReconciliation
from projections.shipments import Shipments
from projections.stock_on_hand import StockOnHand, band
from projections.stock_reconciliation import StockReconciliation
from tests.application.test_recipients import PUSKESMAS
from tests.scenario import BIOFARMA_VAC, CORONAVAC, ColdChain
from tests.worked_scenarios import JAN



def caught_up(follow, cls):
    follower = follow(cls)
    follower.catch_up()
    return follower.read_model.view


def test_days_of_stock_bands() -> None:
    assert [band(d) for d in (None, 0, 6.9, 7, 10, 10.1, 14, 14.1)] == [
        "no use yet", "< 7", "< 7", "7–10", "7–10", "10–14", "10–14", "> 14"]


def test_stock_on_hand_with_days_of_stock(logistics: ColdChain, follow) -> None:
    view = caught_up(follow, StockOnHand)
    # Bio Farma: 100 − 40 issued − 2 wasted − 1 adjusted = 57; used 40 over the 10 days to 13 Jan
    [biofarma] = view.levels(NATIONAL_WAREHOUSE, as_of=JAN(13))
    assert (biofarma["on_hand"], biofarma["used"], biofarma["vials"]) == (57, 40, 57)
    assert biofarma["days_of_stock"] == 14.2  # 57 / (40 / 10)
    assert (biofarma["band"], biofarma["status"]) == ("> 14", "ok")
    [province] = view.levels("32", as_of=JAN(13))
    assert (province["on_hand"], province["band"]) == (40, "no use yet")
    # when the province sends everything on, it is out of stock
    logistics.now = JAN(7)
    logistics.receive_all(logistics.ship("32", "32.73", ("CV001", 40)))
    view = caught_up(follow, StockOnHand)
    [province] = view.levels("32", as_of=JAN(13))
    assert (province["on_hand"], province["status"]) == (0, "stock-out")
    [district] = view.levels("32.73", as_of=JAN(13))
    assert district["status"] == "ok" and district["band"] == "no use yet"


def test_shipments_in_transit_overdue_and_excursions(logistics: ColdChain, follow) -> None:
    logistics.now = JAN(7)
    moving = logistics.ship("32", "32.73", ("CV001", 10))
    logistics.app.record_temperature(moving, Decimal("9.5"), logistics.by("32"))
    logistics.pack("32", "32.73", ("CV001", 5))
    view = caught_up(follow, Shipments)
    statuses = sorted((row["status"], row["holder"]) for row in view.shipments())
    assert statuses == [("dispatched", "in transit"), ("packed", "32"), ("received", "32")]
    [transit] = view.in_transit(as_of=JAN(10, 20), overdue_after_days=3)
    assert (transit["sscc"], transit["hours_in_transit"], transit["overdue"]) == (moving, 84.0, True)
    assert transit["excursions"] == 1 and transit["readings"] == 1
    assert view.in_transit(as_of=JAN(9), overdue_after_days=3)[0]["overdue"] is False


def test_shipment_reconciliation_per_line(chain: ColdChain, follow) -> None:
    chain.release(vials=100)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20))
    line = ReceiptLine(CORONAVAC, "CV001", accepted=15, rejected=3, reason="broken", vvm_stage=1)
    chain.app.receive(sscc, [line], Decimal(5), chain.by("32"))
    lost = chain.ship(NATIONAL_WAREHOUSE, "31", ("CV001", 7))
    view = caught_up(follow, ShipmentReconciliation)
    rows = {row["sscc"]: row for row in view.lines()}
    got = rows[sscc]
    assert (got["dispatched"], got["accepted"], got["rejected"], got["short"], got["reason"]) == (20, 15, 3, 2, "broken")
    assert [row["sscc"] for row in view.never_received()] == [lost]


def test_stock_reconciliation_for_a_period(logistics: ColdChain, follow) -> None:
    view = caught_up(follow, StockReconciliation)
    [row] = view.report("2021-01-05", "2021-01-06", facility=NATIONAL_WAREHOUSE)
    # opening = 100 − 40 (3 Jan); in the period: 2 wasted, −1 adjusted; closing 57
    assert (row["opening"], row["received"], row["issued"], row["wasted"], row["adjustments"]) == (60, 0, 0, 2, -1)
    assert row["closing"] == 57
    assert (row["last_count_expected"], row["last_count_counted"]) == (58, 57)
    assert row["discrepancy_rate"] == round(1 / 58, 4)
    [whole] = view.report(facility=NATIONAL_WAREHOUSE)
    assert (whole["opening"], whole["received"], whole["issued"], whole["closing"]) == (0, 100, 40, 57)


def test_funnel_counts_rates_and_hours(vaccinations: ColdChain, follow) -> None:
    view = caught_up(follow, Funnel)
    [district] = view.by_district(phase=1)
    expected = {"targeted": 3, "sms_sent": 3, "failed": 1, "delivered": 0, "registered_web": 1,
                "registered_ussd": 1, "scheduled": 2, "screened": 3, "eligible": 3, "dose1": 2, "dose2": 1}
    assert {k: district[k] for k in expected} == expected
    assert district["drop_out_rate"] == 0.5  # (2 − 1) / 2
    assert district["coverage"] == round(2 / 3, 4)
    hours = view.by_hour("32.73", 1)
    assert sum(h["dose1"] for h in hours) == 2 and hours == sorted(hours, key=lambda h: h["hour"])
    [recon] = view.reconcile_districts(1)
    assert (recon["targeted"], recon["sent"], recon["registered"], recon["vaccinated_dose1"]) == (3, 3, 2, 2)


def test_dose_reconciliation_and_open_vial_wastage(vaccinations: ColdChain, follow) -> None:
    view = caught_up(follow, DoseReconciliation)
    rows = {row["lot_key"]: row for row in view.report(PUSKESMAS)}
    bf = rows[f"{BIOFARMA_VAC}/BF001"]
    assert (bf["recorded"], bf["drawn"], bf["difference"], bf["open_vial_wasted"]) == (2, 2, 0, 8)
    assert bf["open_vial_wastage_rate"] == 0.8  # 8 / (2 + 8)
    assert rows[f"{CORONAVAC}/CV001"]["recorded"] == rows[f"{CORONAVAC}/CV001"]["drawn"] == 1


def test_aefi_by_severity_and_lot(vaccinations: ColdChain, follow) -> None:
    assert caught_up(follow, Aefi).by_lot() == [
        {"gtin": BIOFARMA_VAC, "lot_number": "BF001", "severity": "mild", "reports": 1}]


def test_every_view_states_the_log_position_it_reflects(vaccinations: ColdChain, follow) -> None:
    head = vaccinations.app.recorder.max_notification_id()
    for cls in READ_MODELS.values():
        position = caught_up(follow, cls).position()
        assert position["notification_id"] == head, cls.name
        recorded = datetime.fromisoformat(position["recorded_at"])
        assert datetime.now(UTC) - recorded < timedelta(minutes=5)


def test_rebuilding_twice_gives_identical_tables(vaccinations: ColdChain, follow) -> None:
    for cls in READ_MODELS.values():
        follower = follow(cls)
        view = follower.read_model.view
        follower.catch_up()
        dumps = []
        for _ in range(2):
            follower.rebuild()
            dumps.append({t.name: view.select(f"SELECT * FROM {{{t.name}}} ORDER BY 1, 2")
                          for t in view.tables})
        assert dumps[0] == dumps[1], cls.name
        assert any(dumps[0].values()), f"{cls.name} has no rows: the comparison proves nothing"

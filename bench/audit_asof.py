"""An aggregate's state as of a version (with and without snapshots), and the 18:30 dashboard as of a past instant.

    python -m bench.audit_asof [--database-url URL] [--scale 0.1] [--keep-schema bench_audit_jan2021]

The store is the jan2021 scenario (``bench.projections.scenario_store``:
generated once into a kept schema, reused by later runs).

1. as of a version: in a fresh store, Bio Farma's stock card made to hold
   ``--card-events`` events (1,000: a lot released, one-vial shipments
   dispatched), asked for at ``--samples`` random versions, ``History.as_of_version`` (the library's
   ``repository.get(id, version=v)``: the nearest snapshot at or below v, then
   the events after it), p50/p99/max; then the same versions with the
   snapshot store switched off (every event from version 1), for comparison;
   and the occurred-time and recorded-time folds of the whole card, for
   information. Target: p99 <= 5 ms with snapshots.
2. the dashboard as of 18:30 WIB on 13 January: its read models (funnel,
   stock on hand, shipments, AEFI) replayed into a scratch schema with the
   events that had occurred by then, and every panel read (as
   ``GET /audit/dashboard?at=`` does), in seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime
from typing import Any

from rich.console import Console

from application.history import History, Subject
from bench.projections import analyze, scenario_store
from application.access import Caller
from application.logistics import NATIONAL_WAREHOUSE
from bench.store import DEFAULT_URL, backend, fresh_settings, machine, redacted, write_result
from domain.facility import FacilityKind
from domain.shipment import ShipmentLine
from interfaces.api.routers.dashboard import DASHBOARD_READ_MODELS, dashboard_figures
from interfaces.as_of import Moment, read_models_as_of
from interfaces.bootstrap import create_schema, open_campaign
from interfaces.scenarios.jan2021 import at
from interfaces.settings import event_store_env

SCALE = 0.1
KEEP = "bench_audit_jan2021"
SAMPLES = 2000
CARD_EVENTS = 1000
TARGET_P99_MS = 5.0
say = Console(stderr=True).log


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def timings(values: list[float]) -> dict[str, float]:
    return {"p50": round(percentile(values, 50), 3), "p99": round(percentile(values, 99), 3),
            "max": round(max(values), 3), "samples": len(values)}


def long_card(app: Any, events: int) -> Subject:
    """Bio Farma's stock card with ``events`` events: a lot released, then that many shipments
    of one vial dispatched to Jawa Barat, one command each (the jan2021 scenario's busiest card
    has a few dozen events, about the ledger's snapshot interval of 10)."""
    operator = Caller.operator("bench", occurred_at=datetime(2021, 1, 3, 8, tzinfo=UTC))
    app.register_facility(NATIONAL_WAREHOUSE, "PT Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None, operator)
    app.register_facility("32", "JAWA BARAT", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE, operator)
    gtin = "06992806000015"
    app.release_lot(gtin, "AUDIT1", date(2021, 12, 31), "CoronaVac", 1, "Sinovac", events, operator)
    for _ in range(events - 2):
        sscc = app.pack(NATIONAL_WAREHOUSE, "32", [ShipmentLine(gtin, "AUDIT1", 1)], operator).result["sscc"]
        app.dispatch(sscc, operator)
    ledger = app.get_stock(NATIONAL_WAREHOUSE)
    return Subject("stock", (NATIONAL_WAREHOUSE,), ledger.id, (NATIONAL_WAREHOUSE,), False)


def as_of_version(app: Any, subject: Subject, samples: int) -> dict[str, Any]:
    history = History(app)
    latest = app.repository.get(subject.aggregate_id).version
    rng = random.Random(12)
    versions = [rng.randint(1, latest) for _ in range(samples)]
    say(f"as of a version: stock card {subject.key[0]} ({latest} events), {samples} random versions")
    found = {}
    for label, snapshots in (("with_snapshots", app.repository.snapshot_store), ("without_snapshots", None)):
        kept = app.repository.snapshot_store
        app.repository.snapshot_store = snapshots
        try:
            history.as_of_version(subject, latest)  # warm
            spent = []
            for version in versions:
                start = time.perf_counter()
                state = history.as_of_version(subject, version)
                spent.append((time.perf_counter() - start) * 1000)
                assert state.version == version
        finally:
            app.repository.snapshot_store = kept
        found[label] = timings(spent)
        say(f"  {label}: p50 {found[label]['p50']} ms, p99 {found[label]['p99']} ms")
    folds = {}
    for label, fold in (("occurred_fold_ms", history.as_of_occurred), ("recorded_fold_ms", history.as_of_recorded)):
        spent = []
        for _ in range(5):
            start = time.perf_counter()
            fold(subject, datetime.now(UTC))
            spent.append((time.perf_counter() - start) * 1000)
        folds[label] = round(min(spent), 1)
    return {"aggregate": f"stock card {subject.key[0]}", "events": latest, **found, "whole_card": folds,
            "target_p99_ms": TARGET_P99_MS, "met": found["with_snapshots"]["p99"] <= TARGET_P99_MS}


def dashboard_at_1830(app: Any, env: dict[str, str]) -> dict[str, Any]:
    instant = at(13, 18.5)
    say(f"the dashboard as of {instant.isoformat()} (occurred): its {len(DASHBOARD_READ_MODELS)} read models "
        "replayed into a scratch schema, then every panel read")
    start = time.perf_counter()
    with read_models_as_of(app, env, Moment(occurred=instant), DASHBOARD_READ_MODELS) as models:
        replayed = time.perf_counter() - start
        figures = dashboard_figures(models, app, Caller.operator("bench"), None, None, instant,
                                    app.recorder.max_notification_id() or 0)
    occurred_seconds = time.perf_counter() - start
    totals = figures["funnel"]["totals"]
    say(f"  {occurred_seconds:.1f} s (replay {replayed:.1f} s): registered {totals['registered']:,} "
        f"of {totals['targeted']:,} targeted")
    return {"instant": instant.isoformat(), "seconds": round(occurred_seconds, 2), "replay_seconds": round(replayed, 2),
            "log_events": app.recorder.max_notification_id() or 0, "registered": totals["registered"],
            "targeted": totals["targeted"], "sms_sent": totals["sms_sent"],
            "read_models": list(DASHBOARD_READ_MODELS), "in_transit": figures["shipments"]["in_transit"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--keep-schema", default=KEEP)
    parser.add_argument("--samples", type=int, default=SAMPLES)
    parser.add_argument("--card-events", type=int, default=CARD_EVENTS, help="events of the stock card asked about")
    args = parser.parse_args()
    keep = args.keep_schema if backend(args.database_url) == "postgres" else None
    url = args.database_url if keep else args.database_url.replace(".sqlite", ".card.sqlite")
    with fresh_settings(url) as found:
        create_schema(found)
        app = open_campaign(found)
        try:
            versions = as_of_version(app, long_card(app, args.card_events), args.samples)
        finally:
            app.close()
    with scenario_store(args.database_url, args.scale, keep) as (found, store):
        app = open_campaign(found)
        try:
            analyze(app, args.database_url)  # (not timed) statistics, as autovacuum would have gathered them
            dashboard = dashboard_at_1830(app, event_store_env(found))
        finally:
            app.close()
    name = backend(args.database_url)
    summary = (f"{name}: stock card of {versions['events']} events as of a version p99 "
               f"{versions['with_snapshots']['p99']} ms with snapshots ({versions['without_snapshots']['p99']} ms "
               f"without; target ≤ {TARGET_P99_MS} ms: {'met' if versions['met'] else 'NOT met'}); the 18:30 "
               f"dashboard as of 13 January over {dashboard['log_events']:,} events: {dashboard['seconds']} s")
    result = {"benchmark": "audit_asof", "date": datetime.now(UTC).isoformat(timespec="seconds"), "backend": name,
              "database": redacted(args.database_url), "machine": machine(), "scenario": store,
              "as_of_version": versions, "dashboard_1830": dashboard, "summary": summary}
    print(summary)
    print(f"written to {write_result(result)}")


if __name__ == "__main__":
    sys.exit(main())

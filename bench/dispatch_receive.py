"""Dispatch + receive through the application, beside raw ``Application.save``.

    python -m bench.dispatch_receive [--database-url URL] [--shipments N] [--repeat R]

Both parts run in the same process against the same fresh store (a new
PostgreSQL schema, dropped at the end) and write the same events: per command
one transaction holding one shipment event and one stock-ledger event. The
application part pays for its loads and checks; the raw part saves aggregates
already in memory. Target: the application reaches at least half the raw rate.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from stdnum import ean

from application.identifiers import new_sscc
from application.logistics import NATIONAL_WAREHOUSE, Logistics
from domain.facility import FacilityKind
from domain.lot import Lot
from domain.provenance import Provenance
from domain.shipment import ReceiptLine, Shipment, ShipmentLine
from interfaces.settings import Settings, event_store_env

RESULTS = Path(__file__).parent / "results"
TARGET = 0.5
PROVINCE = "32"
GTIN = "0699280600001" + ean.calc_check_digit("0699280600001")
VIALS = 10
CELSIUS = Decimal("5.0")
NOW = datetime.now(UTC)


@dataclass(frozen=True)
class Run:
    commands_per_s: float
    events_per_s: float
    events: int


def by(facility: str) -> Provenance:
    return Provenance("bench", facility, "bench-1", NOW)


def backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


@contextmanager
def fresh_store(url: str) -> Iterator[dict[str, str]]:
    """The eventsourcing env of the store: on PostgreSQL a new schema, dropped afterwards."""
    if backend(url) == "sqlite":
        yield event_store_env(Settings(database_url=url), create_tables=True)
        return
    schema = f"bench_{secrets.token_hex(4)}"
    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield event_store_env(Settings(database_url=url, postgres_schema=schema), create_tables=True)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def set_up(app: Logistics, vials: int) -> Lot:
    """Bio Farma, one province and a lot of ``vials`` (known facilities are kept)."""
    rows = [
        (NATIONAL_WAREHOUSE, "PT Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None),
        (PROVINCE, "JAWA BARAT", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE),
    ]
    app.register_facilities(rows, by(NATIONAL_WAREHOUSE))
    lot_number = f"BENCH{secrets.token_hex(3).upper()}"
    expiry = (NOW + timedelta(days=365)).date()
    app.release_lot(GTIN, lot_number, expiry, "CoronaVac", 1, "Sinovac", vials, by(NATIONAL_WAREHOUSE))
    return app.get_lot(GTIN, lot_number)


def timed(app: Logistics, commands: int, work: Callable[[], None]) -> Run:
    first = app.recorder.max_notification_id() or 0
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    events = (app.recorder.max_notification_id() or 0) - first
    return Run(commands / seconds, events / seconds, events)


def through_application(app: Logistics, lot: Lot, n: int) -> Run:
    line = ShipmentLine(lot.gtin, lot.lot_number, VIALS)
    ssccs = [app.pack(NATIONAL_WAREHOUSE, PROVINCE, [line], by(NATIONAL_WAREHOUSE)).result["sscc"]
             for _ in range(n)]
    receipt = [ReceiptLine(lot.gtin, lot.lot_number, VIALS)]

    def work() -> None:
        for sscc in ssccs:
            app.dispatch(sscc, by(NATIONAL_WAREHOUSE))
            app.receive(sscc, receipt, CELSIUS, by(PROVINCE))

    return timed(app, 2 * n, work)


def raw_saves(app: Logistics, lot: Lot, n: int) -> Run:
    """The same events from aggregates held in memory: no loads, one save per command."""
    line = ShipmentLine(lot.gtin, lot.lot_number, VIALS)
    shipments = [Shipment.pack(new_sscc(app.company_prefix), NATIONAL_WAREHOUSE, PROVINCE, [line],
                               by(NATIONAL_WAREHOUSE)) for _ in range(n)]
    app.save(*shipments)
    origin, destination = app.get_stock(NATIONAL_WAREHOUSE), app.get_stock(PROVINCE)
    receipt = [ReceiptLine(lot.gtin, lot.lot_number, VIALS)]

    def work() -> None:
        for shipment in shipments:
            shipment.dispatch(by(NATIONAL_WAREHOUSE))
            origin.issue(lot, VIALS, shipment.sscc, by(NATIONAL_WAREHOUSE))
            app.save(shipment, origin)
            shipment.receive(receipt, CELSIUS, by(PROVINCE))
            destination.receive(lot, VIALS, shipment.sscc, by(PROVINCE))
            app.save(shipment, destination)

    return timed(app, 2 * n, work)


def measure(url: str, n: int, repeat: int) -> tuple[list[Run], list[Run]]:
    with fresh_store(url) as env:
        app = Logistics(env=env)
        try:
            lot = set_up(app, 2 * repeat * n * VIALS)
            runs = [(through_application(app, lot, n), raw_saves(app, lot, n)) for _ in range(repeat)]
        finally:
            app.close()
    return [a for a, _ in runs], [r for _, r in runs]


def median(runs: list[Run]) -> dict[str, object]:
    return {
        "commands_per_s": round(statistics.median(r.commands_per_s for r in runs), 1),
        "events_per_s": round(statistics.median(r.events_per_s for r in runs), 1),
        "runs": [asdict(r) for r in runs],
    }


def report(args: argparse.Namespace, application: list[Run], raw: list[Run]) -> dict[str, object]:
    name = backend(args.database_url)
    app_rate, raw_rate = median(application), median(raw)
    ratio = round(app_rate["commands_per_s"] / raw_rate["commands_per_s"], 3)
    verdict = "meets target" if ratio >= TARGET else "below target"
    summary = (
        f"{name}: dispatch+receive {app_rate['commands_per_s']:.0f} commands/s vs raw save "
        f"{raw_rate['commands_per_s']:.0f} saves/s = {ratio:.0%} of raw ({verdict}, target {TARGET:.0%})"
    )
    return {
        "benchmark": "dispatch_receive", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": name, "database": re.sub(r":[^:@/]*@", ":***@", args.database_url),
        "machine": {"nproc": len(os.sched_getaffinity(0)), "eventsourcing": version("eventsourcing")},
        "shipments": args.shipments, "repeat": args.repeat,
        "application": app_rate, "raw_save": raw_rate,
        "ratio": ratio, "target": TARGET, "verdict": verdict, "summary": summary,
    }


def show(result: dict[str, object]) -> None:
    table = Table(title=f"dispatch + receive, {result['shipments']} shipments, "
                        f"median of {result['repeat']} ({result['backend']})")
    for column in ("", "commands/s", "events/s", "each run (commands/s)"):
        table.add_column(column, justify="right" if column else "left")
    for label, key in (("application", "application"), ("raw Application.save", "raw_save")):
        part = result[key]
        runs = ", ".join(f"{r['commands_per_s']:.0f}" for r in part["runs"])
        table.add_row(label, f"{part['commands_per_s']:.0f}", f"{part['events_per_s']:.0f}", runs)
    console = Console()
    console.print(table)
    console.print(result["summary"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--shipments", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = report(args, *measure(args.database_url, args.shipments, args.repeat))
    show(result)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"dispatch_receive-{result['backend']}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()

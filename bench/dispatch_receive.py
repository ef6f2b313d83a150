"""Dispatch + receive through the application, beside raw Application.save.

    python -m bench.dispatch_receive [--database-url URL] [--shipments N] [--repeat R]

Both parts run in one process against one fresh store (on PostgreSQL a new
schema, dropped at the end) and write the same events: per command one
transaction with one shipment event and one stock-ledger event. The
application part pays for its loads and checks; the raw part saves aggregates
already held in memory. Target: the application reaches half the raw rate.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from stdnum import ean

from application.access import Caller
from application.identifiers import new_sscc
from application.logistics import NATIONAL_WAREHOUSE as ORIGIN
from application.logistics import Logistics
from bench.store import CONFIG, DEFAULT_URL, backend, fresh_store, machine, redacted, write_result
from domain.facility import FacilityKind
from domain.lot import Lot
from domain.provenance import Provenance
from domain.shipment import ReceiptLine, Shipment, ShipmentLine

TARGET = 0.5
DESTINATION = "32"
GTIN = "0699280600001" + ean.calc_check_digit("0699280600001")
VIALS = 10
CELSIUS = Decimal("5.0")
NOW = datetime.now(UTC)


CALLER = Caller.operator("bench", occurred_at=NOW, device="bench-1")


def by(app: Logistics, command: str, facility: str) -> Provenance:
    """The provenance the application gives the bench's operator's ``command`` at
    ``facility``: the raw part's events are then those the use cases write."""
    return app.acting(command, CALLER, facility)


def set_up(app: Logistics, vials: int) -> Lot:
    """Bio Farma, one province under it, and a lot of ``vials`` in Bio Farma's stock."""
    rows = [
        (ORIGIN, "PT Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None),
        (DESTINATION, "JAWA BARAT", FacilityKind.PROVINCE_OFFICE, ORIGIN),
    ]
    app.register_facilities(rows, CALLER)
    lot_number = f"BENCH{secrets.token_hex(3).upper()}"
    expiry = (NOW + timedelta(days=365)).date()
    app.release_lot(GTIN, lot_number, expiry, "CoronaVac", 1, "Sinovac", vials, CALLER)
    return app.get_lot(GTIN, lot_number)


def timed(app: Logistics, commands: int, work: Callable[[], None]) -> dict[str, float]:
    """Run ``work``; its rates, and the events it wrote (read from the log)."""
    first = app.recorder.max_notification_id() or 0
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    events = (app.recorder.max_notification_id() or 0) - first
    return {"commands_per_s": round(commands / seconds, 1),
            "events_per_s": round(events / seconds, 1), "events": events}


def through_application(app: Logistics, lot: Lot, n: int) -> dict[str, float]:
    line = ShipmentLine(lot.gtin, lot.lot_number, VIALS)
    ssccs = [app.pack(ORIGIN, DESTINATION, [line], CALLER).result["sscc"] for _ in range(n)]
    receipt = [ReceiptLine(lot.gtin, lot.lot_number, VIALS)]

    def work() -> None:
        for sscc in ssccs:
            app.dispatch(sscc, CALLER)
            app.receive(sscc, receipt, CELSIUS, CALLER)

    return timed(app, 2 * n, work)


def raw_saves(app: Logistics, lot: Lot, n: int) -> dict[str, float]:
    """The same events from aggregates held in memory: no loads, one save per command."""
    line = ShipmentLine(lot.gtin, lot.lot_number, VIALS)
    packed_by = by(app, "pack", ORIGIN)
    shipments = [Shipment.pack(new_sscc(app.company_prefix), ORIGIN, DESTINATION, [line], packed_by)
                 for _ in range(n)]
    app.save(*shipments)
    origin, destination = app.get_stock(ORIGIN), app.get_stock(DESTINATION)
    receipt = [ReceiptLine(lot.gtin, lot.lot_number, VIALS)]
    sent, received = by(app, "dispatch", ORIGIN), by(app, "receive", DESTINATION)

    def work() -> None:
        for shipment in shipments:
            shipment.dispatch(sent)
            origin.issue(lot, VIALS, shipment.sscc, sent)
            app.save(shipment, origin)
            shipment.receive(receipt, CELSIUS, received)
            destination.receive(lot, VIALS, shipment.sscc, received)
            app.save(shipment, destination)

    return timed(app, 2 * n, work)


def measure(url: str, n: int, repeat: int) -> tuple[dict[str, object], dict[str, list]]:
    """The application's configuration, and each part's runs."""
    with fresh_store(url) as env:
        app = Logistics(env=env)
        config = {key: app.env.get(key) for key in CONFIG}
        try:
            lot = set_up(app, 2 * repeat * n * VIALS)
            runs = [(through_application(app, lot, n), raw_saves(app, lot, n)) for _ in range(repeat)]
        finally:
            app.close()
    return config, {"application": [a for a, _ in runs], "raw_save": [r for _, r in runs]}


def report(args: argparse.Namespace, config: dict[str, object], runs: dict[str, list]) -> dict[str, object]:
    parts = {
        part: {key: statistics.median(r[key] for r in rs) for key in ("commands_per_s", "events_per_s")}
        | {"runs": rs}
        for part, rs in runs.items()
    }
    app_rate, raw_rate = parts["application"]["commands_per_s"], parts["raw_save"]["commands_per_s"]
    ratio = round(app_rate / raw_rate, 3)
    verdict = "meets target" if ratio >= TARGET else "below target"
    name = backend(args.database_url)
    return {
        "benchmark": "dispatch_receive", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": name, "database": redacted(args.database_url), "machine": machine(),
        "config": config, "shipments": args.shipments, "repeat": args.repeat, **parts,
        "ratio": ratio, "target": TARGET, "verdict": verdict,
        "summary": f"{name}: dispatch+receive {app_rate:.0f} commands/s, raw save {raw_rate:.0f} "
                   f"saves/s: {ratio:.0%} of raw, {verdict} ({TARGET:.0%})",
    }


def show(result: dict[str, object]) -> None:
    table = Table(title=f"dispatch + receive, {result['shipments']} shipments, "
                        f"median of {result['repeat']} runs, {result['backend']}")
    for column in ("", "commands/s", "events/s", "each run", "events/run"):
        table.add_column(column, justify="right" if column else "left")
    for label, part in (("application", result["application"]), ("raw save", result["raw_save"])):
        table.add_row(
            label, f"{part['commands_per_s']:.0f}", f"{part['events_per_s']:.0f}",
            ", ".join(f"{r['commands_per_s']:.0f}" for r in part["runs"]), str(part["runs"][0]["events"]),
        )
    Console().print(table, result["summary"], sep="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--shipments", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = report(args, *measure(args.database_url, args.shipments, args.repeat))
    show(result)
    print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

"""The recall trace of a lot given to 100,000 people: query latency, and how fast the read model is built.

    python -m bench.trace [--database-url URL] [--doses N] [--queries Q]

One fresh store (on PostgreSQL a new schema, dropped at the end). The events a
campaign would have written for one lot (its release, its stock at 50
puskesmas, and N doses, ``Recipient.Vaccinated``, given over two days, plus an
AEFI per 1,000 doses) are built in memory — a store with 100,000 vaccinated
people takes hours to generate through the use cases — encoded, encrypted and
inserted into the event store's log. Then, in the same run: a raw read and
decode of that log, and the recall trace read model rebuilt from zero by the
follower (the same log, pages of 1,000), as events/s side by side; and
``trace`` (the JSON of ``rantai lot trace``) asked Q times. Target: p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.store import DEFAULT_URL, backend, fresh_settings, machine, redacted, write_result
from domain.lot import Lot
from domain.provenance import Provenance
from domain.recipient import Recipient, Severity
from domain.stock_ledger import StockLedger
from interfaces.bootstrap import open_campaign, open_read_models
from projections.follower import Follower

GTIN, LOT = "06992806000015", "TRACE1"
TARGET_MS = 100
PAGE = 5_000
FACILITIES = [f"P3273{n:02d}" for n in range(1, 51)]
NOW = datetime(2021, 1, 14, 9, tzinfo=UTC)


def by(facility: str) -> Provenance:
    return Provenance("bench", facility, "bench", NOW)


def event(cls: type, originator: uuid.UUID, version: int, **fields: Any) -> Any:
    return cls(originator_id=originator, originator_version=version, timestamp=NOW, **fields)


def events(doses: int) -> list[Any]:
    lot_id = Lot.id_for(GTIN, LOT)
    made: list[Any] = [event(Lot.Released, lot_id, 1, originator_topic="domain.lot:Lot", gtin=GTIN, lot_number=LOT,
                             expiry=date(2022, 12, 31), product="CoronaVac", doses_per_vial=1,
                             manufacturer="Sinovac", by=by("BIOFARMA"))]
    for n, facility in enumerate(FACILITIES):
        made.append(event(StockLedger.Received, StockLedger.id_for(facility), 2, facility=facility, gtin=GTIN,
                          lot_number=LOT, expiry=date(2022, 12, 31), doses_per_vial=1, vials=doses,
                          doses=doses, reference=f"SSCC{n}", by=by(facility)))
    for n in range(doses):
        facility = FACILITIES[n % len(FACILITIES)]
        person = uuid.uuid4()
        made.append(event(Recipient.Vaccinated, person, 5, number=1, gtin=GTIN, lot_number=LOT, facility=facility,
                          vaccinator="bench", day=date(2021, 1, 14 + n % 2), dose2_due=date(2021, 1, 28),
                          next_ticket="", district="32.73", phase=1, new_to_lot=True, opens_vial=True, serial="",
                          by=by(facility)))
        made.append(event(StockLedger.Administered, StockLedger.id_for(facility), 3 + n, facility=facility, gtin=GTIN,
                          lot_number=LOT, expiry=date(2022, 12, 31), doses=1, reference="dose 1", by=by(facility)))
        if n % 1000 == 0:
            made.append(event(Recipient.AefiReported, person, 6, severity=Severity.MILD, description="", dose=1,
                              gtin=GTIN, lot_number=LOT, facility=facility, district="32.73", phase=1, by=by(facility)))
    return made


def write_log(app: Any, made: list[Any]) -> None:
    """Encode, encrypt and insert the events into the store's log (not timed)."""
    for start in range(0, len(made), PAGE):
        app.recorder.insert_events([app.mapper.to_stored_event(e) for e in made[start:start + PAGE]])


def raw_read(app: Any) -> float:
    """The whole log read in pages of 1,000, each event decoded: what the rebuild is compared with."""
    started, position = time.perf_counter(), 0
    while page := app.recorder.select_notifications(position + 1, 1000):
        for notification in page:
            app.mapper.to_domain_event(notification)
        position = page[-1].id
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--doses", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=100)
    options = parser.parse_args()
    console = Console()
    with fresh_settings(options.database_url) as config:
        app = open_campaign(config, create_tables=True)
        model = open_read_models(config, create_tables=True, only=["recall_trace"])["recall_trace"]
        try:
            made = events(options.doses)
            write_log(app, made)
            raw = raw_read(app)
            started = time.perf_counter()
            Follower(app, model).rebuild()
            built = time.perf_counter() - started
            timings = []
            for _ in range(options.queries):
                began = time.perf_counter()
                trace = model.view.trace(GTIN, LOT, "2021-01-15")
                timings.append((time.perf_counter() - began) * 1000)
            assert trace is not None and trace["doses_given"] == options.doses and trace["recipients"] == options.doses
            first_page = time.perf_counter()
            model.view.recipients_of(GTIN, LOT, 100, 0)
            page_ms = (time.perf_counter() - first_page) * 1000
        finally:
            model.view.datastore.close()
            app.close()
    timings.sort()
    p50, p99 = statistics.median(timings), timings[max(0, int(len(timings) * 0.99) - 1)]
    result = {
        "benchmark": "trace", "backend": backend(options.database_url), "database": redacted(options.database_url),
        "machine": machine(), "doses": options.doses, "events": len(made), "queries": options.queries,
        "trace_ms": {"p50": round(p50, 2), "p99": round(p99, 2), "max": round(timings[-1], 2)},
        "target_p99_ms": TARGET_MS, "recipients_first_page_ms": round(page_ms, 2),
        "rebuild_events_per_s": round(len(made) / built), "raw_read_decode_events_per_s": round(len(made) / raw),
        "rebuild_vs_raw_read_decode": round(raw / built, 3),
    }
    table = Table(title=f"Recall trace of a lot given to {options.doses:,} people ({result['backend']})")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("trace p50 / p99 / max", f"{p50:.1f} / {p99:.1f} / {timings[-1]:.1f} ms (target p99 ≤ {TARGET_MS} ms)")
    table.add_row("first page of recipients (100)", f"{page_ms:.1f} ms")
    table.add_row("rebuild from zero (follower)", f"{result['rebuild_events_per_s']:,} events/s")
    table.add_row("raw read + decode of the same log", f"{result['raw_read_decode_events_per_s']:,} events/s "
                  f"(rebuild = {result['rebuild_vs_raw_read_decode']:.0%} of it)")
    console.print(table)
    console.print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

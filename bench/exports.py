"""The exports on the jan2021 scenario: an EPCIS document of the CoronaVac lot and of the
rollout's month, FHIR bundles of the busiest puskesmas's doses and of every dose, beside a raw
read of the log.

    python -m bench.exports [--database-url URL] [--scale 0.02] [--keep-schema NAME]

The store is the jan2021 scenario (``bench.projections.scenario_store``: fresh and
dropped at the end, or a kept schema reused). In the same run: a raw read and
decode of the whole log (the baseline), then each export through
``interfaces.exports.documents`` as the command line runs it, in seconds, with
the log's events/s it reached (each export reads the whole log once, filtered by
topic). Every document is then validated (not timed): EPCIS against the vendored
GS1 schema, FHIR with fhir.resources' R4B models. The FHIR export writes a
``PersonalDataRead`` per person exported (part of its time).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from eventsourcing.utils import get_topic
from rich.console import Console

from application.access import Caller
from bench.projections import raw_read, scenario_store
from bench.store import DEFAULT_URL, backend, machine, redacted, write_result
from domain.recipient import Recipient
from interfaces.bootstrap import open_campaign
from interfaces.exports.documents import epcis_document, fhir_bundle
from interfaces.scenarios.demo import CORONAVAC_GTIN
from interfaces.scenarios.jan2021 import LOT

SCALE = 0.02
SCHEMA = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "epcis" / "EPCIS-JSON-Schema.json"
AUDITOR = Caller.operator("bench:auditor")
say = Console(stderr=True).log


def busiest_clinic(app: Any) -> tuple[str, int]:
    """The facility where most doses were given (a pass over the doses: bench only)."""
    counts: Counter[str] = Counter()
    start = 1
    while page := app.recorder.select_notifications(start, 1000, topics=[get_topic(Recipient.Vaccinated)]):
        counts.update(app.mapper.to_domain_event(n).facility for n in page)
        start = page[-1].id + 1
    return counts.most_common(1)[0]


def timed(what: str, head: int, make: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    start = time.perf_counter()
    document = make()
    seconds = time.perf_counter() - start
    figures = {"seconds": round(seconds, 2), "log_events_per_s": round(head / seconds)}
    say(f"  {what}: {seconds:.2f} s ({head / seconds:,.0f} log events/s)")
    return document, figures


def epcis_errors(document: dict[str, Any]) -> int:
    from jsonschema import Draft7Validator

    validator = Draft7Validator(json.loads(SCHEMA.read_text()), format_checker=Draft7Validator.FORMAT_CHECKER)
    return sum(1 for _ in validator.iter_errors(document))


def fhir_valid(bundle: dict[str, Any]) -> bool:
    from fhir.resources.R4B.bundle import Bundle

    Bundle.model_validate(bundle)
    return True


def run(url: str, scale: float, keep: str | None) -> dict[str, Any]:
    with scenario_store(url, scale, keep) as (found, made):
        app = open_campaign(found)
        try:
            head = app.recorder.max_notification_id() or 0
            raw = raw_read(app, head)
            say(f"log of {head:,} events; raw read + decode {raw['events_per_s']:,} events/s")
            lot, lot_time = timed(f"EPCIS, lot {LOT}", head, lambda: epcis_document(
                app, AUDITOR, gtin=CORONAVAC_GTIN, lot=LOT))
            days, days_time = timed("EPCIS, January 2021", head, lambda: epcis_document(
                app, AUDITOR, first=date(2021, 1, 1), last=date(2021, 1, 31)))
            clinic, given = busiest_clinic(app)
            bundle, fhir_time = timed(f"FHIR, {clinic} ({given} doses)", head, lambda: fhir_bundle(
                app, AUDITOR, facility=clinic))
            nation, nation_time = timed("FHIR, every dose", head, lambda: fhir_bundle(
                app, AUDITOR, facility="national"))
            results = {
                "raw_read_decode": raw,
                "epcis_lot": lot_time | {"epcis_events": len(lot["epcisBody"]["eventList"]),
                                         "schema_errors": epcis_errors(lot)},
                "epcis_period": days_time | {"epcis_events": len(days["epcisBody"]["eventList"]),
                                             "schema_errors": epcis_errors(days)},
                "fhir_facility": fhir_time | {"facility": clinic, "immunizations": len(bundle["entry"]),
                                              "valid": fhir_valid(bundle)},
                "fhir_national": nation_time | {"immunizations": len(nation["entry"]),
                                                "immunizations_per_s": round(len(nation["entry"])
                                                                             / nation_time["seconds"]),
                                                "valid": fhir_valid(nation)},
            }
        finally:
            app.close()
    return {"benchmark": "exports", "backend": backend(url), "database": redacted(url), "scenario": made,
            "log_events": head, **results, "machine": machine()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--keep-schema", default=None)
    args = parser.parse_args(argv)
    result = run(args.database_url, args.scale, args.keep_schema)
    print(json.dumps(result, indent=2))
    say(f"written to {write_result(result)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

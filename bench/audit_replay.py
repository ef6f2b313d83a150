"""``rantai audit replay`` beside a raw read + decode of the same log.

    python -m bench.audit_replay [--database-url URL] [--scale 0.1] [--keep-schema bench_audit_jan2021]

The store is the jan2021 scenario (``bench.projections.scenario_store``:
generated once into a kept schema, reused by later runs). Its live read
models are first brought to the log's head (not timed). Then, in one process:

- raw read + decode: ``select_notifications`` in pages of 1,000 over the
  whole log and ``mapper.to_domain_event`` on every event (before and after
  the replay; the faster is the baseline);
- the replay as ``rantai audit replay`` runs it: every read model created in
  a scratch schema (scratch files on SQLite), the log read once and replayed
  into all of them (``projections.replay.replay``), each up to its live
  read model's position; then every row of every table compared with the
  live one (``projections.replay.compare``).

Reported: N ÷ replay seconds as log events/s, and its ratio to the raw read +
decode (target >= 50 %); the comparison's seconds and the whole command's.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from bench.audit_asof import KEEP, SCALE
from bench.projections import analyze, raw_read, scenario_store
from bench.store import DEFAULT_URL, backend, machine, redacted, write_result
from interfaces.bootstrap import open_campaign, open_read_models
from interfaces.settings import event_store_env
from projections.follower import Follower
from projections.replay import compare, replay, scratch_read_models
from rich.console import Console

TARGET = 0.5
say = Console(stderr=True).log


def run(app: Any, found: Any, url: str) -> dict[str, Any]:
    head = app.recorder.max_notification_id() or 0
    analyze(app, url)
    live = open_read_models(found)
    try:
        start = time.perf_counter()
        for model in live.values():
            Follower(app, model).catch_up()
        say(f"live read models at the head ({head:,} events) in {time.perf_counter() - start:.0f} s (not timed)")
        before = raw_read(app, head)
        say(f"raw read + decode: {before['events_per_s']:,} events/s")
        positions = {name: model.view.max_tracking_id(app.name) or 0 for name, model in live.items()}
        total = time.perf_counter()
        with scratch_read_models(event_store_env(found), list(live)) as scratch:
            created = time.perf_counter() - total
            start = time.perf_counter()
            taken = replay(app, scratch, stops=positions)
            replayed = time.perf_counter() - start
            start = time.perf_counter()
            differences = {name: len(compare(name, live[name], scratch[name])) for name in live}
            compared = time.perf_counter() - start
        total = time.perf_counter() - total
        after = raw_read(app, head)
    finally:
        for model in live.values():
            model.view.datastore.close()
    baseline = max(before["events_per_s"], after["events_per_s"])
    rate = round(head / replayed)
    say(f"replay {replayed:.1f} s = {rate:,} events/s = {rate / baseline:.0%} of raw; compare {compared:.1f} s")
    return {"log_events": head, "read_models": len(positions),
            "raw_read_decode": {"before": before, "after": after, "baseline_events_per_s": baseline},
            "replay": {"seconds": round(replayed, 2), "events_per_s": rate, "ratio": round(rate / baseline, 3),
                       "relevant_events": taken},
            "compare_seconds": round(compared, 2), "scratch_setup_seconds": round(created, 2),
            "whole_command_seconds": round(total, 2),
            "whole_command_ratio": round(head / total / baseline, 3), "differences": differences,
            "target": f"replay ≥ {TARGET:.0%} of raw read + decode", "met": rate / baseline >= TARGET}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--scale", type=float, default=SCALE)
    parser.add_argument("--keep-schema", default=KEEP)
    args = parser.parse_args()
    keep = args.keep_schema if backend(args.database_url) == "postgres" else None
    with scenario_store(args.database_url, args.scale, keep) as (found, store):
        app = open_campaign(found)
        try:
            found_figures = run(app, found, args.database_url)
        finally:
            app.close()
    name = backend(args.database_url)
    r = found_figures
    summary = (f"{name}: rantai audit replay of {r['read_models']} read models over {r['log_events']:,} events: "
               f"replay {r['replay']['seconds']} s = {r['replay']['events_per_s']:,} events/s = "
               f"{r['replay']['ratio']:.0%} of raw read + decode ({r['raw_read_decode']['baseline_events_per_s']:,}/s; "
               f"target ≥ {TARGET:.0%}: {'met' if r['met'] else 'NOT met'}); with the comparison "
               f"{r['whole_command_seconds']} s ({r['whole_command_ratio']:.0%}); rows differing: "
               f"{sum(r['differences'].values())}")
    result = {"benchmark": "audit_replay", "date": datetime.now(UTC).isoformat(timespec="seconds"), "backend": name,
              "database": redacted(args.database_url), "machine": machine(), "scenario": store,
              "replay": r, "summary": summary}
    print(summary)
    print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

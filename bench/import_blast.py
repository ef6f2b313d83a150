"""Import a large sample target list through the CLI, beside raw batched saves; then blast it.

    python -m bench.import_blast [--database-url URL] [--count 500000] [--districts 91]

Everything the operator would run is run as they would run it: the real
``rantai`` CLI in a subprocess (``targets sample``, ``targets import``,
``blast start``), against a fresh store (on PostgreSQL a new schema, dropped
at the end) and an SMS outbox in a temporary directory. Beside the import, in
the same run, the same targets are written a second way into a second fresh
store: Recipient aggregates built from the CSV without validation and saved
with ``Application.save`` 1,000 at a time (only the saves are timed).
Targets: import <= 60 s and >= 60 % of the raw rate, peak RSS <= 300 MB,
blast <= 60 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from rich.console import Console
from rich.table import Table

from application.access import CAMPAIGN
from application.campaign import Campaign
from bench.store import (
    CONFIG,
    DEFAULT_URL,
    backend,
    fresh_settings,
    machine,
    redacted,
    write_result,
)
from domain.recipient import Category, Recipient
from interfaces.cli.terminal import operator
from interfaces.settings import Settings, event_store_env

ROOT = Path(__file__).resolve().parent.parent
CLI = (sys.executable, "-m", "interfaces.cli.main")
PHASE, SOURCE = 1, "bench"
BATCH = 1000  # rows per raw save, as the import's batches
PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 2**20
TARGETS = {  # name: (limit, at most or at least, as written)
    "import_seconds": (60, "<=", "≤ 60 s"),
    "import_ratio": (0.6, ">=", "≥ 60 % of raw"),
    "peak_rss_mb": (300, "<=", "≤ 300 MB"),
    "blast_seconds": (60, "<=", "≤ 60 s"),
}
IMPORTED = re.compile(r"(\d+) targets imported, (\d+) already on the list, (\d+) rejected")


@dataclass
class Run:
    """One CLI command: wall time, peak RSS and what it printed."""

    seconds: float
    peak_rss_mb: float  # ru_maxrss from wait4: the largest of the process and its reaped children
    tree_rss_mb: float  # sampled every 0.1 s: the sum over the process and its children, at its highest
    output: str


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, now."""
    total, pending = 0, [pid]
    while pending:
        process = pending.pop()
        try:
            with open(f"/proc/{process}/statm") as statm:
                total += int(statm.read().split()[1]) * PAGE
            for task in os.listdir(f"/proc/{process}/task"):
                with open(f"/proc/{process}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


def run_cli(args: list[str], env: dict[str, str], log: Path) -> Run:
    """``rantai ARGS`` in a subprocess, timed from start to exit; fails loudly if it fails."""
    peak, done = [0], threading.Event()

    def sample(pid: int) -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_rss(pid))

    with log.open("w") as out:
        start = time.perf_counter()
        process = subprocess.Popen([*CLI, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        sampler = threading.Thread(target=sample, args=(process.pid,), daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    output = log.read_text()
    if process.returncode != 0:
        raise SystemExit(f"rantai {' '.join(args[:2])} failed (exit {process.returncode}):\n{output[-3000:]}")
    return Run(round(seconds, 2), round(usage.ru_maxrss / 1024, 1), round(peak[0] / MB, 1), output)


def cli_env(settings: Settings, outbox: Path) -> dict[str, str]:
    """The CLI's environment: the fresh store, its secrets, the outbox without a rate limit."""
    return dict(os.environ) | {
        "RANTAI_DATABASE_URL": settings.database_url, "RANTAI_POSTGRES_SCHEMA": settings.postgres_schema,
        "RANTAI_CIPHER_KEY": settings.cipher_key or "", "RANTAI_NIK_SECRET": settings.nik_secret or "",
        "RANTAI_CREATE_TABLES": "false", "RANTAI_SMS_GATEWAY": "outbox", "RANTAI_SMS_OUTBOX": str(outbox),
        "RANTAI_SMS_OUTBOX_RATE_PER_SECOND": "0", "COLUMNS": "200",
    }


@contextmanager
def opened(settings: Settings, create_tables: bool = False) -> Iterator[Campaign]:
    app = Campaign(env=event_store_env(settings, create_tables=create_tables))
    try:
        yield app
    finally:
        app.close()


def log_position(settings: Settings) -> int:
    with opened(settings) as app:
        return app.recorder.max_notification_id() or 0


def districts_of(path: Path) -> list[str]:
    with path.open(newline="") as file:
        return sorted({row["district"] for row in csv.DictReader(file)})


def raw_url(url: str) -> str:
    """The raw part's store: on SQLite a second file beside the first (``x-raw.sqlite``)."""
    return re.sub(r"(\.\w+)?$", r"-raw\1", url, count=1) if backend(url) == "sqlite" else url


def raw_saves(settings: Settings, path: Path) -> dict[str, float]:
    """The same targets as aggregates built without validation, saved 1,000 per
    ``Application.save``; only the saves are timed. One batch in memory at a time."""
    with opened(settings, create_tables=True) as app, path.open(newline="") as file:
        by = app.acting("import_targets", operator(), CAMPAIGN)  # the provenance the CLI's import gives
        config = {key: app.env.get(key) for key in CONFIG}
        first, saving, start = app.recorder.max_notification_id() or 0, 0.0, time.perf_counter()
        rows = csv.DictReader(file)
        for chunk in iter(lambda: list(islice(rows, BATCH)), []):
            batch = [
                Recipient.target(
                    app.recipient_id(row["nik"]), nik=row["nik"], name=row["name"],
                    phone="+62" + row["phone"][1:], phase=PHASE, category=Category(row["category"]),
                    source=SOURCE, district=row["district"], workplace=row["workplace"], by=by,
                )
                for row in chunk
            ]
            began = time.perf_counter()
            app.save(*batch)
            saving += time.perf_counter() - began
        total = time.perf_counter() - start
        events = (app.recorder.max_notification_id() or 0) - first
    return {"save_seconds": round(saving, 2), "total_seconds": round(total, 2), "events": events,
            "events_per_s": round(events / saving, 1), "batch": BATCH, "config": config}


def outbox_rows(path: Path) -> tuple[int, int]:
    """Messages in the outbox, and the attempts (more than messages if any was sent twice)."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*), coalesce(sum(attempts), 0) FROM messages").fetchone()


def measure(url: str, count: int, districts: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="rantai-bench-") as tmp, fresh_settings(url) as store:
        work, outbox = Path(tmp), Path(tmp) / "outbox.sqlite"
        env, targets = cli_env(store, outbox), Path(tmp) / "targets.csv"
        say = Console(stderr=True).log

        say(f"sample: {count} targets in {districts} districts (rantai targets sample)")
        sample = run_cli(["targets", "sample", "--count", str(count), "--districts", str(districts),
                          "--out", str(targets)], env, work / "sample.log")
        codes = districts_of(targets)

        say("import (rantai targets import)")
        with opened(store, create_tables=True):
            pass
        imported = run_cli(["targets", "import", str(targets), "--phase", str(PHASE), "--source", SOURCE],
                           env, work / "import.log")
        events = log_position(store)
        tally = IMPORTED.search(imported.output)
        new, listed, rejected = (int(n) for n in tally.groups()) if tally else (None, None, None)

        say(f"raw save: {BATCH} aggregates per Application.save, second fresh store")
        with fresh_settings(raw_url(url)) as raw_store:
            raw = raw_saves(raw_store, targets)

        say(f"blast (rantai blast start) to {len(codes)} districts")
        before = log_position(store)
        blast = run_cli(["blast", "start", "--phase", str(PHASE), "--districts", ",".join(codes)],
                        env, work / "blast.log")
        blast_events = log_position(store) - before
        messages, attempts = outbox_rows(outbox)

    return {
        "config": raw.pop("config"),
        "sample": {"seconds": sample.seconds, "rows": count, "districts": len(codes)},
        "import": {"seconds": imported.seconds, "events": events,
                   "events_per_s": round(events / imported.seconds, 1),
                   "peak_rss_mb": imported.peak_rss_mb, "tree_rss_mb": imported.tree_rss_mb,
                   "imported": new, "already_listed": listed, "rejected": rejected},
        "raw_save": raw,
        "blast": {"seconds": blast.seconds, "messages": messages, "attempts": attempts,
                  "messages_per_s": round(messages / blast.seconds, 1), "events": blast_events,
                  "peak_rss_mb": blast.peak_rss_mb, "tree_rss_mb": blast.tree_rss_mb},
        "bench_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def met(name: str, value: float) -> dict[str, object]:
    limit, sense, text = TARGETS[name]
    return {"value": value, "target": text,
            "met": value <= limit if sense == "<=" else value >= limit}


def report(args: argparse.Namespace, figures: dict[str, object]) -> dict[str, object]:
    imp, raw, blast = figures["import"], figures["raw_save"], figures["blast"]
    ratio = round(imp["events_per_s"] / raw["events_per_s"], 3)
    targets = {
        "import_seconds": met("import_seconds", imp["seconds"]),
        "import_ratio": met("import_ratio", ratio),
        "peak_rss_mb": met("peak_rss_mb", imp["peak_rss_mb"]),
        "blast_seconds": met("blast_seconds", blast["seconds"]),
    }
    complete = imp["events"] == raw["events"] == args.count and blast["messages"] == args.count
    missed = [name for name, t in targets.items() if not t["met"]]
    verdict = "all targets met" if not missed else "missed: " + ", ".join(missed)
    if not complete:
        verdict += f" (INCOMPLETE: expected {args.count} events and messages)"
    name = backend(args.database_url)
    return {
        "benchmark": "import_blast", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": name, "database": redacted(args.database_url), "machine": machine(),
        "count": args.count, "districts": args.districts, **figures,
        "ratio": ratio, "targets": targets, "complete": complete, "verdict": verdict,
        "summary": f"{name}: import {args.count} targets {imp['seconds']:.1f} s, {imp['events_per_s']:.0f} "
                   f"events/s = {ratio:.0%} of raw save ({raw['events_per_s']:.0f}), peak RSS "
                   f"{imp['peak_rss_mb']:.0f} MB; blast {blast['seconds']:.1f} s "
                   f"({blast['messages_per_s']:.0f} messages/s): {verdict}",
    }


def show(result: dict[str, object]) -> None:
    imp, raw, blast, sample = result["import"], result["raw_save"], result["blast"], result["sample"]
    figures = Table(title=f"import + blast, {result['count']} targets in {sample['districts']} districts, "
                          f"{result['backend']}")
    for column in ("", "seconds", "events", "per second", "peak RSS MB (sum sampled)"):
        figures.add_column(column, justify="right" if column else "left")
    figures.add_row("sample CSV (CLI, not a target)", f"{sample['seconds']:.1f}", f"{sample['rows']} rows", "", "")
    figures.add_row("import (CLI, wall)", f"{imp['seconds']:.1f}", str(imp["events"]),
                    f"{imp['events_per_s']:.0f} events", f"{imp['peak_rss_mb']:.0f} ({imp['tree_rss_mb']:.0f})")
    figures.add_row("raw save (saves only)", f"{raw['save_seconds']:.1f}", str(raw["events"]),
                    f"{raw['events_per_s']:.0f} events", "")
    figures.add_row("blast (CLI, wall)", f"{blast['seconds']:.1f}", f"{blast['messages']} SMS",
                    f"{blast['messages_per_s']:.0f} SMS", f"{blast['peak_rss_mb']:.0f} ({blast['tree_rss_mb']:.0f})")
    targets = Table(title="targets")
    for column in ("", "figure", "target", "met"):
        targets.add_column(column)
    for name, t in result["targets"].items():
        targets.add_row(name, f"{t['value']:.0%}" if name == "import_ratio" else str(t["value"]),
                        t["target"], "[green]yes[/green]" if t["met"] else "[red]no[/red]")
    Console().print(figures, targets, result["summary"], sep="\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--count", type=int, default=500_000)
    parser.add_argument("--districts", type=int, default=91)
    args = parser.parse_args()
    result = report(args, measure(args.database_url, args.count, args.districts))
    show(result)
    print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

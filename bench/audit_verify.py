"""How fast ``rantai audit verify`` reads the whole log, beside a raw read of the same log.

    python -m bench.audit_verify [--database-url URL] [--doses N]

One fresh store (on PostgreSQL a new schema, dropped at the end), filled with
the recall trace benchmark's events (a lot given to N people: ~2N events,
encoded and encrypted as the campaign stores them; not timed). Then, in the
same run: the log sealed from zero (the sealer's own rate), a checkpoint
signed, and the log read raw twice — the library's
``select_notifications`` (pages of 10,000, no decoding) and the seal's own
row query (the one verify uses, pages of 10,000) — before and after
``Verifier.verify`` recomputes the tree from every row and compares it with
the sealed tree and the checkpoint: as ``rantai audit verify`` does, with a
helper process reading and hashing part of the log
(``projections/leaf_stream.py``), and in one process alone, for comparison;
each twice, alternately. The best time of each is taken (as for the raw
reads). Verify is reported in events/s and as a share of the faster raw
read. Targets: ≥ 50 % of the raw read, ≥ 50,000 events/s.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from rich.console import Console
from rich.table import Table

from bench.store import DEFAULT_URL, backend, fresh_settings, machine, redacted, write_result
from bench.trace import events, write_log
from interfaces.bootstrap import open_campaign
from interfaces.settings import event_store_env
from projections.checkpoints import new_signing_key, sign, signing_key
from projections.seal import Sealer, open_seal
from projections.seal_verify import READ_PAGE, Verifier, decrypter

TARGET_SHARE, TARGET_RATE = 0.5, 50_000


def library_read(app) -> float:
    started, position = time.perf_counter(), 0
    while page := app.recorder.select_notifications(position + 1, READ_PAGE):
        position = page[-1].id
    return time.perf_counter() - started


def seal_read(store) -> float:
    started, position = time.perf_counter(), 0
    while rows := store.rows(position, READ_PAGE):
        position = rows[-1][0]
    return time.perf_counter() - started


def timed(run):  # noqa: ANN001, ANN201
    started = time.perf_counter()
    outcome = run()
    return outcome, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--doses", type=int, default=100_000)
    options = parser.parse_args()
    console = Console()
    key = signing_key(new_signing_key())
    with fresh_settings(options.database_url) as config:
        app = open_campaign(config, create_tables=True)
        env = event_store_env(config)
        store = open_seal(env)
        try:
            made = events(options.doses)
            write_log(app, made)
            store.create_tables()
            started = time.perf_counter()
            size = Sealer(store).seal()
            sealing = time.perf_counter() - started
            checkpoint = sign("bench/audit", size, Sealer(store).root(size), key)
            store.add_checkpoint(size, checkpoint.root, checkpoint.note, datetime.now(UTC).isoformat())
            raw_library, raw_rows = [library_read(app)], [seal_read(store)]
            verifier = Verifier(store, decrypter(env), [("bench/audit", key.public_key())])
            shared_times, alone_times = [], []
            for _ in range(2):  # each measured twice, as the raw reads are: the best of each is compared
                verifier.helper = True
                report, took = timed(verifier.verify)
                shared_times.append(took)
                verifier.helper = False
                alone, took = timed(verifier.verify)
                alone_times.append(took)
            raw_library.append(library_read(app))
            raw_rows.append(seal_read(store))
            verifying, verifying_alone = min(shared_times), min(alone_times)
        finally:
            store.close()
            app.close()
    for verified in (report, alone):
        assert verified.clean and verified.rows == size == len(made) and verified.checkpoints == 1, verified.lines()
    raw = min(min(raw_library), min(raw_rows))
    rate = round(size / verifying)
    result = {
        "benchmark": "audit_verify", "backend": backend(options.database_url),
        "database": redacted(options.database_url), "machine": machine(), "events": size,
        "verify_events_per_s": rate,
        "raw_read_library_events_per_s": round(size / min(raw_library)),
        "raw_read_rows_events_per_s": round(size / min(raw_rows)),
        "verify_vs_raw_read": round(raw / verifying, 3),
        "verify_one_process_events_per_s": round(size / verifying_alone),
        "verify_one_process_vs_raw_read": round(raw / verifying_alone, 3),
        "seal_events_per_s": round(size / sealing),
        "targets": {"verify_vs_raw_read": TARGET_SHARE, "verify_events_per_s": TARGET_RATE},
    }
    table = Table(title=f"rantai audit verify over {size:,} events ({result['backend']})")
    for column in ("figure", "value"):
        table.add_column(column)
    table.add_row("verify (recompute, compare with the sealed tree and a checkpoint)", f"{rate:,} events/s "
                  f"(target ≥ {TARGET_RATE:,})")
    table.add_row("raw read, the library's select_notifications", f"{result['raw_read_library_events_per_s']:,} events/s")
    table.add_row("raw read, the seal's row query", f"{result['raw_read_rows_events_per_s']:,} events/s")
    table.add_row("verify / the faster raw read", f"{result['verify_vs_raw_read']:.0%} (target ≥ {TARGET_SHARE:.0%})")
    table.add_row("verify in one process (no helper), / the raw read",
                  f"{result['verify_one_process_events_per_s']:,} events/s, "
                  f"{result['verify_one_process_vs_raw_read']:.0%}")
    table.add_row("sealing from zero", f"{result['seal_events_per_s']:,} events/s")
    console.print(table)
    console.print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

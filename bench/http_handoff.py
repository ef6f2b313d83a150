"""Dispatch, receive and dose over HTTP with bearer tokens, beside raw Application.save.

    python -m bench.http_handoff [--database-url URL] [--commands N] [--workers 1,2,3] [--clients 2,4,8]

One fresh store (on PostgreSQL a new schema, dropped at the end), set up
through the application. The real server (``uvicorn --factory
interfaces.api.main:create_app``) runs in a subprocess with W worker
processes, and a load generator (``bench.loadgen``, a lean HTTP/1.1 client with keep-alive
connections) in another process sends the handoff commands with bearer
tokens: closed loop with C clients for the maximum rate, for each W and C;
then, on the W that paid off, an open loop at half that rate for latencies
measured from each request's due time. Beside them, in this process, the same
aggregates saved raw (``Application.save``, one command per transaction).
Targets: HTTP commands/s >= 50 % of raw; p99 <= 50 ms at half the maximum rate.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import pwd
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal
from importlib.metadata import version
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
from rich.console import Console
from rich.table import Table
from stdnum import ean

from application.access import Caller
from application.accounts import AUTH_CACHE_SECONDS
from application.campaign import Campaign, new_ticket
from application.logistics import NATIONAL_WAREHOUSE as ORIGIN
from bench.store import CONFIG, DEFAULT_URL, backend, fresh_settings, machine, redacted, write_result
from domain.facility import FacilityKind
from domain.recipient import Channel, ScreeningResult
from domain.shipment import ReceiptLine, ShipmentLine
from domain.ticket import Ticket
from domain.user import Role
from interfaces.bootstrap import create_schema, open_campaign, regions
from interfaces.settings import Settings, event_store_env

ROOT = Path(__file__).resolve().parent.parent
RATIO_TARGET, P99_TARGET_MS = 0.5, 50.0
PROVINCE, DISTRICT, PUSKESMAS = "32", "32.73", "P327301"
WIB = ZoneInfo("Asia/Jakarta")
GTIN = "0699280600001" + ean.calc_check_digit("0699280600001")
VIALS = 10  # per shipment, as bench.dispatch_receive
CELSIUS = Decimal("5.0")
OPERATOR = Caller.operator("bench", device="bench")  # set-up only: full rights, the server's clock
FACILITIES = [
    (ORIGIN, "PT Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None),
    (PROVINCE, "Dinas Kesehatan Provinsi Jawa Barat", FacilityKind.PROVINCE_OFFICE, ORIGIN),
    (DISTRICT, "Dinas Kesehatan Kota Bandung", FacilityKind.DISTRICT_OFFICE, PROVINCE),
    (PUSKESMAS, "Puskesmas Sukasari", FacilityKind.PUSKESMAS, DISTRICT),
]
# Who sends each command: (username, role, scope). One account per role; a token per device.
ACCOUNTS = {
    "dispatch": ("gudang.biofarma", Role.WAREHOUSE, ORIGIN),
    "receive": ("gudang.jabar", Role.WAREHOUSE, PROVINCE),
    "dose": ("vaksinator.sukasari", Role.VACCINATOR, PUSKESMAS),
}
KINDS = tuple(ACCOUNTS)
OPEN_CONNECTIONS = 64  # the open loop's keep-alive connections (more requests in flight wait for one)
SET_UP_BATCH = 100  # aggregates per transaction in the set-up
AUTH_CHECKS = 20  # dispatches over HTTP, and as many in-process, in the token check
say = Console(stderr=True).log


# Set-up (not timed)


@dataclass
class Fixture:
    """What the set-up made: the lot, the accounts' tokens, and pools of work,
    each item used by one command only."""

    lot_number: str
    tokens: dict[str, list[str]]
    packed: list[str]  # SSCCs packed at Bio Farma for province 32
    dispatched: list[str]  # ... and already dispatched (the open loop receives them)
    tickets: list[str]  # registered at the puskesmas for today, screened eligible today
    users: dict[str, Caller] = field(default_factory=dict)

    def take(self, pool: str, n: int) -> list[str]:
        items: list[str] = getattr(self, pool)
        if len(items) < n:
            raise SystemExit(f"set-up made too few {pool}: {len(items)} left, {n} needed")
        taken, items[:] = items[:n], items[n:]
        return taken


def target_rows(count: int) -> Iterator[dict[str, str]]:
    """Health workers of Kecamatan Sukasari (32.73.01) working at its puskesmas, with valid NIKs."""
    for i in range(count):
        born, serial = date(1970, 1, 1) + timedelta(days=i // 9999), i % 9999 + 1
        yield {"nik": f"327301{born:%d%m%y}{serial:04d}", "name": f"Bench Nakes {i}",
               "phone": f"0812{i:08d}", "category": "nakes", "district": DISTRICT, "workplace": PUSKESMAS}


def set_up(found: Settings, shipments: int, dispatched: int, tickets: int, devices: int) -> Fixture:
    """Facilities, a lot, stock at the puskesmas, shipments, booked and screened
    recipients, and the three accounts with a token per device.

    Through the use cases, by an application of its own: the only writer while it
    runs, so its aggregate cache is the truth and is not fast-forwarded (no query
    per load); commands saved 100 aggregates at a time (``CommandHandling.batch``:
    larger batches deep-copy the growing session of the day on every booking)."""
    app = Campaign(event_store_env(found) | {"AGGREGATE_CACHE_FASTFORWARD": "n"})
    app.regions = regions()
    try:
        return _set_up(app, shipments, dispatched, tickets, devices)
    finally:
        app.close()


def _set_up(app: Campaign, shipments: int, dispatched: int, tickets: int, devices: int) -> Fixture:
    started = time.perf_counter()
    app.register_facilities(FACILITIES, OPERATOR)
    lot_number = f"BENCH{secrets.token_hex(3).upper()}"
    expiry = (datetime.now(UTC) + timedelta(days=365)).date()
    doses = tickets + 10
    app.release_lot(GTIN, lot_number, expiry, "CoronaVac", 1, "Sinovac",
                    (shipments + dispatched) * VIALS + doses, OPERATOR)
    for origin, destination in ((ORIGIN, PROVINCE), (PROVINCE, DISTRICT), (DISTRICT, PUSKESMAS)):
        sscc = app.pack(origin, destination, [ShipmentLine(GTIN, lot_number, doses)], OPERATOR).result["sscc"]
        app.dispatch(sscc, OPERATOR)
        app.receive(sscc, [ReceiptLine(GTIN, lot_number, doses)], CELSIUS, OPERATOR)
    line = [ShipmentLine(GTIN, lot_number, VIALS)]
    with app.batch(SET_UP_BATCH):
        packed = [app.pack(ORIGIN, PROVINCE, line, OPERATOR).result["sscc"] for _ in range(shipments + dispatched)]
        for sscc in packed[shipments:]:
            app.dispatch(sscc, OPERATOR)
    say(f"  {shipments + dispatched} shipments packed, {dispatched} of them dispatched "
        f"({time.perf_counter() - started:.0f} s)")

    rows = list(target_rows(tickets))
    imported = sum(batch.imported for batch in app.import_targets(enumerate(rows, start=2), 1, "bench", OPERATOR))
    if imported != tickets:
        raise SystemExit(f"{imported} of {tickets} targets imported")
    today = datetime.now(WIB).date()
    deadline = datetime.combine(today + timedelta(days=1), clock_time(23, 59, 59), WIB)
    app.set_calendar(1, deadline, [today, today + timedelta(days=1)], OPERATOR)
    with app.batch(SET_UP_BATCH):
        booked = [app.register(row["nik"], row["phone"][-4:], Channel.WEB, PUSKESMAS, today).result["ticket"]
                  for row in rows]
    with app.batch(SET_UP_BATCH):
        for ticket in booked:
            app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, OPERATOR)
    say(f"  {tickets} targets imported, registered for today ({today}, WIB) and screened "
        f"({time.perf_counter() - started:.0f} s)")

    tokens: dict[str, list[str]] = {}
    users: dict[str, Caller] = {}
    for kind, (username, role, scope) in ACCOUNTS.items():
        _, first, _ = app.add_user(username, role, scope, OPERATOR)
        tokens[kind] = [first] + [app.issue_token(username, OPERATOR)[0] for _ in range(devices - 1)]
        users[kind] = Caller(username, role, scope, "bench-0")
    say(f"  set-up done in {time.perf_counter() - started:.0f} s")
    return Fixture(lot_number, tokens, packed[:shipments], packed[shipments:], booked, users)


# The requests


def dispatch(sscc: str) -> dict[str, Any]:
    return {"kind": "dispatch", "role": "dispatch", "method": "POST", "path": f"/shipments/{sscc}/dispatch"}


def receive(sscc: str, lot_number: str) -> dict[str, Any]:
    lines = [{"gtin": GTIN, "lot_number": lot_number, "accepted": VIALS}]
    return {"kind": "receive", "role": "receive", "method": "POST", "path": f"/shipments/{sscc}/receipt",
            "json": {"lines": lines, "arrival_celsius": str(CELSIUS)}}


def dose(ticket: str, lot_number: str) -> dict[str, Any]:
    return {"kind": "dose", "role": "dose", "method": "POST", "path": f"/tickets/{ticket}/dose",
            "json": {"gtin": GTIN, "lot_number": lot_number}}


def handoffs(fixture: Fixture, n: int) -> list[list[dict[str, Any]]]:
    """Closed loop: a shipment scanned out at Bio Farma, then scanned in at the province; a dose."""
    lot = fixture.lot_number
    return [[dispatch(s), receive(s, lot) | {"needs_previous": True}, dose(t, lot)]
            for s, t in zip(fixture.take("packed", n), fixture.take("tickets", n), strict=True)]


def independent(fixture: Fixture, n: int) -> list[list[dict[str, Any]]]:
    """Open loop: each request at its own time, so the receipts are of shipments dispatched in the set-up."""
    lot = fixture.lot_number
    return [[dispatch(s), receive(r, lot), dose(t, lot)]
            for s, r, t in zip(fixture.take("packed", n), fixture.take("dispatched", n),
                               fixture.take("tickets", n), strict=True)]


# The server and the load generator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(found: Settings, outbox: Path) -> dict[str, str]:
    return dict(os.environ) | {
        "RANTAI_DATABASE_URL": found.database_url, "RANTAI_POSTGRES_SCHEMA": found.postgres_schema,
        "RANTAI_CIPHER_KEY": found.cipher_key or "", "RANTAI_NIK_SECRET": found.nik_secret or "",
        "RANTAI_GATEWAY_SECRET": found.gateway_secret or "", "RANTAI_CREATE_TABLES": "false",
        "RANTAI_DAILY_CAPACITY": str(found.daily_capacity), "RANTAI_SMS_GATEWAY": "outbox",
        "RANTAI_SMS_OUTBOX": str(outbox), "RANTAI_SMS_OUTBOX_RATE_PER_SECOND": "0",
    }


def process_tree(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        process = pending.pop()
        found.append(process)
        try:
            for task in os.listdir(f"/proc/{process}/task"):
                with open(f"/proc/{process}/task/{task}/children") as children:
                    pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes (those still alive)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    """The processes of the ``postgres`` user: the server and every backend (other sessions' too)."""
    try:
        uid = pwd.getpwnam("postgres").pw_uid
    except KeyError:
        return []
    pids = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                pids.append(int(entry))
        except FileNotFoundError:
            continue
    return pids


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / os.sysconf("SC_CLK_TCK"), sum(values) / os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    url: str
    workers: int
    log: Path
    errors: list[str] = field(default_factory=list)  # what its log said went wrong (filled when it stops)

    def cpu(self) -> float:
        return cpu_seconds(process_tree(self.process.pid))


@contextmanager
def serving(found: Settings, workers: int, work: Path) -> Iterator[Server]:
    """``uvicorn --factory interfaces.api.main:create_app --workers W`` until every
    worker has started; stopped (SIGTERM, then its workers' clean shutdown) afterwards."""
    port = free_port()
    log, outbox = work / f"server-{workers}-{port}.log", work / f"sms-outbox-{port}.sqlite"  # each start its own
    command = [sys.executable, "-m", "uvicorn", "--factory", "interfaces.api.main:create_app",
               "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--no-access-log"]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=server_env(found, outbox),
                                   stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}", workers, log)
    try:
        deadline = time.monotonic() + 120
        while log.read_text().count("Application startup complete") < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        if httpx.get(f"{server.url}/health", timeout=10).status_code != 200:
            raise SystemExit(f"GET /health failed:\n{log.read_text()[-3000:]}")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        lines = log.read_text().splitlines()
        server.errors = [line for i, line in enumerate(lines)
                         if "ERROR" in line or (i and lines[i - 1].startswith("Traceback"))][:20]
        if server.errors:
            say(f"  [yellow]the server logged errors: {server.errors[:3]}[/yellow]")


def generate(server: Server, work: Path, plan: dict[str, Any]) -> dict[str, Any]:
    """Run ``bench.loadgen`` in its own process on ``plan``; its result, with the
    CPU the server and the machine used meanwhile."""
    name = f"{plan['mode']}-w{server.workers}-c{plan['clients']}"
    plan_path, result_path = work / f"{name}.plan.json", work / f"{name}.result.json"
    plan_path.write_text(json.dumps({"base_url": server.url} | plan))
    database = {pid: cpu_seconds([pid]) for pid in postgres_pids()}
    server_cpu, (busy, total) = server.cpu(), machine_busy()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-m", "bench.loadgen", str(plan_path), str(result_path)], cwd=ROOT, check=True)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)  # the load generator's whole life, start-up included
    generator_cpu = reaped.ru_utime + reaped.ru_stime - children.ru_utime - children.ru_stime
    server_cpu = server.cpu() - server_cpu
    # backends started during the run count whole; those that ended during it are lost
    database_cpu = sum(cpu_seconds([pid]) - database.get(pid, 0.0) for pid in postgres_pids())
    busy, total = (b - a for a, b in zip((busy, total), machine_busy(), strict=True))
    result = json.loads(result_path.read_text())
    result["server_cpu_seconds"] = server_cpu
    result["generator_cpu_seconds"] = generator_cpu
    result["postgres_cpu_seconds"] = database_cpu  # every session's, not only the server's
    result["machine_busy"] = busy / total if total else 0.0  # of all cores, during warm-up and run
    result["machine_busy_cpu_seconds"] = busy
    return result


# Figures


def percentile(values: list[float], p: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latencies(records: list[list[Any]], kind: str | None = None) -> dict[str, float] | None:
    """p50/p95/p99/max in ms of the 2xx answers (of one kind, or all)."""
    values = [r[2] for r in records if 200 <= r[1] < 300 and (kind is None or r[0] == kind)]
    if not values:
        return None
    ms = lambda v: round(v * 1000, 1)  # noqa: E731
    return {"p50": ms(percentile(values, 50)), "p95": ms(percentile(values, 95)),
            "p99": ms(percentile(values, 99)), "max": ms(max(values)), "n": len(values)}


def log_since(app: Campaign, first: int) -> tuple[int, int]:
    """Events in the log after position ``first``, and the log's last position. A transaction
    that lost a race (and was retried) used up positions without writing: the difference."""
    recorder: Any = app.recorder
    from psycopg.sql import SQL, Identifier

    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(SQL("SELECT count(*) AS n, max(notification_id) AS last FROM {}.{} WHERE notification_id > %s")
                       .format(Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)),
                       (first,))
        row = cursor.fetchone()
    return row["n"], row["last"] or first


def summary(result: dict[str, Any], app: Campaign, first: int) -> dict[str, Any]:
    """The figures of one load generator run; the log read from position ``first`` (before its warm-up)."""
    records = result["records"]
    ok = sum(1 for r in records if 200 <= r[1] < 300)
    warm = sum(n for status, n in result["warmup_statuses"].items() if status.endswith(" 200"))
    events, last = log_since(app, first)
    wall = result["wall"]
    skipped = sum(n for status, n in result["statuses"].items() if status.endswith(" skipped"))
    worst = sorted(records, key=lambda r: r[2])[-5:][::-1]
    return {
        "commands": len(records), "ok": ok, "non_2xx": len(records) - ok, "skipped": skipped,
        "statuses": result["statuses"], "error_samples": result["errors"],
        "warmup_statuses": result["warmup_statuses"],
        "seconds": round(wall, 2), "commands_per_s": round(ok / wall, 1),
        "events": events, "events_per_ok_command": round(events / (ok + warm), 2) if ok else None,
        "positions_lost_to_retries_per_command": round((last - first - events) / (ok + warm), 2) if ok else None,
        "latency_ms": {"all": latencies(records)} | {kind: latencies(records, kind) for kind in KINDS},
        "send_delay_ms": {"p50": round(percentile([r[3] for r in records], 50) * 1000, 1),
                          "p99": round(percentile([r[3] for r in records], 99) * 1000, 1),
                          "max": round(max(r[3] for r in records) * 1000, 1)} if records else None,
        "worst": [{"kind": r[0], "status": r[1], "at_s": round(r[4], 2), "ms": round(r[2] * 1000, 1),
                   "send_delay_ms": round(r[3] * 1000, 1)} for r in worst],
        # CPU seconds from the load generator's start to its exit (its warm-up included; "measured":
        # its own while the clock ran); "other": the rest of the machine's busy time (other work)
        "cpu_seconds": {"load_generator": round(result["generator_cpu_seconds"], 2),
                        "load_generator_measured": round(result["cpu_seconds"], 2),
                        "server": round(result["server_cpu_seconds"], 2),
                        "postgres": round(result["postgres_cpu_seconds"], 2),
                        "other": round(result["machine_busy_cpu_seconds"] - result["server_cpu_seconds"]
                                       - result["postgres_cpu_seconds"] - result["generator_cpu_seconds"], 2)},
        "machine_busy": round(result["machine_busy"], 3),
    }


def closed_loop(server: Server, fixture: Fixture, app: Campaign, work: Path, clients: int,
                n: int) -> dict[str, Any]:
    plan = {"mode": "closed", "clients": clients, "tokens": fixture.tokens,
            "warmup": handoffs(fixture, 3 * clients), "units": handoffs(fixture, n)}
    first = app.recorder.max_notification_id() or 0
    result = generate(server, work, plan)
    return {"workers": server.workers, "clients": clients} | summary(result, app, first)


def open_loop(server: Server, fixture: Fixture, app: Campaign, work: Path, rate: float, clients: int,
              n: int) -> dict[str, Any]:
    plan = {"mode": "open", "clients": clients, "devices": clients, "connections": OPEN_CONNECTIONS,
            "rate": rate, "tokens": fixture.tokens, "warmup": handoffs(fixture, 3 * clients),
            "units": independent(fixture, n)}
    first = app.recorder.max_notification_id() or 0
    result = generate(server, work, plan)
    found = summary(result, app, first)
    return {"workers": server.workers, "rate": round(rate, 1), "connections": OPEN_CONNECTIONS,
            "devices": clients, "issued_seconds": round(result["issued_seconds"], 2),
            "achieved_rate": round(len(result["records"]) / result["issued_seconds"], 1),
            "most_late_ms": round(result["most_late_s"] * 1000, 1)} | found


# Raw saves


def raw_saves(app: Campaign, fixture: Fixture, n: int) -> dict[str, Any]:
    """The same aggregates, decided in memory and saved one command per transaction:
    shipment + Bio Farma's ledger; shipment + the province's ledger; recipient +
    the puskesmas's ledger + the next dose's ticket. No loads in the timed part."""
    lot = app.get_lot(GTIN, fixture.lot_number)
    shipments = [app.get_shipment(s) for s in fixture.take("packed", n)]
    tickets = fixture.take("tickets", n)
    recipients = [app.find_by_ticket(t) for t in tickets]
    origin, destination, clinic = app.get_stock(ORIGIN), app.get_stock(PROVINCE), app.get_stock(PUSKESMAS)
    sent = app.acting("dispatch", fixture.users["dispatch"], ORIGIN)
    received = app.acting("receive", fixture.users["receive"], PROVINCE)
    given = app.acting("vaccinate", fixture.users["dose"], PUSKESMAS)
    vaccinator, interval = fixture.users["dose"].username, app.dose_interval_days
    receipt = [ReceiptLine(GTIN, fixture.lot_number, VIALS)]
    seconds = dict.fromkeys(KINDS, 0.0)
    first = app.recorder.max_notification_id() or 0
    for shipment, recipient, ticket in zip(shipments, recipients, tickets, strict=True):
        began = time.perf_counter()
        shipment.dispatch(sent)
        origin.issue(lot, VIALS, shipment.sscc, sent)
        app.save(shipment, origin)
        dispatched = time.perf_counter()
        shipment.receive(receipt, CELSIUS, received)
        destination.receive(lot, VIALS, shipment.sscc, received)
        app.save(shipment, destination)
        arrived = time.perf_counter()
        next_token = new_ticket()
        number = recipient.vaccinate(ticket, GTIN, fixture.lot_number, vaccinator, interval, next_token, given)
        clinic.administer(lot, 1, f"dose {number}", given)
        app.save(recipient, clinic, Ticket(next_token, recipient.id, number + 1, given))
        done = time.perf_counter()
        seconds["dispatch"] += dispatched - began
        seconds["receive"] += arrived - dispatched
        seconds["dose"] += done - arrived
    events, _ = log_since(app, first)
    total = sum(seconds.values())
    return {"commands": 3 * n, "seconds": round(total, 2), "commands_per_s": round(3 * n / total, 1),
            "events": events, "events_per_command": round(events / (3 * n), 2),
            "per_kind_commands_per_s": {kind: round(n / s, 1) for kind, s in seconds.items()}}


# Is a known token a database round trip?


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the statements psycopg sends, in this process, while the block runs."""
    count = [0]
    originals = {name: getattr(psycopg.Cursor, name) for name in ("execute", "executemany")}

    def counted(original: Any) -> Any:
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            count[0] += 1
            return original(self, *args, **kwargs)
        return wrapper

    for name, original in originals.items():
        setattr(psycopg.Cursor, name, counted(original))
    try:
        yield count
    finally:
        for name, original in originals.items():
            setattr(psycopg.Cursor, name, original)


def token_check(found: Settings, fixture: Fixture, work: Path) -> dict[str, Any]:
    """In this process, the real app behind Starlette's TestClient: dispatches with a
    known token, then as many called directly with the same caller; the statements
    sent per command, and how many times the token was looked up in the store."""
    import warnings

    with warnings.catch_warnings():  # Starlette's note on httpx, not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    from interfaces.api.main import create_app

    config = found.model_copy(update={"sms_outbox": str(work / "token-check-outbox.sqlite"),
                                      "gateway_secret": found.gateway_secret})
    token = fixture.tokens["dispatch"][0]
    headers = {"Authorization": f"Bearer {token}", "X-Device": "bench-check"}
    ssccs = fixture.take("packed", 2 * AUTH_CHECKS + 2)
    with TestClient(create_app(config)) as client:
        campaign = client.app.state.campaign
        lookups = [0]
        original = campaign._check_token

        def check_token(*args: Any) -> Any:
            lookups[0] += 1
            return original(*args)

        campaign._check_token = check_token
        first = client.post(f"/shipments/{ssccs[0]}/dispatch", headers=headers)  # the token becomes known
        first.raise_for_status()
        known_after = lookups[0]
        with counting_queries() as over_http:
            for sscc in ssccs[1:AUTH_CHECKS + 1]:
                client.post(f"/shipments/{sscc}/dispatch", headers=headers).raise_for_status()
        http_lookups = lookups[0] - known_after
        caller = campaign.authenticate(token, "bench-check")
        with counting_queries() as direct:
            for sscc in ssccs[AUTH_CHECKS + 1:2 * AUTH_CHECKS + 1]:
                campaign.dispatch(sscc, caller)
        time.sleep(AUTH_CACHE_SECONDS + 0.5)
        before = lookups[0]
        with counting_queries() as idle:
            client.post(f"/shipments/{ssccs[-1]}/dispatch", headers=headers).raise_for_status()
        after_idle = lookups[0] - before
    per_http, per_direct = over_http[0] / AUTH_CHECKS, direct[0] / AUTH_CHECKS
    return {
        "requests": AUTH_CHECKS, "token_lookups_first_request": known_after,
        "token_lookups_known_token": http_lookups,
        "statements_per_dispatch_over_http": round(per_http, 2),
        "statements_per_dispatch_in_process": round(per_direct, 2),
        "extra_statements_per_request_for_auth": round(per_http - per_direct, 2),
        "after_idle_s": AUTH_CACHE_SECONDS + 0.5, "token_lookups_after_idle": after_idle,
        "statements_after_idle": idle[0],
        "verdict": "no round trip per request once known" if http_lookups == 0 and per_http - per_direct < 0.5
        else "round trips for auth",
    }


# The run


def describe_machine(url: str) -> dict[str, Any]:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), None)
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
    return machine() | {"cpu": model, "memory_mb": memory, "python": platform.python_version(),
                        "postgresql": server, "uvicorn": version("uvicorn"), "httpx": version("httpx"),
                        "fastapi": version("fastapi")}


def measure(args: argparse.Namespace) -> dict[str, Any]:
    n, workers, clients = args.commands, args.workers, args.clients
    runs = len(workers) * len(clients)
    shipments = (runs * n + sum(3 * c for c in clients) * len(workers)  # closed loops and their warm-ups
                 + n + 3 * max(clients)  # the open loop and its warm-up
                 + 2 * n + 2 * AUTH_CHECKS + 2)  # raw saves, before and after; the token check
    tickets = runs * n + sum(3 * c for c in clients) * len(workers) + n + 3 * max(clients) + 2 * n
    capacity = str(tickets + 10)
    with tempfile.TemporaryDirectory(prefix="rantai-bench-") as tmp, \
            fresh_settings(args.database_url, daily_capacity=capacity,
                           gateway_secret=secrets.token_urlsafe(16)) as found:
        work = Path(tmp)
        say(f"set-up in {found.postgres_schema}: {shipments} shipments, {tickets} recipients")
        create_schema(found)
        fixture = set_up(found, shipments, n, tickets, max(clients))
        app = open_campaign(found)  # as the server opens it: log positions, the token check, raw saves
        config = {key: app.env.get(key) for key in CONFIG}
        try:
            say("token check (in this process, the app behind TestClient)")
            auth = token_check(found, fixture, work)
            say(f"  {auth}")
            say("raw saves, before (this process, no server running)")
            raws = [raw_saves(app, fixture, n)]
            say(f"  {raws[0]['commands_per_s']} commands/s")
            closed: list[dict[str, Any]] = []
            errors: dict[str, list[str]] = {}
            for w in workers:
                with serving(found, w, work) as server:
                    for c in clients:
                        say(f"closed loop: {w} workers, {c} clients, {n} × (dispatch, receive, dose)")
                        closed.append(closed_loop(server, fixture, app, work, c, n))
                        run = closed[-1]
                        say(f"  {run['commands_per_s']} commands/s, {run['non_2xx']} non-2xx, "
                            f"p99 {run['latency_ms']['all']['p99'] if run['latency_ms']['all'] else '-'} ms")
                        if run["error_samples"]:
                            say(f"  [yellow]{run['error_samples']}[/yellow]")
                errors[f"closed, {w} workers"] = server.errors
            best = max(closed, key=lambda r: r["commands_per_s"])
            rate = best["commands_per_s"] / 2
            say(f"open loop: {best['workers']} workers at {rate:.0f} commands/s (half of {best['commands_per_s']})")
            with serving(found, best["workers"], work) as server:
                opened = open_loop(server, fixture, app, work, rate, best["clients"], n)
            errors[f"open, {best['workers']} workers"] = server.errors
            say(f"  p50 {opened['latency_ms']['all']['p50']} ms, p99 {opened['latency_ms']['all']['p99']} ms")
            say("raw saves, after (this process, the servers stopped)")
            raws.append(raw_saves(app, fixture, n))
            say(f"  {raws[1]['commands_per_s']} commands/s")
        finally:
            app.close()
    raw = max(raws, key=lambda r: r["commands_per_s"]) | {"runs": raws}
    return {"config": config, "auth": auth, "closed": closed, "best": best, "open": opened, "raw": raw,
            "server_errors": errors}


def report(args: argparse.Namespace, found: dict[str, Any], machine_info: dict[str, Any]) -> dict[str, Any]:
    best, opened, raw = found["best"], found["open"], found["raw"]
    ratio = round(best["commands_per_s"] / raw["commands_per_s"], 3)
    by_workers = {w: max(r["commands_per_s"] for r in found["closed"] if r["workers"] == w) for w in args.workers}
    worst = max((opened["latency_ms"][k]["p99"] for k in KINDS if opened["latency_ms"][k]), default=math.inf)
    overall = opened["latency_ms"]["all"]["p99"] if opened["latency_ms"]["all"] else math.inf
    targets = {
        "ratio": {"value": ratio, "target": f"≥ {RATIO_TARGET:.0%} of raw", "met": ratio >= RATIO_TARGET},
        "p99_ms": {"value": overall, "worst_kind": worst, "target": f"≤ {P99_TARGET_MS:g} ms at half the maximum rate",
                   "met": overall <= P99_TARGET_MS, "met_by_every_kind": worst <= P99_TARGET_MS},
    }
    non_2xx = sum(r["non_2xx"] for r in found["closed"]) + opened["non_2xx"]
    missed = [name for name, t in targets.items() if not t["met"]]
    verdict = "all targets met" if not missed else "missed: " + ", ".join(missed)
    name = backend(args.database_url)
    return {
        "benchmark": "http_handoff", "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": name, "database": redacted(args.database_url), "machine": machine_info,
        "config": found["config"], "commands_per_kind": args.commands, "workers_tried": args.workers,
        "clients_tried": args.clients, "workers_chosen": best["workers"], "clients_at_max": best["clients"],
        "max_commands_per_s_by_workers": by_workers,
        "note": "the load generator, the server's workers and PostgreSQL share the machine's cores",
        "token_check": found["auth"], "closed_loop": found["closed"], "open_loop": opened, "raw_save": raw,
        "server_errors": found["server_errors"],
        "ratio": ratio, "targets": targets, "non_2xx": non_2xx, "verdict": verdict,
        "summary": (f"{name}: dispatch/receive/dose over HTTP {best['commands_per_s']:.0f} commands/s "
                    f"({best['workers']} workers, {best['clients']} clients), raw save {raw['commands_per_s']:.0f} "
                    "(the faster of before and after): "
                    f"{ratio:.0%} of raw; at {opened['rate']:.0f}/s p50 {opened['latency_ms']['all']['p50']} ms, "
                    f"p99 {overall} ms (worst kind {worst} ms); {non_2xx} non-2xx; {verdict}"),
    }


def show(result: dict[str, Any]) -> None:
    console = Console(width=max(Console().width, 140))
    closed = Table(title=f"closed loop: {result['commands_per_kind']} × (dispatch → receive → dose) per run, "
                         f"{result['backend']}, {result['machine']['nproc']} cores shared by server, "
                         "load generator and PostgreSQL")
    for column in ("workers", "clients", "commands/s", "non-2xx", "p50 ms", "p99 ms", "events/cmd",
                   "ids lost/cmd", "CPU s server", "CPU s loadgen", "CPU s postgres", "CPU s other", "machine busy"):
        closed.add_column(column, justify="right")
    for run in result["closed_loop"]:
        lat = run["latency_ms"]["all"] or {"p50": "-", "p99": "-"}
        refused = str(run["non_2xx"]) + (f" (+{run['skipped']} skipped)" if run["skipped"] else "")
        closed.add_row(str(run["workers"]), str(run["clients"]), f"{run['commands_per_s']:.0f}", refused,
                       str(lat["p50"]), str(lat["p99"]), str(run["events_per_ok_command"]),
                       str(run["positions_lost_to_retries_per_command"]),
                       f"{run['cpu_seconds']['server']:.1f}", f"{run['cpu_seconds']['load_generator']:.1f}",
                       f"{run['cpu_seconds']['postgres']:.1f}", f"{run['cpu_seconds']['other']:.1f}",
                       f"{run['machine_busy']:.0%}")
    opened, raw = result["open_loop"], result["raw_save"]
    latency = Table(title=f"open loop at {opened['rate']:.0f} commands/s (half the maximum), "
                          f"{opened['workers']} workers; ms from each request's due time")
    for column in ("", "n", "p50", "p95", "p99", "max"):
        latency.add_column(column, justify="right" if column else "left")
    for kind in ("all", *KINDS):
        lat = opened["latency_ms"][kind]
        if lat:
            latency.add_row(kind, str(lat["n"]), str(lat["p50"]), str(lat["p95"]), str(lat["p99"]), str(lat["max"]))
    versus = Table(title="HTTP vs raw Application.save (the ratio is against the faster raw run)")
    for column in ("", "commands/s", "dispatch/s", "receive/s", "dose/s", "events/cmd"):
        versus.add_column(column, justify="right" if column else "left")
    best = result["closed_loop"][[(r["workers"], r["clients"]) for r in result["closed_loop"]].index(
        (result["workers_chosen"], result["clients_at_max"]))]
    versus.add_row(f"HTTP, {best['workers']} workers, {best['clients']} clients", f"{best['commands_per_s']:.0f}",
                   "", "", "", str(best["events_per_ok_command"]))
    for label, run in zip(("raw save, before", "raw save, after"), raw["runs"]):
        kinds = run["per_kind_commands_per_s"]
        versus.add_row(f"{label}, 1 thread", f"{run['commands_per_s']:.0f}", f"{kinds['dispatch']:.0f}",
                       f"{kinds['receive']:.0f}", f"{kinds['dose']:.0f}", str(run["events_per_command"]))
    auth = result["token_check"]
    console.print(closed, latency, versus)
    console.print(f"token check: {auth['token_lookups_known_token']} store lookups for {auth['requests']} requests "
                  f"with a known token; {auth['statements_per_dispatch_over_http']} statements per dispatch over "
                  f"HTTP vs {auth['statements_per_dispatch_in_process']} in-process; after "
                  f"{auth['after_idle_s']} s idle {auth['token_lookups_after_idle']} lookup(s): {auth['verdict']}")
    delay = opened["send_delay_ms"] or {}
    console.print(f"open loop: {opened['achieved_rate']} requests/s issued; the generator sent them "
                  f"{delay.get('p50')} ms (p50), {delay.get('p99')} ms (p99), {delay.get('max')} ms (max) after their "
                  f"due time; {opened['non_2xx']} non-2xx; slowest: "
                  + ", ".join(f"{w['kind']} {w['status']} at {w['at_s']} s: {w['ms']} ms" for w in opened["worst"]))
    if result["non_2xx"]:
        console.print("non-2xx and skipped:", {k: v for r in [*result["closed_loop"], opened] for k, v in r["statuses"].items()
                                   if not k.endswith(("200", "201"))})
    console.print(result["note"] + ".")
    console.print(result["summary"])


def integers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--commands", type=int, default=200, help="commands of each kind per run")
    parser.add_argument("--workers", type=integers, default=[1, 2, 3], help="uvicorn workers to try, e.g. 1,2,3")
    parser.add_argument("--clients", type=integers, default=[2, 4, 8], help="closed-loop clients to try, e.g. 2,4,8")
    args = parser.parse_args()
    if backend(args.database_url) != "postgres":
        raise SystemExit("http_handoff runs on PostgreSQL only (the API serves SQLite from one process).")
    if datetime.now(WIB).time() >= clock_time(23, 30):
        raise SystemExit("It is nearly midnight in Jakarta: the doses need today's screening. Run after 00:00 WIB.")
    started, load_before = time.perf_counter(), os.getloadavg()
    machine_info = describe_machine(args.database_url)
    result = report(args, measure(args), machine_info)
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["load_average"] = {"before": [round(v, 2) for v in load_before],  # 1, 5, 15 min: other work on the machine
                              "after": [round(v, 2) for v in os.getloadavg()]}
    show(result)
    print(f"written to {write_result(result)}")


if __name__ == "__main__":
    main()

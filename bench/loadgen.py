"""The HTTP load generator of ``bench.http_handoff``: a process of its own.

    python -m bench.loadgen PLAN.json RESULT.json

It imports nothing of the application (only httpx, and uvloop when present),
so that what it costs the machine is the cost of a client, not of Rantai.
The plan (written by ``bench.http_handoff``) names the server, the bearer
tokens per role and device, and the work as *units*: a unit is a list of
requests (dispatch, receive, dose). Two modes:

- ``closed``: ``clients`` concurrent clients (asyncio tasks, one keep-alive
  connection each) take the next unit from a shared queue and send its
  requests one after the other, each when the previous one answered (a
  request marked ``needs_previous`` is skipped, and counted as skipped, when
  the one before it failed: no receipt of a shipment whose dispatch was
  refused). The rate is what the server gives: 2xx answers over the wall time.
- ``open``: the requests of the units, flattened, are due at ``i / rate``
  seconds; each is sent at its time whatever the earlier ones are doing (up
  to ``connections`` in flight on keep-alive connections, more wait for a free
  one). Its latency is measured from the time it was **due**, not the time it
  was sent, so a slow answer cannot hide the requests queued behind it
  (no coordinated omission).

Before the clock starts, the ``warmup`` units run closed-loop with the same
number of clients (not counted): connections are opened, every server process
has seen the tokens and loaded the hot aggregates.

The result holds one record per request: kind, HTTP status (0 for a transport
error), latency in seconds (open: from when it was due; closed: from when it
was sent), the time it waited for its send (open) and when it was due or sent,
from the start; plus the wall time, this process's CPU seconds and the first
error answers of each kind.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

try:  # the event loop uvicorn's [standard] extra brings: less CPU per request
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

MAX_ERROR_SAMPLES = 3


class Client:
    """One HTTP client over a shared pool; records every request."""

    def __init__(self, plan: dict[str, Any], connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.http = httpx.AsyncClient(base_url=plan["base_url"], limits=limits, timeout=plan.get("timeout", 60))
        self.tokens: dict[str, list[str]] = plan["tokens"]
        self.records: list[list[Any]] = []
        self.errors: dict[str, list[str]] = {}
        self.statuses: Counter[str] = Counter()
        self.warmup: Counter[str] = Counter()  # statuses of the warm-up's requests (not in the records)
        self.counting = False

    def headers(self, role: str, device: int) -> dict[str, str]:
        tokens = self.tokens[role]
        return {"Authorization": f"Bearer {tokens[device % len(tokens)]}", "X-Device": f"bench-{device}"}

    async def send(self, request: dict[str, Any], device: int, due: float, start: float) -> int:
        """Send ``request``; its latency from ``due`` (a perf_counter time). Answers the status."""
        sent = time.perf_counter()
        try:
            answer = await self.http.request(request["method"], request["path"], json=request.get("json"),
                                              headers=self.headers(request["role"], device))
            status, text = answer.status_code, answer.text
        except httpx.HTTPError as error:
            status, text = 0, f"{type(error).__name__}: {error}"
        done = time.perf_counter()
        if not self.counting:
            self.warmup[f"{request['kind']} {status}"] += 1
            return status
        kind = request["kind"]
        self.records.append([kind, status, done - due, sent - due, due - start])
        self.statuses[f"{kind} {status}"] += 1
        if not 200 <= status < 300:
            samples = self.errors.setdefault(f"{kind} {status}", [])
            if len(samples) < MAX_ERROR_SAMPLES:
                samples.append(text[:300])
        return status


async def closed_loop(client: Client, units: list[list[dict[str, Any]]], clients: int) -> float:
    queue = iter(units)
    start = time.perf_counter()

    async def run(device: int) -> None:
        for unit in queue:  # shared: each unit is taken by one client
            status = 200
            for request in unit:
                if request.get("needs_previous") and not 200 <= status < 300:
                    if client.counting:  # e.g. no receipt of a shipment whose dispatch was refused
                        client.statuses[f"{request['kind']} skipped"] += 1
                    continue
                now = time.perf_counter()
                status = await client.send(request, device, now, start)

    await asyncio.gather(*(run(k) for k in range(clients)))
    return time.perf_counter() - start


async def open_loop(client: Client, units: list[list[dict[str, Any]]], rate: float, devices: int) -> dict[str, float]:
    requests = [request for unit in units for request in unit]
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    late = 0.0
    for i, request in enumerate(requests):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        late = max(late, time.perf_counter() - due)
        tasks.append(asyncio.create_task(client.send(request, i % devices, due, start)))
    issued = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return {"wall": time.perf_counter() - start, "issued_seconds": issued, "most_late_s": late}


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    clients = plan["clients"]
    connections = plan.get("connections", clients)
    client = Client(plan, max(connections, clients))
    async with client.http:
        await client.http.get("/health")
        if plan.get("warmup"):
            await closed_loop(client, plan["warmup"], clients)
        client.counting = True
        cpu = time.process_time()
        if plan["mode"] == "closed":
            timing = {"wall": await closed_loop(client, plan["units"], clients)}
        else:
            timing = await open_loop(client, plan["units"], plan["rate"], plan.get("devices", clients))
        cpu = time.process_time() - cpu
    return {**timing, "cpu_seconds": cpu, "records": client.records, "statuses": dict(client.statuses),
            "warmup_statuses": dict(client.warmup), "errors": client.errors}


def run(plan_path: str, result_path: str) -> None:
    plan = json.loads(Path(plan_path).read_text())
    if uvloop is not None:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            result = runner.run(main(plan))
    else:
        result = asyncio.run(main(plan))
    Path(result_path).write_text(json.dumps(result))


if __name__ == "__main__":
    run(*sys.argv[1:3])

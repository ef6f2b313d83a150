"""The HTTP load generator of ``bench.http_handoff``: a process of its own.

    python -m bench.loadgen PLAN.json RESULT.json

It imports nothing of the application (nor any HTTP library: a minimal
HTTP/1.1 client on asyncio streams, uvloop when present), so that what it
costs the machine is the cost of a lean client, not of Rantai: the load
generator shares the machine's 2 cores with the server and PostgreSQL, and
every CPU millisecond it spends is one the server does not get. (httpx, used
before, cost ~2.2 ms of CPU per request; the requests here are encoded once,
before the clock starts, and an answer is parsed only as far as its status
line, its Content-Length and its body.)

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
from urllib.parse import urlsplit

try:  # the event loop uvicorn's [standard] extra brings: less CPU per request
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

MAX_ERROR_SAMPLES = 3
MAX_HEAD = 64 * 1024


class HttpError(Exception):
    """The server closed the connection or answered something that is not HTTP/1.1."""


class Connection:
    """One keep-alive HTTP/1.1 connection: a request's bytes out, (status, body) back."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=MAX_HEAD)
        assert self.reader is not None  # noqa: S101 - opened above
        try:
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status_line, _, fields = head.partition(b"\r\n")
            parts = status_line.split(b" ", 2)
            if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
                raise HttpError(f"not an HTTP answer: {status_line[:80]!r}")
            length, chunked, close = 0, False, False
            for field in fields.split(b"\r\n"):
                name, _, value = field.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding":
                    chunked = b"chunked" in value.lower()
                elif name == b"connection":
                    close = b"close" in value.lower()
            body = await self._chunked() if chunked else await self.reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            self.close()
            raise HttpError(f"{type(error).__name__}: {error}") from error
        if close:
            self.close()
        return int(parts[1]), body

    async def _chunked(self) -> bytes:
        assert self.reader is not None  # noqa: S101 - only while open
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return bytes(body)
            body += await self.reader.readexactly(size)
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def encode(host: str, request: dict[str, Any], token: str, device: int) -> bytes:
    """The request's bytes, once, before the clock starts."""
    body = json.dumps(request["json"], separators=(",", ":")).encode() if request.get("json") is not None else b""
    head = (f"{request['method']} {request['path']} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: Bearer {token}\r\nX-Device: bench-{device}\r\n"
            f"Content-Length: {len(body)}\r\n")
    if body:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + body


class Client:
    """A pool of keep-alive connections; records every request."""

    def __init__(self, plan: dict[str, Any], connections: int) -> None:
        address = urlsplit(plan["base_url"])
        self.host = address.netloc
        self.pool: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(connections):
            self.pool.put_nowait(Connection(address.hostname or "127.0.0.1", address.port or 80))
        self.tokens: dict[str, list[str]] = plan["tokens"]
        self.records: list[list[Any]] = []
        self.errors: dict[str, list[str]] = {}
        self.statuses: Counter[str] = Counter()
        self.warmup: Counter[str] = Counter()  # statuses of the warm-up's requests (not in the records)
        self.counting = False

    def prepare(self, request: dict[str, Any], device: int) -> bytes:
        tokens = self.tokens[request["role"]]
        return encode(self.host, request, tokens[device % len(tokens)], device)

    async def get(self, path: str) -> int:
        status, _ = await self.exchange(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        return status

    async def exchange(self, data: bytes) -> tuple[int, bytes]:
        connection = await self.pool.get()
        try:
            return await connection.exchange(data)
        finally:
            self.pool.put_nowait(connection)

    async def send(self, request: dict[str, Any], data: bytes, due: float, start: float) -> int:
        """Send ``data`` (the encoded ``request``); its latency from ``due`` (a perf_counter time)."""
        sent = time.perf_counter()
        try:
            status, body = await self.exchange(data)
        except HttpError as error:
            status, body = 0, str(error).encode()
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
                samples.append(body[:300].decode(errors="replace"))
        return status


async def closed_loop(client: Client, units: list[list[dict[str, Any]]], clients: int) -> float:
    prepared = [[(request, [client.prepare(request, device) for device in range(clients)]) for request in unit]
                for unit in units]
    queue = iter(prepared)
    start = time.perf_counter()

    async def run(device: int) -> None:
        for unit in queue:  # shared: each unit is taken by one client
            status = 200
            for request, encoded in unit:
                if request.get("needs_previous") and not 200 <= status < 300:
                    if client.counting:  # e.g. no receipt of a shipment whose dispatch was refused
                        client.statuses[f"{request['kind']} skipped"] += 1
                    continue
                now = time.perf_counter()
                status = await client.send(request, encoded[device], now, start)

    await asyncio.gather(*(run(k) for k in range(clients)))
    return time.perf_counter() - start


async def open_loop(client: Client, units: list[list[dict[str, Any]]], rate: float, devices: int) -> dict[str, float]:
    requests = [request for unit in units for request in unit]
    encoded = [client.prepare(request, i % devices) for i, request in enumerate(requests)]
    tasks: list[asyncio.Task[int]] = []
    start = time.perf_counter() + 0.05
    late = 0.0
    for i, request in enumerate(requests):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        late = max(late, time.perf_counter() - due)
        tasks.append(asyncio.create_task(client.send(request, encoded[i], due, start)))
    issued = time.perf_counter() - start
    await asyncio.gather(*tasks)
    return {"wall": time.perf_counter() - start, "issued_seconds": issued, "most_late_s": late}


async def main(plan: dict[str, Any]) -> dict[str, Any]:
    clients = plan["clients"]
    connections = plan.get("connections", clients)
    client = Client(plan, max(connections, clients))
    if await client.get("/health") != 200:
        raise SystemExit("GET /health did not answer 200")
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

"""One end-to-end test against ``rantai serve`` on a real port, with tokens made by
``rantai users add --json``, on both backends.

The server runs on today's real clock (no test clock can reach another
process), so the chain is built "now" and the lot expires a year from today:
the server refuses scan times outside its 72-hour window and expired lots.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from application.logistics import NATIONAL_WAREHOUSE
from tests.scenario import CORONAVAC, ColdChain, cli_env

RANTAI = str(Path(__file__).resolve().parents[1] / ".venv" / "bin" / "rantai")
ACCOUNTS = {  # username -> (role, scope)
    "gudang.biofarma": ("warehouse", NATIONAL_WAREHOUSE),
    "gudang.jabar": ("warehouse", "32"),
    "gudang.dki": ("warehouse", "31"),
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def add_account(settings, cwd: Path, username: str, role: str, scope: str) -> str:
    """``rantai users add … --json`` in its own process: stdout is the one JSON object."""
    done = subprocess.run([RANTAI, "users", "add", username, "--role", role, "--scope", scope, "--json"],
                          env=cli_env(settings), capture_output=True, text=True, timeout=60, cwd=cwd)
    assert done.returncode == 0, done.stderr
    made = json.loads(done.stdout)
    assert (made["username"], made["role"], made["scope"]) == (username, role, scope)
    return made["token"]


def wait_until_healthy(base: str, server: subprocess.Popen, log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert server.poll() is None, f"rantai serve ended (code {server.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"rantai serve did not answer /health:\n{log.read_text()}"
        with suppress(httpx.TransportError):
            if httpx.get(f"{base}/health", timeout=1).json() == {"status": "ok"}:
                return
        time.sleep(0.1)


def test_pack_dispatch_receive_against_rantai_serve_with_cli_tokens(settings, app, tmp_path) -> None:
    # Given a fresh store with the small chain, built on today's clock, and a lot expiring in a year
    chain = ColdChain(app, now=datetime.now(UTC)).build()
    chain.release(vials=50, expiry=date.today() + timedelta(days=365))
    # and an account per warehouse, made by the command line
    tokens = {name: add_account(settings, tmp_path, name, *where) for name, where in ACCOUNTS.items()}
    # When rantai serve runs on a free port
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([RANTAI, "serve", "--port", str(port)], env=cli_env(settings), cwd=tmp_path,
                                  stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, server, log)
        with httpx.Client(base_url=base, timeout=10) as http:
            def as_(name: str) -> dict[str, str]:
                return {"Authorization": f"Bearer {tokens[name]}", "X-Device": f"hp-{name}"}

            # Then Bio Farma's warehouse packs and dispatches a shipment to Jawa Barat
            packed = http.post("/shipments", headers=as_("gudang.biofarma"), json={
                "origin": NATIONAL_WAREHOUSE, "destination": "32",
                "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 10}]})
            assert packed.status_code == 201, packed.text
            sscc = packed.json()["result"]["sscc"]
            dispatched = http.post(f"/shipments/{sscc}/dispatch", headers=as_("gudang.biofarma"))
            assert dispatched.status_code == 200, dispatched.text
            receipt = {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 10}],
                       "arrival_celsius": "5.0"}
            # and anonymous callers are asked to log in
            anonymous = http.post(f"/shipments/{sscc}/receipt", json=receipt)
            assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
            assert http.get(f"/shipments/{sscc}").status_code == 401
            # and DKI Jakarta's warehouse may not receive it, told why in words
            wrong = http.post(f"/shipments/{sscc}/receipt", headers=as_("gudang.dki"), json=receipt)
            assert wrong.status_code == 403, wrong.text
            assert wrong.json() == {"error": "Forbidden", "message": (
                "Your account may receive only at 31 and below; this shipment is addressed to 32.")}
            # while Jawa Barat's warehouse receives it, and sees it in its stock
            received = http.post(f"/shipments/{sscc}/receipt", headers=as_("gudang.jabar"), json=receipt)
            assert received.status_code == 200, received.text
            shown = http.get(f"/shipments/{sscc}", headers=as_("gudang.jabar")).json()
            assert shown["status"] == "received"
            stock = http.get("/facilities/32/stock", headers=as_("gudang.jabar")).json()
            assert [(line["lot_number"], line["vials"]) for line in stock["lines"]] == [("CV001", 10)]
        # and the events name the users the tokens stand for
        events = app.repository.event_store.get(app.get_shipment(sscc).id)
        assert [(e.by.actor, e.by.facility, e.by.role, e.by.device) for e in events] == [
            ("gudang.biofarma", NATIONAL_WAREHOUSE, "warehouse", "hp-gudang.biofarma"),
            ("gudang.biofarma", NATIONAL_WAREHOUSE, "warehouse", "hp-gudang.biofarma"),
            ("gudang.jabar", "32", "warehouse", "hp-gudang.jabar")]
        # When the server is sent SIGTERM, it shuts down (the lifespan's closing runs) and exits: uvicorn
        # re-raises the signal after a graceful shutdown, so the code is 0 or "ended by SIGTERM"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=15) in (0, -signal.SIGTERM), log.read_text()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    output = log.read_text()
    assert "Traceback" not in output, output
    assert "Application shutdown complete." in output and "Finished server process" in output, output
    assert not any(token in output for token in tokens.values()), "a token reached the server's output"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{base}/health", timeout=1)

"""A live Rantai for a browser: a temporary SQLite store with the demo accounts and a uvicorn
server on a free port (the browser tests' ``site`` fixture and ``make screens`` both use it)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from interfaces.settings import Settings
from tests.api.conftest import ACCOUNTS
from tests.conftest import TEST_SECRETS
from tests.scenario import ColdChain

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 800}
LOT_EXPIRY = date(2031, 12, 31)


def password_of(name: str) -> str:
    return "rahasia-" + name


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Site:
    """A running server and the store behind it (``chain``: the scenario builder on the same store)."""

    url: str
    chain: ColdChain
    settings: Settings

    def wait_for_read_models(self, seconds: float = 30) -> None:
        """Until the server's followers have brought every read model to the log's head (they run in
        the background: a page that lists shipments reads them)."""
        from interfaces.bootstrap import open_read_models

        head = self.chain.app.recorder.max_notification_id() or 0
        models = open_read_models(self.settings)
        deadline = time.monotonic() + seconds
        try:
            while behind := [name for name, model in models.items()
                             if (model.view.max_tracking_id(self.chain.app.name) or 0) < head]:
                if time.monotonic() > deadline:
                    msg = f"read models still behind the log after {seconds} s: {', '.join(behind)}"
                    raise AssertionError(msg)
                time.sleep(0.05)
        finally:
            for model in models.values():
                model.view.datastore.close()

    def login(self, page, name: str, next_page: str = "/") -> None:  # noqa: ANN001 - a Playwright page
        page.goto(f"{self.url}/login?next={next_page}")
        page.fill("#username", name)
        page.fill("#password", password_of(name))
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")


def wait_until(page, expression: str, seconds: float = 15) -> None:  # noqa: ANN001 - a Playwright page
    """Evaluate ``expression`` in the page (a promise is awaited) until it is true.

    Not ``page.wait_for_function``: its polling takes a returned promise, unawaited, as true."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            msg = f"still false after {seconds} s: {expression}"
            raise AssertionError(msg)
        page.wait_for_timeout(100)


def build_world(tmp_path: Path) -> tuple[Settings, ColdChain]:
    """Bio Farma, Jawa Barat, Kota Bandung, a puskesmas, DKI; two lots at Bio Farma (CV001 expiring first); the demo accounts."""
    from interfaces.bootstrap import create_schema, open_campaign

    settings = Settings(database_url=f"sqlite:///{tmp_path}/rantai.sqlite", sms_outbox=str(tmp_path / "outbox.sqlite"),
                        **TEST_SECRETS)
    create_schema(settings)
    chain = ColdChain(open_campaign(settings), now=datetime.now(UTC).replace(microsecond=0)).build()
    chain.app.clock = lambda: datetime.now(UTC)
    chain.release("CV001", vials=400, expiry=date(2030, 6, 30))
    chain.release("CV002", vials=300, expiry=LOT_EXPIRY)
    for name, (role, scope) in ACCOUNTS.items():
        chain.app.add_user(name, role, scope, chain.by(actor="cli:test"), password=password_of(name))
    return settings, chain


@contextmanager
def serving(tmp_path: Path) -> Iterator[Site]:
    """The world of ``build_world`` served by uvicorn in a thread until the block ends."""
    import uvicorn

    from interfaces.api.main import create_app

    settings, chain = build_world(tmp_path)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            msg = "the test server did not start"
            raise RuntimeError(msg)
        time.sleep(0.05)
    try:
        yield Site(f"http://127.0.0.1:{port}", chain, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        chain.app.close()

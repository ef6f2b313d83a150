"""``rantai worker``: every read model followed by its own process.

The supervisor (the parent) starts one child per read model with the "spawn"
context, restarts a child that dies (after a back-off that grows while it
keeps dying), and on SIGTERM or SIGINT passes SIGTERM on to its children and
waits for them. A child opens the campaign and its read model and follows the
log until it is told to stop or its supervisor dies.

Crash safety comes from the follower: a page's rows and its tracking position
commit in one transaction, and the position only moves from where the
follower found it, so a killed follower resumes after its last committed
page and a second writer (a rebuild, a second worker) never counts a page twice.
A page that fails is thrown away and read again; a database that is away is
waited for. A read model whose follower cannot get past one event is marked
stuck (``rantai projections status``) and its child stays alive without
advancing it, so the supervisor does not restart it over and over; the other
children go on. ``rantai projections rebuild NAME`` clears the mark, and the
child follows again.

``RANTAI_PROJECTION_PAGE_SIZE`` sets how many events a follower writes per
transaction (default 1000); smaller pages are slower but keep each
transaction short.
"""

from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess

from interfaces.bootstrap import default_settings, open_campaign, open_read_models, open_sealer
from interfaces.settings import event_store_env
from projections.catalog import READ_MODELS
from projections.follower import PAGE_SIZE, Follower

PAGE_SIZE_VARIABLE = "RANTAI_PROJECTION_PAGE_SIZE"
SEAL = "seal"  # the child that seals the log (projections/seal.py) beside the read models' children
FIRST_BACKOFF, LAST_BACKOFF = 1.0, 60.0  # seconds before restarting a child that died
HEALTHY_AFTER = 60.0  # a child that ran this long starts again at the first back-off
STOP_GRACE = 10.0  # seconds a stopping child gets to finish catching up before it is killed
log = logging.getLogger(__name__)


def page_size() -> int:
    value = os.environ.get(PAGE_SIZE_VARIABLE) or str(PAGE_SIZE)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{PAGE_SIZE_VARIABLE} must be a whole number of events, 1 or more (got {value!r})")
    return int(value)


def follower_settings() -> Settings:
    """A follower needs two connections to the event store: its listener and its reads."""
    return default_settings().model_copy(update={"postgres_pool_size": 2, "postgres_max_overflow": 1})


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(processName)s %(levelname)s %(message)s")


def follow_read_model(name: str) -> None:
    """Follow read model ``name`` in this process until SIGTERM, SIGINT or the supervisor's death."""
    configure_logging()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    watch_supervisor(stop)
    settings = follower_settings()
    if name == SEAL:
        follow_seal(settings, stop)
        return
    campaign = open_campaign(settings)
    model = open_read_models(settings, only=[name])[name]
    try:
        follower = Follower(campaign, model, page_size())
        log.info("read model %s: following from position %d", name, follower.position)
        follower.follow(stop)
        log.info("read model %s: stopped at position %d%s", name, model.view.max_tracking_id(campaign.name) or 0,
                 f" (stuck at {follower.stuck['notification_id']})" if follower.stuck else "")
    finally:
        model.view.datastore.close()
        campaign.close()


def follow_seal(settings: Settings, stop: threading.Event) -> None:
    """Seal the log (the tamper-evident tree of ``rantai audit verify``), seconds behind it."""
    sealer = open_sealer(event_store_env(settings), settings)
    try:
        log.info("seal: following the log")
        sealer.follow(stop)
    finally:
        sealer.store.close()


def watch_supervisor(stop: threading.Event) -> None:
    """Stop when the supervisor dies, so that no orphan keeps writing."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return  # run in the foreground (--only)

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        if not stop.is_set():
            log.warning("the supervisor is gone; stopping")
            stop.set()

    threading.Thread(target=watch, name="watch-supervisor", daemon=True).start()


@dataclass
class Child:
    name: str
    process: BaseProcess | None = None
    started: float = 0.0
    backoff: float = 0.0
    restart_at: float | None = None


class Supervisor:
    """One follower process per read model, restarted whenever it dies."""

    def __init__(self, names: list[str]) -> None:
        self.context = multiprocessing.get_context("spawn")
        self.children = [Child(name) for name in names]
        self.stop = threading.Event()

    def run(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self.on_signal)
        for child in self.children:
            self.start(child)
        while not self.stop.wait(0.5):
            for child in self.children:
                self.tend(child)
        self.stop_children()

    def on_signal(self, signum: int, _frame: object) -> None:
        log.info("%s received; stopping the followers", signal.Signals(signum).name)
        self.stop.set()

    def start(self, child: Child) -> None:
        child.process = self.context.Process(target=follow_read_model, args=(child.name,),
                                             name=f"follow-{child.name}")
        child.process.start()
        child.started, child.restart_at = time.monotonic(), None

    def tend(self, child: Child) -> None:
        """Schedule a restart of a child that died, and restart it when its back-off is over."""
        assert child.process is not None
        now = time.monotonic()
        if child.process.is_alive():
            return
        if child.restart_at is None:
            ran = now - child.started
            quick_again = child.backoff and ran < HEALTHY_AFTER
            child.backoff = min(child.backoff * 2, LAST_BACKOFF) if quick_again else FIRST_BACKOFF
            child.restart_at = now + child.backoff
            log.warning("read model %s: follower exited (code %s) after %.0f s; restarting in %.0f s",
                        child.name, child.process.exitcode, ran, child.backoff)
        elif now >= child.restart_at:
            self.start(child)

    def stop_children(self) -> None:
        running = [c.process for c in self.children if c.process and c.process.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for process in running:
            process.join(max(deadline - time.monotonic(), 0))
            if process.is_alive():
                log.warning("%s did not stop within %.0f s; killed (it resumes from its last page)",
                            process.name, STOP_GRACE)
                process.kill()
                process.join()


def run_worker(only: str | None = None) -> None:
    """Follow every read model (each in its own process), or only ``only`` in this one."""
    configure_logging()
    event_store_env(default_settings())  # missing secrets, a wrong URL or page size: say so once, not once per child
    page_size()
    if only:
        follow_read_model(only)
        return
    log.info("following %d read models: %s, and sealing the log", len(READ_MODELS), ", ".join(READ_MODELS))
    Supervisor([*READ_MODELS, SEAL]).run()
    log.info("worker stopped")

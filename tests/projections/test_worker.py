"""``rantai worker`` and ``rantai projections``: read models that survive a SIGKILL, on both backends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from application.logistics import NATIONAL_WAREHOUSE
from domain.recipient import Channel
from interfaces.bootstrap import open_sealer
from interfaces.cli.projections import SEAL_ROW
from interfaces.settings import event_store_env
from interfaces.sms.outbox import OutboxGateway
from projections.catalog import READ_MODELS, open_read_model
from projections.follower import Follower
from projections.rows import ReadModelView
from tests.application.test_blast import import_targets
from tests.application.test_recipients import open_phase
from tests.scenario import cli_env
from tests.scenario import ColdChain, last_position, nik

TARGETS = 3000
REGISTERED = 5
DEADLINE = datetime(2021, 1, 13, 17, 0, tzinfo=UTC)  # midnight WIB


def record_a_campaign(chain: ColdChain, settings, targets: int = TARGETS) -> None:
    """Two shipments, ``targets`` health workers blasted by SMS, a few of them registered."""
    chain.release(vials=100)
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 40)))
    chain.ship("32", "32.73", ("CV001", 10))
    import_targets(chain, targets)
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", DEADLINE, by)
    open_phase(chain)
    gateway = OutboxGateway(settings.sms_outbox)
    list(chain.app.send_blast(blast.id, gateway, by))
    gateway.close()
    for serial in range(1, REGISTERED + 1):
        chain.app.register(nik(serial=serial), f"{serial:04d}", Channel.WEB, "P327301", date(2021, 1, 14),
                           chain.by("web"))


def start_worker(settings, log: Path, **env: str) -> subprocess.Popen:
    """``rantai worker`` as a real process, leading its own process group (its children join it)."""
    with log.open("a") as stderr:
        return subprocess.Popen([sys.executable, "-m", "interfaces.cli.main", "worker"],
                                env=cli_env(settings) | env, stdout=subprocess.DEVNULL, stderr=stderr,
                                start_new_session=True)


@pytest.fixture
def views(settings, app) -> Iterator[dict[str, ReadModelView]]:  # app: creates the tables
    """Every read model's view, opened by the test to watch and dump."""
    opened = {name: open_read_model(cls, event_store_env(settings)).view for name, cls in READ_MODELS.items()}
    yield opened
    for view in opened.values():
        view.datastore.close()


def positions(views: dict[str, ReadModelView]) -> dict[str, int]:
    return {name: view.position()["notification_id"] for name, view in views.items()}


def wait_for(condition, worker: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.poll() is None, f"the worker ended (code {worker.returncode}):\n{log.read_text()}"
        assert time.monotonic() < deadline, f"timed out; worker log:\n{log.read_text()[-3000:]}"
        time.sleep(0.05)


def group_ends(pgid: int, timeout: float = 5) -> bool:
    """Whether every process of group ``pgid`` ends within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def dump(view: ReadModelView) -> dict[str, list[dict]]:
    """Every row of every table of ``view`` (its position included), in key order."""
    return {t.name: view.select(f"SELECT * FROM {{{t.name}}} ORDER BY {', '.join(t.key)}")
            for t in view.all_tables}


def test_a_worker_killed_mid_stream_resumes_without_counting_an_event_twice_or_missing_one(
    chain: ColdChain, settings, views, tmp_path
) -> None:
    # Given a campaign of several thousand events
    record_a_campaign(chain, settings)
    head = last_position(chain.app)
    log = tmp_path / "worker.log"
    worker = start_worker(settings, log, RANTAI_PROJECTION_PAGE_SIZE="10")
    try:
        # When the worker and its children are killed (SIGKILL) while a read model is half way
        wait_for(lambda: any(0 < p <= head // 2 for p in positions(views).values()), worker, log)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        at_kill = positions(views)
        assert any(0 < p < head for p in at_kill.values()), f"the kill must land mid-stream: {at_kill}"
        # and the worker is started again (with its normal page size) until every read model is at the head
        worker = start_worker(settings, log)
        wait_for(lambda: set(positions(views).values()) == {head}, worker, log)
        # and stopped with SIGTERM
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0, log.read_text()
        assert group_ends(worker.pid), "a follower outlived the worker"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(worker.pid, signal.SIGKILL)
    followed = {name: dump(view) for name, view in views.items()}
    # Then every table of every read model equals a rebuild from zero
    for name, cls in READ_MODELS.items():
        fresh = Follower(chain.app, open_read_model(cls, event_store_env(settings)))
        fresh.rebuild()
        assert dump(fresh.read_model.view) == followed[name], f"read model {name} differs from a rebuild"
        fresh.read_model.view.datastore.close()
    # and each target and message was counted exactly once
    funnel = followed["funnel"]["funnel"]
    assert sum(row["targeted"] for row in funnel) == TARGETS
    assert sum(row["sms_sent"] for row in funnel) == TARGETS
    assert sum(row["registered_web"] for row in funnel) == REGISTERED
    assert len(followed["non_responders"]["worklist"]) == TARGETS
    assert followed["shipments"]["shipments"]


@pytest.fixture
def run(rantai):
    return rantai


def status(run) -> dict[str, list[str]]:
    """The rows of ``rantai projections status``: read model -> position, head, lag, recorded at."""
    result = run("projections", "status")
    assert result.exit_code == 0, result.output
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in result.output.splitlines()]
    return {cells[0]: cells[1:] for cells in rows if cells}


def test_status_shows_the_lag_and_rebuild_brings_every_read_model_to_the_head(
    chain: ColdChain, settings, run
) -> None:
    # Given a recorded campaign that no read model has followed yet
    record_a_campaign(chain, settings, targets=30)
    head = last_position(chain.app)
    # When the status is asked for
    before = status(run)
    # Then every read model is at 0, a whole log behind, and so is the audit log's seal
    assert before == {name: ["0", str(head), str(head), "—"] for name in [*READ_MODELS, SEAL_ROW]}
    # When they are all rebuilt, and one of them once more
    assert run("projections", "rebuild").exit_code == 0
    again = run("projections", "rebuild", "funnel")
    assert again.exit_code == 0, again.output
    assert f"Rebuilt funnel up to position {head}" in again.output
    # Then none lags, each saying when its last event was recorded, and the funnel counted each target once
    after = status(run)
    sealed = after.pop(SEAL_ROW)
    assert {name: cells[:3] for name, cells in after.items()} == {
        name: [str(head), str(head), "0"] for name in READ_MODELS}
    [last] = chain.app.recorder.select_notifications(head, 1)
    recorded = chain.app.mapper.to_domain_event(last).timestamp.astimezone(UTC)
    assert {cells[3] for cells in after.values()} == {f"{recorded:%Y-%m-%d %H:%M:%S}"}
    # and the seal, which a rebuild does not touch, stays behind until the log is sealed
    assert sealed == ["0", str(head), str(head), "—"]
    sealer = open_sealer(event_store_env(settings), None)
    sealer.seal()
    sealer.store.close()
    assert status(run)[SEAL_ROW] == [str(head), str(head), "0", "—"]
    funnel = open_read_model(READ_MODELS["funnel"], event_store_env(settings)).view
    assert funnel.totals()["targeted"] == 30
    funnel.datastore.close()


def test_rebuild_names_the_read_models_when_given_an_unknown_one(run) -> None:
    result = run("projections", "rebuild", "stok")
    assert result.exit_code == 2
    assert f"Choose one of: {', '.join(READ_MODELS)}" in " ".join(result.output.split())

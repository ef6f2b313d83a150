"""The follower under faults, on both backends: a page that fails at any step of
its cycle (read, apply, position lookup, write, commit) is thrown away and read
again, so the read model equals a rebuild from zero; an event that fails every
time marks its read model stuck at that event, shown by `rantai projections
status` and the dashboard, while the other read models go on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError, Tracking
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from domain.facility import FacilityKind
from domain.user import Role
from interfaces.api.security import SESSION_COOKIE
from interfaces.api.main import create_app
from projections.catalog import READ_MODELS, open_read_model
from projections.follower import Follower
from projections.funnel import Funnel
from projections.read_model import ReadModel
from projections.rows import ReadModelView
from projections.stock_on_hand import StockOnHand
from tests.scenario import ColdChain, last_position, nik

PAGE = 3  # small pages: the worked scenario makes several of them per read model
STEPS = ("read", "apply", "position", "recorded_at", "write", "commit", "commit_answer_lost")


def dump(view: ReadModelView) -> dict[str, list[dict]]:
    """Every row of every table of ``view`` (position and stuck mark included), in key order."""
    return {t.name: view.select(f"SELECT * FROM {{{t.name}}} ORDER BY {', '.join(t.key)}")
            for t in view.all_tables}


class Fault:
    """Raises ``error`` at the ``at``-th call and ``then`` at the ``then_at``-th (once each),
    or ``error`` at every call for which ``when`` holds (for ever)."""

    def __init__(self, error: Exception, at: int = 0, when: Callable[..., bool] | None = None,
                 then: Exception | None = None, then_at: int = 0) -> None:
        self.error, self.at, self.when, self.then, self.then_at = error, at, when, then, then_at
        self.calls = self.fired = 0

    def __call__(self, *args: Any) -> None:
        self.calls += 1
        if self.calls == self.at or (self.when is not None and self.when(*args)):
            self.fired += 1
            raise self.error
        if self.then is not None and self.calls == self.then_at:
            self.fired += 1
            raise self.then


def inject(step: str, follower: Follower, fault: Fault, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``fault`` part of ``step`` of ``follower``'s page cycle."""
    model, view = follower.read_model, follower.read_model.view
    if step == "read":  # the page query (the recorded-at lookup reads without topics)
        read = follower.app.recorder.select_notifications

        def select(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("topics"):
                fault()
            return read(*args, **kwargs)

        monkeypatch.setattr(follower.app.recorder, "select_notifications", select)
    elif step == "apply":  # in the middle of a page, after some of its events changed rows
        process = model.process_event
        monkeypatch.setattr(model, "process_event", lambda event, tracking: (fault(tracking), process(event, tracking)))
    elif step == "position":
        lookup = view.max_tracking_id
        monkeypatch.setattr(view, "max_tracking_id", lambda name: (fault(), lookup(name))[1])
    elif step == "recorded_at":
        lookup = follower.recorded_at
        monkeypatch.setattr(follower, "recorded_at", lambda position: (fault(), lookup(position))[1])
    elif step == "write":  # after the page's first statement ran in its transaction
        statements = view.write_statements

        def write_statements(changes: Any) -> Iterator[Any]:
            for number, statement in enumerate(statements(changes)):
                if number == 1:
                    fault()
                yield statement

        monkeypatch.setattr(view, "write_statements", write_statements)
    else:  # commit: the page's transaction fails as it commits, or commits and its answer is lost
        transaction, apply, paging = view.datastore.transaction, view.apply, threading.local()

        @contextmanager
        def failing_transaction(*, commit: bool = False) -> Iterator[Any]:
            if not getattr(paging, "on", False) or not commit:
                with transaction(commit=commit) as cursor:
                    yield cursor
                return
            if step == "commit":
                with transaction(commit=commit) as cursor:
                    yield cursor
                    fault()  # inside: rolled back
            else:
                with transaction(commit=commit) as cursor:
                    yield cursor
                fault()  # committed, then the connection drops before the answer

        def paged_apply(*args: Any) -> None:
            paging.on = True
            try:
                apply(*args)
            finally:
                paging.on = False

        monkeypatch.setattr(view.datastore, "transaction", failing_transaction)
        monkeypatch.setattr(view, "apply", paged_apply)


def transient(backend: str) -> Exception:
    """What a locked SQLite file or a PostgreSQL serialization failure raises."""
    return OperationalError("database is locked" if backend == "sqlite" else
                            "could not serialize access due to concurrent update")


@pytest.mark.parametrize("step", STEPS)
def test_a_page_failing_at_any_step_is_retried_and_counted_once(
    vaccinations: ColdChain, store_env, settings, monkeypatch, step: str
) -> None:
    # Given the worked vaccination scenario
    backend = "postgres" if "postgres" in settings.database_url else "sqlite"
    followed, fired = {}, {}
    for name, cls in READ_MODELS.items():
        # When each read model is followed, pages of 3, while one step of its page cycle fails once with
        # a transient database error and once with another error (a handler's bug that does not repeat)
        follower = Follower(vaccinations.app, open_read_model(cls, store_env), page_size=PAGE, backoff=0.001)
        relevant = len(vaccinations.app.recorder.select_notifications(1, 10_000, topics=cls.topics))
        second = relevant > PAGE and step not in ("position", "recorded_at")  # mid-stream where there is one
        fault = Fault(transient(backend), at=2 if second else 1, then=RuntimeError("failed once"),
                      then_at=4 if second else 2)
        with monkeypatch.context() as patched:
            inject(step, follower, fault, patched)
            follower.catch_up()
        fired[name] = fault.fired
        # Then it reaches the head, not stuck
        assert follower.position == last_position(vaccinations.app), name
        assert follower.stuck is None and follower.read_model.view.stuck() is None, name
        followed[name] = dump(follower.read_model.view)
        follower.read_model.view.datastore.close()
    # (the fault did happen: the recorded time of a position is looked up only for pages that end
    # past their last event, which not every read model's pages do)
    assert any(fired.values()) if step == "recorded_at" else set(fired.values()) == {2}, fired
    # and every table of every read model equals a rebuild from zero
    for name, cls in READ_MODELS.items():
        fresh = Follower(vaccinations.app, open_read_model(cls, store_env))
        fresh.rebuild()
        assert dump(fresh.read_model.view) == followed[name], f"{name} differs from a rebuild after a {step} fault"
        fresh.read_model.view.datastore.close()


def test_a_page_failing_after_it_was_applied_is_not_counted_twice(chain: ColdChain, store_env, monkeypatch) -> None:
    # Given 10 doses received at the national warehouse, and a later event the stock read model ignores
    chain.release(vials=10)
    chain.app.register_facility("33", "JAWA TENGAH", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE,
                                chain.by(NATIONAL_WAREHOUSE, "admin"))
    follower = Follower(chain.app, open_read_model(StockOnHand, store_env), backoff=0.001)
    # When the page's position lookup fails once, after its events were applied (a transient database error)
    fault = Fault(OperationalError("database is locked"), at=1)
    lookup = follower.recorded_at
    monkeypatch.setattr(follower, "recorded_at", lambda position: (fault(), lookup(position))[1])
    with suppress(OperationalError):  # (before the fix it was raised, and the next catch_up counted the page again)
        follower.catch_up()
    follower.catch_up()
    # Then the 10 doses are on hand once, not twice
    assert fault.fired == 1
    [stock] = follower.read_model.view.levels(NATIONAL_WAREHOUSE)
    assert stock["on_hand"] == 10
    follower.read_model.view.datastore.close()


def test_a_database_away_for_longer_than_the_retries_is_raised_by_catch_up_and_waited_for_by_follow(
    chain: ColdChain, store_env, monkeypatch
) -> None:
    chain.release(vials=10)
    follower = Follower(chain.app, open_read_model(StockOnHand, store_env), backoff=0.001)
    away = Fault(OperationalError("connection refused"), when=lambda: True)
    read = chain.app.recorder.select_notifications
    monkeypatch.setattr(chain.app.recorder, "select_notifications",
                        lambda *args, **kwargs: (away(), read(*args, **kwargs))[1])
    # catch_up gives up after its retries, and marks nothing stuck: it is not an event's fault
    with pytest.raises(OperationalError):
        follower.catch_up()
    assert away.fired == 6 and follower.read_model.view.stuck() is None
    # when the database is back, the next catch_up goes on
    monkeypatch.setattr(chain.app.recorder, "select_notifications", read)
    follower.catch_up()
    assert follower.read_model.view.levels(NATIONAL_WAREHOUSE)[0]["on_hand"] == 10
    follower.read_model.view.datastore.close()


def follow_in_thread(follower: Follower, stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=follower.follow, args=(stop,), kwargs={"idle": 0.02}, daemon=True)
    thread.start()
    return thread


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.02)


def status_rows(rantai) -> tuple[int, dict[str, list[str]]]:
    """The exit code and rows of ``rantai projections status`` (read model -> the other cells;
    a cell wrapped on a narrow terminal is joined again)."""
    result = rantai("projections", "status")
    table: dict[str, list[str]] = {}
    for line in result.output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if cells and cells[0]:
            table[cells[0]] = cells[1:]
        elif cells and table:
            name = list(table)[-1]
            table[name] = [f"{a} {b}".strip() for a, b in zip(table[name], cells[1:], strict=True)]
    return result.exit_code, table


def test_an_event_failing_every_time_marks_its_read_model_stuck_while_the_others_go_on(
    vaccinations: ColdChain, store_env, settings, rantai, caplog
) -> None:
    app = vaccinations.app
    # Given an event the funnel cannot handle, every time it is tried (a handler quoting a NIK in its error)
    relevant = app.recorder.select_notifications(1, 10_000, topics=Funnel.topics)
    bad = relevant[len(relevant) // 2].id
    funnel = Follower(app, open_read_model(Funnel, store_env), backoff=0.001)
    handle = funnel.read_model.process_event
    poison = Fault(KeyError(nik(serial=1)), when=lambda tracking: tracking.notification_id == bad)

    def process_event(event: Any, tracking: Tracking) -> None:
        poison(tracking)
        handle(event, tracking)

    funnel.read_model.process_event = process_event  # type: ignore[method-assign]
    stock = Follower(app, open_read_model(StockOnHand, store_env), backoff=0.001)
    # When both read models are followed, each by its own thread
    caplog.set_level(logging.INFO, logger="projections.follower")
    stop = threading.Event()
    threads = [follow_in_thread(funnel, stop), follow_in_thread(stock, stop)]
    try:
        wait_until(lambda: funnel.read_model.view.stuck() is not None, "the funnel is stuck")
        head = last_position(app)
        wait_until(lambda: stock.position == head, "the stock read model is at the head")
        # Then the funnel committed every event before the bad one, and stays there
        stuck_at = funnel.position
        assert stuck_at < bad
        assert app.recorder.select_notifications(stuck_at + 1, 1, topics=Funnel.topics)[0].id == bad
        mark = funnel.read_model.view.stuck()
        assert mark["notification_id"] == bad
        assert mark["error"].startswith("KeyError at tests/projections/test_follower_faults.py:")
        # and the other read model goes on with new events, while the funnel's follower keeps running
        vaccinations.release(lot="CV002", vials=7)
        wait_until(lambda: stock.position == last_position(app), "the stock read model follows a new lot")
        time.sleep(0.1)
        assert funnel.position == stuck_at and all(thread.is_alive() for thread in threads)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
    # and it was logged once, with the position and the error, but not the event's contents
    stuck_logs = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(stuck_logs) == 1, stuck_logs
    assert f"read model funnel is stuck at log position {bad}: KeyError at tests/" in stuck_logs[0]
    assert nik(serial=1) not in caplog.text
    funnel.read_model.view.datastore.close()
    stock.read_model.view.datastore.close()

    # When the status is asked for
    code, table = status_rows(rantai)
    # Then it names the funnel stuck at the bad event (exit code 1), the others not
    head = last_position(app)
    assert code == 1
    assert table["funnel"][:3] == [str(stuck_at), str(head), str(head - stuck_at)]
    assert table["funnel"][-1] == f"stuck at {bad}"
    assert f"funnel is stuck at {bad}: {mark['error']}" in " ".join(rantai("projections", "status").output.split())
    assert table["stock_on_hand"][:3] == [str(head), str(head), "0"] and table["stock_on_hand"][4] == "ok"
    assert nik(serial=1) not in str(table)

    # and the dashboard's data says the same
    _, token, _ = app.add_user("auditor", Role.AUDITOR, "national", vaccinations.by(actor="cli:test"))
    with TestClient(create_app(settings, clock=lambda: vaccinations.now)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        data = client.get("/dashboard/data").json()
        page = client.get("/", headers={"Cookie": f"{SESSION_COOKIE}={token}"}).text
    models = {row["name"]: row for row in data["read_models"]}
    assert set(models) == set(READ_MODELS)
    assert models["funnel"]["stuck"]["notification_id"] == bad
    assert models["funnel"]["position"]["notification_id"] == stuck_at
    assert models["funnel"]["stuck"]["error"] == mark["error"]
    assert models["stock_on_hand"]["stuck"] is None
    assert data["funnel"]["position"]["notification_id"] == stuck_at
    assert f"<b>funnel</b> macet di posisi log {bad}" in page  # the page's warning, in Bahasa

    # When the funnel is rebuilt (the handler fixed: no poison here)
    rebuilt = rantai("projections", "rebuild", "funnel")
    assert rebuilt.exit_code == 0, rebuilt.output
    # Then it is no longer stuck, and at the head
    code, table = status_rows(rantai)
    head = last_position(app)
    assert code == 0 and table["funnel"][:3] == [str(head), str(head), "0"]
    assert len(table["funnel"]) == 4  # no state column: nothing is stuck


def test_rebuild_clears_the_mark_and_says_so_when_the_read_model_gets_stuck_again(
    vaccinations: ColdChain, store_env, rantai, monkeypatch
) -> None:
    relevant = vaccinations.app.recorder.select_notifications(1, 10_000, topics=Funnel.topics)
    bad = relevant[3].id
    real = ReadModel.process_event

    def process_event(self: ReadModel, event: Any, tracking: Tracking) -> None:
        if self.name == "funnel" and tracking.notification_id == bad:
            raise ValueError("cannot count this one")
        real(self, event, tracking)

    monkeypatch.setattr(ReadModel, "process_event", process_event)
    result = rantai("projections", "rebuild", "funnel")
    assert result.exit_code == 1
    assert f"funnel is stuck at {bad}: ValueError at tests/projections/test_follower_faults.py" in " ".join(
        result.output.split())
    view = open_read_model(Funnel, store_env).view
    assert view.stuck()["notification_id"] == bad
    view.datastore.close()


def test_a_page_that_cannot_be_written_is_halved_down_to_the_event_that_fails(
    vaccinations: ColdChain, store_env, monkeypatch
) -> None:
    # Given a funnel event whose rows can never be written (which event is not known at the write)
    relevant = vaccinations.app.recorder.select_notifications(1, 10_000, topics=Funnel.topics)
    bad = relevant[len(relevant) // 2 + 1].id
    follower = Follower(vaccinations.app, open_read_model(Funnel, store_env), page_size=16, backoff=0.001)
    view = follower.read_model.view
    apply = view.apply

    def failing_apply(changes: Any, tracking: Tracking, previous: int | None = None) -> None:
        if previous is not None and previous < bad <= tracking.notification_id:
            raise RuntimeError("value out of range")
        apply(changes, tracking, previous)

    monkeypatch.setattr(view, "apply", failing_apply)
    # When the funnel catches up
    follower.catch_up()
    # Then every event before it is committed, and the funnel is stuck at it
    assert follower.stuck["notification_id"] == bad == view.stuck()["notification_id"]
    assert follower.position == max(n.id for n in relevant if n.id < bad)
    assert view.stuck()["error"].startswith("RuntimeError at tests/projections/test_follower_faults.py:")
    # and catching up again changes nothing
    assert follower.catch_up() == 0 and follower.position < bad
    view.datastore.close()


def test_a_store_made_before_the_stuck_table_gets_it_when_a_follower_starts(chain: ColdChain, store_env) -> None:
    chain.release(vials=10)
    view = open_read_model(StockOnHand, store_env).view
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"DROP TABLE {view.qualified('stuck')}")
    follower = Follower(chain.app, open_read_model(StockOnHand, store_env))
    follower.catch_up()
    assert view.stuck() is None and view.levels(NATIONAL_WAREHOUSE)[0]["on_hand"] == 10
    follower.read_model.view.datastore.close()
    view.datastore.close()

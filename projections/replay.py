"""Replaying the log into read models: all of them in one pass, into scratch views, compared with the live ones.

``replay`` reads each page of the log once (the events some read model
handles: one query for all of them); an event is decoded
once if any read model handles it and handed straight to each handler (the
handler found once per event class, not dispatched per event). A read model
writes its rows and its position when it has a page's worth of events
pending, compare-and-set as under ``Follower``. It can stop early: each read
model at its own log position (to compare with a live read model that stands
there), and only the events that had *occurred* by an instant (what a
dashboard would have shown then, scans that reached the server later
included).

``scratch_read_models`` opens read models where nobody looks: a new schema on
PostgreSQL (dropped afterwards), new files in a temporary folder on SQLite.
``compare`` lists the rows in which two read models differ, by table and key.
"""

from __future__ import annotations

import inspect
import math
import tempfile
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Tracking
from eventsourcing.utils import resolve_topic

from projections.catalog import READ_MODELS, open_read_model
from projections.follower import PAGE_SIZE, WINDOW_PAGES
from projections.read_ahead import ReadAhead
from projections.read_model import ReadModel

Handler = Callable[[ReadModel, Any], None]


def handlers_of(model: ReadModel) -> dict[str, Handler]:
    """topic -> the read model's handler for that event class, looked up once."""
    model.apply_event  # noqa: B018 - the library registers deferred handlers on first access
    dispatcher = inspect.getattr_static(type(model), "apply_event").dispatcher
    return {topic: dispatcher.dispatch(resolve_topic(topic)) for topic in model.topics}


def occurred(event: Any) -> datetime:
    """When it happened (the device's scan time); the recorded time for events without provenance."""
    by = getattr(event, "by", None)
    return by.occurred_at if by is not None else event.timestamp


def replay(app: Application[Any], models: dict[str, ReadModel], *, stops: dict[str, int] | None = None,
           until: datetime | None = None, page_size: int = PAGE_SIZE,
           on_page: Callable[[int, int], None] | None = None) -> dict[str, int]:
    """Empty ``models`` and replay the log into them in one pass; answers the events each took.

    ``stops``: the log position each read model stops at (default: the head).
    ``until``: only events that occurred at or before it.

    Three things overlap: a thread reads the next pages of the log while this one
    decodes and hands out the current page, and another writes the read models'
    finished pages (each read model's in order, compare-and-set as before). The
    database works on one while Python works on the other."""
    head = app.recorder.max_notification_id() or 0
    stops = {name: min(stops.get(name, head), head) if stops else head for name in models}
    end = max(stops.values(), default=0)
    routes: dict[str, list[tuple[ReadModel, Handler, int, list[int]]]] = {}
    counts = {name: [0] for name in models}  # events each read model took (a list: counted in the loop below)
    for name, model in models.items():
        model.view.reset(app.name)
        model.view.start_tracking(app.name)
        model.batching = True
        model.discard()
        for topic, handler in handlers_of(model).items():
            routes.setdefault(topic, []).append((model, handler, stops[name], counts[name]))
    flushed = dict.fromkeys(models, 0)  # each read model's count when it last wrote a page
    written = dict.fromkeys(models, 0)  # each read model's committed position (compare-and-set)
    decode = app.mapper.to_domain_event
    last_id, last_time = 0, None  # the last event decoded: its log position and recorded time
    with pages(app, tuple(routes), end, page_size) as read, Writes() as writes:
        for position, page in read:
            for notification in page:
                targets = routes.get(notification.topic)
                if not targets:
                    continue
                event = decode(notification)
                last_id, last_time = notification.id, event.timestamp
                if until is not None and occurred(event) > until:
                    continue
                for model, handler, stop, count in targets:
                    if last_id <= stop:
                        handler(model, event)
                        count[0] += 1
            times: dict[int, datetime | None] = {}  # read models flushing at one position share its recorded time
            for name, model in models.items():
                reached = min(position, stops[name])
                pending = counts[name][0] - flushed[name]
                if reached > written[name] and (pending >= page_size or reached >= stops[name]):
                    if reached not in times:  # the event at that position, when it was decoded here (as a follower does)
                        times[reached] = last_time if last_id == reached else recorded_at(app, reached)
                    writes.flush(model, Tracking(app.name, reached), times[reached], written[name])
                    flushed[name], written[name] = counts[name][0], reached
            if on_page:
                on_page(position, end)
        for name, model in models.items():  # a log shorter than a stop (or empty): stand where asked
            if written[name] < stops[name] or counts[name][0] > flushed[name]:
                writes.flush(model, Tracking(app.name, stops[name]), recorded_at(app, stops[name]), written[name])
    taken = {name: count[0] for name, count in counts.items()}
    return taken


def pages(app: Application[Any], topics: tuple[str, ...], end: int, page_size: int) -> ReadAhead[int, Any]:
    """The log's pages up to ``end`` (the events of ``topics``), read ahead by a thread of its
    own: iterating gives (position reached, page), in log order."""

    def step(position: int) -> tuple[int, tuple[int, list[Any]]] | None:
        if position >= end:
            return None
        # only the topics some read model handles; a bounded window keeps the filtered query
        # on the primary key's range (as the Follower's)
        window = min(end, position + WINDOW_PAGES * page_size)
        page = list(app.recorder.select_notifications(position + 1, page_size, stop=window, topics=topics))
        reached = page[-1].id if len(page) == page_size else window  # a short page: the window is done
        return reached, (reached, page)

    return ReadAhead(step, 0)


class Writes:
    """Read models' pages written by a thread of its own, in the order given; at most
    ``BEHIND`` pages wait to be written (the replay waits for the oldest beyond that),
    and the first failure is raised, here or on leaving."""

    BEHIND = 2 * len(READ_MODELS)

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="replay-writes")
        self.waiting: deque[Future[None]] = deque()
        self.views: list[Any] = []  # whose ``settle`` this sets (and clears on leaving)

    def __enter__(self) -> Writes:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            while self.waiting:
                failed = self.waiting.popleft().exception()
                if failed is not None and kind is None:
                    raise failed
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)
            for view in self.views:
                view.settle = None

    def settle(self) -> None:
        """Wait until every page handed over is written (before a handler reads a table)."""
        while self.waiting:
            self.waiting.popleft().result()

    def flush(self, model: ReadModel, tracking: Tracking, recorded_at: datetime | None, previous: int) -> None:
        if model.view.settle is None:
            model.view.settle = self.settle
            self.views.append(model.view)
        changes = model.take(tracking, recorded_at)
        self.waiting.append(self.pool.submit(model.view.apply, changes, tracking, previous))
        while len(self.waiting) > self.BEHIND or (self.waiting and self.waiting[0].done()):
            self.waiting.popleft().result()


def recorded_at(app: Application[Any], position: int) -> datetime | None:
    found = app.recorder.select_notifications(position, 1) if position else []
    return app.mapper.to_domain_event(found[0]).timestamp if found and found[0].id == position else None


@contextmanager
def scratch_read_models(env: dict[str, str], names: Iterable[str] | None = None) -> Iterator[dict[str, ReadModel]]:
    """Read models (``names``, default all) in a scratch schema or folder, removed on exit."""
    chosen = [name for name in READ_MODELS if names is None or name in names]
    if env.get("PERSISTENCE_MODULE") == "eventsourcing.postgres":
        schema = f"rantai_scratch_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(**conninfo(env), autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            with opened({**env, "POSTGRES_SCHEMA": schema, "CREATE_TABLE": "y"}, chosen) as models:
                yield models
        finally:
            with psycopg.connect(**conninfo(env), autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        return
    with tempfile.TemporaryDirectory(prefix="rantai-replay-") as folder:
        scratch = {**env, "SQLITE_DBNAME": str(Path(folder) / "scratch.sqlite"), "CREATE_TABLE": "y"}
        with opened(scratch, chosen) as models:
            yield models


@contextmanager
def opened(env: dict[str, str], names: list[str]) -> Iterator[dict[str, ReadModel]]:
    models: dict[str, ReadModel] = {}
    try:
        for name in names:
            models[name] = open_read_model(READ_MODELS[name], env)
        yield models
    finally:
        for model in models.values():
            model.view.datastore.close()


def conninfo(env: dict[str, str]) -> dict[str, Any]:
    return {"dbname": env["POSTGRES_DBNAME"], "host": env["POSTGRES_HOST"], "port": env["POSTGRES_PORT"],
            "user": env["POSTGRES_USER"], "password": env.get("POSTGRES_PASSWORD") or None}


# Comparing two read models


@dataclass(frozen=True)
class Difference:
    """One row in which the live read model and its rebuild differ."""

    read_model: str
    table: str
    key: dict[str, Any]
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None

    def __str__(self) -> str:
        where = f"{self.read_model}.{self.table} ({', '.join(f'{k}={v}' for k, v in self.key.items())})"
        if self.live is None:
            return f"{where}: missing from the live read model"
        if self.rebuilt is None:
            return f"{where}: in the live read model, not in the rebuild"
        changed = [f"{column} live {self.live[column]!r}, rebuilt {self.rebuilt.get(column)!r}"
                   for column in self.live if not same(self.live[column], self.rebuilt.get(column))]
        return f"{where}: {'; '.join(changed)}"


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def rows_of(model: ReadModel, table: str, key: tuple[str, ...]) -> dict[tuple[Any, ...], dict[str, Any]]:
    rows = model.view.select(f"SELECT * FROM {{{table}}}")
    return {tuple(row[k] for k in key): row for row in rows}


def compare(name: str, live: ReadModel, rebuilt: ReadModel) -> list[Difference]:
    """Every row of every table (the position aside) that differs; a stuck mark on the live one too."""
    found = []
    mark = live.view.stuck()
    if mark:
        found.append(Difference(name, "stuck", {"view": name}, mark, None))
    for table in live.view.tables:
        ours, theirs = rows_of(live, table.name, table.key), rows_of(rebuilt, table.name, table.key)
        for key in sorted(ours.keys() | theirs.keys(), key=lambda k: tuple(str(part) for part in k)):
            a, b = ours.get(key), theirs.get(key)
            if a is None or b is None or any(not same(a[c], b.get(c)) for c in a):
                found.append(Difference(name, table.name, dict(zip(table.key, key, strict=True)), a, b))
    return found

"""Following the event log: one read model, a page of events per transaction.

A page's rows and the new position commit together, and the position moves
only from where the follower found it (compare-and-set): a killed follower
resumes after its last page, and two followers of one read model (a worker
and a rebuild, two workers by mistake) never count a page twice — the loser
of a page simply reads the new position and goes on from there.

A page that fails anywhere between reading and committing is thrown away
whole (the rows it had collected in memory too) and read again from the
position the store holds, which is also right when a commit went through but
its answer was lost. Transient errors (the database away, locked, a
serialization failure, a lock timeout) are retried after a growing back-off;
``follow`` keeps trying after that, so a database restart never ends a read
model. Any other error narrows the page: the events before the failing one
are committed, and an event that fails again on its own marks the read model
*stuck* at its log position (recorded in the read model's store, logged once,
shown by ``rantai projections status`` and the dashboard). A stuck read model
stays where it is until ``rantai projections rebuild`` clears the mark; the
other read models, followed by their own threads or processes, go on.

Why not the library's ``ProjectionRunner``: SQLite's recorder cannot be
subscribed to, and the runner writes one transaction per event (~1,000
events/s on PostgreSQL against tens of thousands a page at a time). The
follower reads pages with ``select_notifications`` (filtered by the read
model's topics), hands each event to the read model, and writes the page's
rows with its tracking position in one transaction. On PostgreSQL it wakes on
the store's NOTIFY; on SQLite it polls.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Tracking

from projections.read_model import ReadModel
from projections.rows import FollowerConflict

PAGE_SIZE = 1000
WINDOW_PAGES = 10  # a page's query looks at most this many pages' worth of the log ahead
RETRIES = 5  # failed attempts at one page (not an event's fault) before catch_up gives up; follow() goes on later
FIRST_BACKOFF = 0.1  # seconds before the first retry; doubled for each further one
FOLLOW_BACKOFF = 5.0  # seconds follow() waits after catch_up gave up
TRANSIENT: tuple[type[BaseException], ...] = (
    persistence.OperationalError, persistence.InterfaceError,  # the library's wrapping of both drivers' errors
    psycopg.OperationalError, psycopg.InterfaceError,  # serialization failure, lock timeout, connection lost
    sqlite3.OperationalError,  # database is locked
    ConnectionError, TimeoutError,
)
OWN_PACKAGES = ("domain", "application", "projections", "interfaces")
ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)


def describe(error: BaseException) -> str:
    """A short, safe description of ``error``: its type, its message only when our own code
    defined it or the first line of a transient one (messages of builtin, driver or
    database errors may quote an event's contents, names or NIKs), the SQLSTATE of a
    database error, and where our code raised it."""
    kind, message = type(error), str(error)
    if kind.__module__.split(".")[0] in OWN_PACKAGES and message:
        text = f"{kind.__name__}: {message}"
    elif isinstance(error, TRANSIENT) and message:  # "database is locked", "canceling statement due to lock timeout"
        text = f"{kind.__name__}: {message.splitlines()[0][:120]}"  # (a DETAIL line may quote values: not kept)
    else:
        text = kind.__name__
    cause = error.__cause__ or error.__context__
    sqlstate = getattr(error, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if sqlstate:
        text += f" (SQLSTATE {sqlstate})"
    where = None
    for frame in traceback.extract_tb(error.__traceback__):
        path = Path(frame.filename).resolve()
        if path.is_relative_to(ROOT) and ".venv" not in path.parts:
            where = f"{path.relative_to(ROOT)}:{frame.lineno} in {frame.name}"
    return (f"{text} at {where}" if where else text)[:300]


class Follower:
    def __init__(self, app: Application[Any], read_model: ReadModel, page_size: int = PAGE_SIZE,
                 backoff: float = FIRST_BACKOFF) -> None:
        self.app = app
        self.read_model = read_model
        self.page_size = page_size
        self.backoff = backoff
        read_model.batching = True
        self.tracking_started = False
        self.stuck: dict[str, Any] | None = None  # where the read model is stuck, as of the last catch_up
        self.stop = threading.Event()  # set by follow()'s caller: cuts a back-off short

    @property
    def name(self) -> str:
        return self.read_model.name

    @property
    def position(self) -> int:
        return self.read_model.view.max_tracking_id(self.app.name) or 0

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def start(self) -> None:
        """Make sure the tracking row and the ``stuck`` table exist (once per follower)."""
        if not self.tracking_started:
            self.read_model.view.start_tracking(self.app.name)
            self.read_model.view.ensure_stuck_table()
            self.tracking_started = True

    def catch_up(self, on_page: Callable[[int, int], None] | None = None) -> int:
        """Process every event recorded so far; answers how many were relevant.

        A stuck read model is left where it is (``self.stuck`` says where). A
        page that fails is discarded and read again from the committed position;
        transient errors are retried ``RETRIES`` times before they are raised."""
        pages = Pages(self.page_size)
        processed, head = 0, None
        position: int | None = None  # None: (re)read it from the store
        while True:
            page: list[Notification] = []
            failing: int | None = None  # the index in the page of the event being handled
            self.read_model.discard()  # a page starts from nothing, whatever an earlier attempt left
            try:
                if position is None:
                    self.start()
                    if self.is_stuck():
                        return processed
                    position = self.position
                    pages.moved_to(position)
                if head is None:
                    head = self.head()
                if position >= head:
                    return processed
                limit = pages.limit
                # a bounded window keeps the filtered query on the primary key's range,
                # even where the table's statistics are stale
                window = min(head, position + WINDOW_PAGES * self.page_size)
                page = self.app.recorder.select_notifications(
                    position + 1, limit, stop=window, topics=self.read_model.topics
                )
                event = None
                for failing, notification in enumerate(page):
                    event = self.app.mapper.to_domain_event(notification)
                    self.read_model.process_event(event, Tracking(self.app.name, notification.id))
                failing = None
                # a short page means nothing else in the window concerns this read model
                reached = page[-1].id if len(page) == limit else window
                recorded_at = event.timestamp if event and page[-1].id == reached else self.recorded_at(reached)
                self.read_model.flush(Tracking(self.app.name, reached), recorded_at, position)
            except FollowerConflict:  # a rebuild or another follower moved it: go on from where it is now
                position = None
                continue
            except Exception as error:  # the page did not commit (or its answer was lost): throw it away
                self.read_model.discard()
                culprit = pages.failed(error, page, failing, position)
                position = None
                if culprit is not None:
                    self.mark_stuck(culprit, error, pages.committed)
                    continue
                self.wait(pages.delay(self.backoff), error)
                continue
            processed += len(page)
            position = reached
            pages.committed_to(position)
            if on_page:
                on_page(position, head)

    def is_stuck(self) -> bool:
        was = self.stuck
        self.stuck = self.read_model.view.stuck()
        if self.stuck and was is None:
            log.warning("read model %s is stuck at log position %d since %s: %s "
                        "(`rantai projections rebuild %s` clears it)", self.name, self.stuck["notification_id"],
                        self.stuck["since"], self.stuck["error"], self.name)
        return self.stuck is not None

    def mark_stuck(self, notification: Notification, error: Exception, committed: int) -> None:
        """Record that the event ``notification`` fails on its own, every time (logged once)."""
        summary, since = describe(error), datetime.now(UTC).isoformat()
        try:
            self.read_model.view.mark_stuck(self.name, Tracking(self.app.name, notification.id), committed,
                                            summary, since)
        except FollowerConflict:
            return  # someone moved the position meanwhile: look again from there
        self.stuck = {"notification_id": notification.id, "error": summary, "since": since}
        log.error("read model %s is stuck at log position %d: %s; it stays at position %d, the other read models "
                  "go on (after a fix, `rantai projections rebuild %s`)",
                  self.name, notification.id, summary, committed, self.name)

    def wait(self, delay: float | None, error: Exception) -> None:
        """Back off before a retry; ``None``: too many failures, so give up (raise ``error``)."""
        if delay is None or self.stop.wait(delay):
            raise error
        log.info("read model %s: a page failed (%s); retrying from the committed position",
                 self.name, describe(error))

    def recorded_at(self, position: int) -> datetime | None:
        """When the event at ``position`` was recorded."""
        found = self.app.recorder.select_notifications(position, 1)
        return self.app.mapper.to_domain_event(found[0]).timestamp if found else None

    def rebuild(self, on_page: Callable[[int, int], None] | None = None) -> int:
        """Forget everything (a ``stuck`` mark too) and process the whole log again."""
        self.start()
        self.read_model.view.reset(self.app.name)
        self.stuck = None
        return self.catch_up(on_page)

    def follow(self, stop: threading.Event, idle: float = 0.5) -> None:
        """Catch up, then wait for news (or ``idle`` seconds), until ``stop`` is set.

        Never ends on an error: a stuck read model stays where it is (a rebuild
        elsewhere clears the mark, and it goes on), a database away is tried
        again every ``FOLLOW_BACKOFF`` seconds."""
        self.stop = stop
        news = threading.Event()
        listener = self._listen(news, stop)
        try:
            while not stop.is_set():
                news.clear()
                try:
                    self.catch_up()
                except Exception as error:  # keep following: a database restart must not end the read model
                    log.warning("read model %s could not catch up (%s); retrying in %.0f s",
                                self.name, describe(error), FOLLOW_BACKOFF)
                    stop.wait(FOLLOW_BACKOFF)
                news.wait(idle)
        finally:
            if listener:
                listener.join(timeout=2)

    def _listen(self, news: threading.Event, stop: threading.Event) -> threading.Thread | None:
        recorder: Any = self.app.recorder
        if not hasattr(recorder, "channel_name"):
            return None  # SQLite: poll

        def listen() -> None:
            from psycopg.sql import SQL, Identifier

            while not stop.is_set():
                try:
                    with recorder.datastore.get_connection() as conn:
                        conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                        while not stop.is_set():
                            for _ in conn.notifies(timeout=0.2, stop_after=1):
                                news.set()
                except Exception as error:  # the database went away: poll until it is back
                    log.warning("read model %s: listening failed (%s); polling", self.name, describe(error))
                    news.set()
                    stop.wait(FOLLOW_BACKOFF)

        thread = threading.Thread(target=listen, name=f"listen-{self.name}", daemon=True)
        thread.start()
        return thread


class Pages:
    """How big the next page may be, and whether a failure points at one event.

    A failure that is not an event's fault (a transient error, or one before any
    event was read) leaves the page as it is and is retried after a back-off,
    ``RETRIES`` times. Any other failure narrows the page: to the events before
    the one that failed, when it is known (it failed while being handled), or
    else to half the page; until the failed page's range is committed, pages
    stay that narrow. An event that fails again in a page of its own is the
    culprit."""

    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.limit = page_size
        self.suspect_until = 0  # pages stay narrow until the position reaches this
        self.strikes = 0  # failures that narrowed since the last commit
        self.retries = 0  # failures that did not, since the last commit
        self.committed = 0

    def moved_to(self, position: int) -> None:
        """The committed position, read from the store."""
        if position != self.committed:
            self.strikes = 0
        self.committed = position
        if position >= self.suspect_until:
            self.limit = self.page_size

    def committed_to(self, position: int) -> None:
        self.retries = 0
        self.moved_to(position)

    def failed(self, error: Exception, page: list[Notification], failing: int | None,
               position: int | None) -> Notification | None:
        """Take note of a failed page; answers the culprit, if it is found."""
        if isinstance(error, TRANSIENT) or not page or position is None:
            self.retries += 1
            return None
        self.strikes += 1
        self.retries = 0
        self.suspect_until = max(self.suspect_until, page[-1].id)
        if len(page) == 1 and self.strikes >= 2:
            return page[0]
        if failing is not None:
            self.limit = max(1, failing)  # the events before it; then it alone
        else:
            self.limit = max(1, len(page) // 2)
        return None

    def delay(self, backoff: float) -> float | None:
        """Seconds before the next attempt, or ``None`` when the retries are used up."""
        if self.retries == 0:
            return 0.0  # a narrowed page: try at once
        if self.retries > RETRIES:
            return None
        return backoff * 2 ** (self.retries - 1)

"""Following the event log: one read model, a page of events per transaction.

A page's rows and the new position commit together, and the position moves
only from where the follower found it (compare-and-set): a killed follower
resumes after its last page, and two followers of one read model (a worker
and a rebuild, two workers by mistake) never count a page twice — the loser
of a page simply reads the new position and goes on from there.

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
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Tracking

from projections.read_model import ReadModel
from projections.rows import FollowerConflict

PAGE_SIZE = 1000
WINDOW_PAGES = 10  # a page's query looks at most this many pages' worth of the log ahead
log = logging.getLogger(__name__)


class Follower:
    def __init__(self, app: Application[Any], read_model: ReadModel, page_size: int = PAGE_SIZE) -> None:
        self.app = app
        self.read_model = read_model
        self.page_size = page_size
        read_model.batching = True
        self.tracking_started = False

    @property
    def name(self) -> str:
        return self.read_model.name

    @property
    def position(self) -> int:
        return self.read_model.view.max_tracking_id(self.app.name) or 0

    def head(self) -> int:
        return self.app.recorder.max_notification_id() or 0

    def catch_up(self, on_page: Callable[[int, int], None] | None = None) -> int:
        """Process every event recorded so far; answers how many were relevant."""
        if not self.tracking_started:
            self.read_model.view.start_tracking(self.app.name)
            self.tracking_started = True
        head, position, processed = self.head(), self.position, 0
        while position < head:
            previous = position
            # a bounded window keeps the filtered query on the primary key's range,
            # even where the table's statistics are stale
            window = min(head, position + WINDOW_PAGES * self.page_size)
            page = self.app.recorder.select_notifications(
                position + 1, self.page_size, stop=window, topics=self.read_model.topics
            )
            event = None
            for notification in page:
                event = self.app.mapper.to_domain_event(notification)
                self.read_model.process_event(event, Tracking(self.app.name, notification.id))
            # a short page means nothing else in the window concerns this read model
            position = page[-1].id if len(page) == self.page_size else window
            recorded_at = event.timestamp if event and page[-1].id == position else self.recorded_at(position)
            try:
                self.read_model.flush(Tracking(self.app.name, position), recorded_at, previous)
            except FollowerConflict:  # a rebuild or another follower moved it: go on from where it is now
                position = self.position
                continue
            processed += len(page)
            if on_page:
                on_page(position, head)
        return processed

    def recorded_at(self, position: int) -> datetime | None:
        """When the event at ``position`` was recorded."""
        found = self.app.recorder.select_notifications(position, 1)
        return self.app.mapper.to_domain_event(found[0]).timestamp if found else None

    def rebuild(self, on_page: Callable[[int, int], None] | None = None) -> int:
        """Forget everything and process the whole log again."""
        self.read_model.view.reset(self.app.name)
        return self.catch_up(on_page)

    def follow(self, stop: threading.Event, idle: float = 0.5) -> None:
        """Catch up, then wait for news (or ``idle`` seconds), until ``stop`` is set."""
        news = threading.Event()
        listener = self._listen(news, stop)
        try:
            while not stop.is_set():
                news.clear()
                try:
                    self.catch_up()
                except Exception:  # keep following: a database restart must not end the read model
                    log.exception("read model %s could not catch up; retrying in 5 s", self.name)
                    stop.wait(5)
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

            with recorder.datastore.get_connection() as conn:
                conn.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                while not stop.is_set():
                    for _ in conn.notifies(timeout=0.2, stop_after=1):
                        news.set()

        thread = threading.Thread(target=listen, name=f"listen-{self.name}", daemon=True)
        thread.start()
        return thread

"""The base of every read model: an eventsourcing ``Projection`` whose handlers
collect row changes, written with their tracking position in one transaction.

Under the ``Follower`` a whole page of events becomes one transaction (tens
of thousands of events a second). Under the library's own ``ProjectionRunner``
(one event at a time, PostgreSQL only) each event is written as it comes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from eventsourcing.dispatch import singledispatchmethod
from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection
from eventsourcing.utils import get_topic

from domain.provenance import Provenance
from projections.rows import Changes, ReadModelView


def utc(moment: datetime) -> str:
    """A time as UTC ISO text: sorts and compares the same on every backend."""
    return moment.astimezone(UTC).isoformat()


def day_of(by: Provenance) -> str:
    """The calendar day it happened, in the facility's own zone (WIB, WITA or WIT;
    events recorded before zones were kept counted in WIB)."""
    return by.day.isoformat()


_HOURS: dict[float, str] = {}  # hours since 1970 -> their text: a replay's busiest handler (the funnel's) asks per event


def hour_of(moment: datetime) -> str:
    """The UTC hour it falls in, as ISO text (``2021-01-13T04:00:00+00:00``)."""
    hour = moment.timestamp() // 3600
    text = _HOURS.get(hour)
    if text is None:
        if len(_HOURS) > 100_000:  # eleven years of hours
            _HOURS.clear()
        u = moment.astimezone(UTC)
        text = _HOURS[hour] = f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:00:00+00:00"
    return text


class ReadModel(Projection[ReadModelView]):
    """Subclasses register one handler per event class on ``apply_event`` and
    list those classes in ``handles`` (their topics filter the log)."""

    handles: ClassVar[tuple[type, ...]] = ()
    views: ClassVar[dict[str, type[ReadModelView]]] = {}  # backend -> view class

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.topics = tuple(get_topic(c) for c in cls.handles)

    def __init__(self, view: ReadModelView) -> None:
        super().__init__(view)
        self.changes = Changes()
        self.batching = False

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        self.apply_event(domain_event)
        if not self.batching:
            self.flush(tracking, domain_event.timestamp)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Handlers, one per event class, record row changes in ``self.changes``."""

    def discard(self) -> None:
        """Forget the row changes collected since the last flush (a page that did not commit)."""
        self.changes = Changes()

    def flush(self, tracking: Tracking, recorded_at: datetime | None = None, previous: int | None = None) -> None:
        """Write what the events so far changed, and ``tracking``, in one transaction
        (moving the position from ``previous``, when given: see ``ReadModelView.apply``)."""
        self.view.apply(self.take(tracking, recorded_at), tracking, previous)

    def take(self, tracking: Tracking, recorded_at: datetime | None = None) -> Changes:
        """The row changes collected so far, with the position row for ``tracking``;
        the read model starts collecting afresh (the caller writes what it took)."""
        changes, self.changes = self.changes, Changes()
        changes.put("position", (self.name,), notification_id=tracking.notification_id,
                    recorded_at=recorded_at.isoformat() if recorded_at else None)
        return changes

"""Figures as they stood at a past moment, and every read model rebuilt and compared (the auditors' replay).

"What did the dashboard show at 18:30 WIB on 13 January?" is answered by
replaying the log into scratch read models (a scratch schema on PostgreSQL,
scratch files on SQLite), either up to a log position (what the system had
recorded then) or with only the events that had *occurred* by an instant
(what had happened then, scans that reached the server later included; a
replayed scenario's recorded times are today's, so its questions use this).
The live read models are not touched; the scratch ones are dropped after.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.bounds import EARLIEST
from domain.errors import OutOfBounds
from projections.catalog import READ_MODELS
from projections.funnel import STAGES, rates
from projections.read_model import ReadModel
from projections.replay import Difference, compare, replay, scratch_read_models

LATEST = datetime(2100, 1, 1, tzinfo=UTC)  # (as the API's other times)


class AsOfNotUnderstood(OutOfBounds):
    """Neither or both of an instant and a log position (malformed input)."""


@dataclass(frozen=True)
class Moment:
    """A past moment: a log position (recorded by then) or an occurred instant (happened by then)."""

    position: int | None = None
    occurred: datetime | None = None

    def __post_init__(self) -> None:
        if (self.position is None) == (self.occurred is None):
            raise AsOfNotUnderstood("Give either a moment (when things happened) or a log position, not both.")
        if self.occurred is not None and self.occurred.tzinfo is None:
            raise AsOfNotUnderstood("A moment needs its offset (e.g. 2021-01-13T18:30:00+07:00).")
        if self.occurred is not None and not EARLIEST <= self.occurred <= LATEST:
            raise AsOfNotUnderstood("A moment must lie between 2020 and 2100.")
        if self.position is not None and self.position < 0:
            raise AsOfNotUnderstood("Log positions start at 0.")

    def describe(self) -> str:
        if self.position is not None:
            return f"as recorded up to log position {self.position}"
        return f"as things had happened by {self.occurred.isoformat()}"  # type: ignore[union-attr]

    def as_json(self) -> dict[str, Any]:
        return {"position": self.position, "occurred": self.occurred.isoformat() if self.occurred else None}


def stands_for(app: Any, moment: Moment) -> tuple[datetime, int]:
    """The instant a past moment stands for and the log position it reflects: its occurred
    instant and the log's head; or, for a log position, when the last event at or before it
    was recorded, and that position (no further than the head)."""
    head = app.recorder.max_notification_id() or 0
    if moment.occurred is not None:
        return moment.occurred, head
    position = min(moment.position or 0, head)
    last = last_at_or_before(app, position)
    return (app.mapper.to_domain_event(last).timestamp if last else app.clock()), position


def last_at_or_before(app: Any, position: int) -> Any:
    """The notification of the last event at or before ``position`` (positions may be skipped, by
    any number): one query when it is there, else a binary search of some 60 at most."""
    def first_from(start: int) -> Any:
        found = app.recorder.select_notifications(start, 1, stop=position)
        return found[0] if found else None

    if position < 1:
        return None
    exactly = first_from(position)
    if exactly is not None or first_from(1) is None:
        return exactly
    lo, hi = 1, position - 1  # the largest start with an event between it and ``position``
    while lo < hi:
        middle = (lo + hi + 1) // 2
        if first_from(middle) is not None:
            lo = middle
        else:
            hi = middle - 1
    return first_from(lo)


@contextmanager
def read_models_as_of(app: Any, env: dict[str, str], moment: Moment,
                      names: tuple[str, ...] | list[str] | None = None) -> Iterator[dict[str, ReadModel]]:
    """Scratch read models (``names``, default all) replayed to ``moment``; dropped on exit."""
    with scratch_read_models(env, names) as models:
        stops = dict.fromkeys(models, moment.position) if moment.position is not None else None
        replay(app, models, stops=stops, until=moment.occurred)
        yield models


@dataclass
class ReplayResult:
    """``rantai audit replay``: each read model rebuilt beside the live one, and where they differ."""

    positions: dict[str, int]
    events: dict[str, int]
    differences: dict[str, list[Difference]] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not any(self.differences.values())


def replay_and_compare(app: Any, env: dict[str, str], live: dict[str, ReadModel],
                       on_page: Callable[[int, int], None] | None = None, attempts: int = 3) -> ReplayResult:
    """Rebuild every read model in ``live`` from zero into scratch ones, in one pass over the log,
    each up to the position its live one stands at, and compare them row by row.

    A follower may move a live read model while it is compared (the worker keeps running):
    one that differs and has moved meanwhile is replayed again to its new position, up to
    ``attempts`` times in all (a page's rows and position commit together, so an unmoved
    position means the rows read were those of that position)."""
    where = {name: model.view.max_tracking_id(app.name) or 0 for name, model in live.items()}
    result = ReplayResult(dict(where), {})
    pending = list(live)
    for _ in range(attempts):
        with scratch_read_models(env, pending) as scratch:
            result.events |= replay(app, scratch, stops={name: where[name] for name in pending}, on_page=on_page)
            for name in pending:
                result.positions[name] = where[name]
                result.differences[name] = compare(name, live[name], scratch[name])
        where = {name: model.view.max_tracking_id(app.name) or 0 for name, model in live.items()}
        pending = [name for name in pending if result.differences[name] and where[name] != result.positions[name]]
        if not pending:
            break
    result.differences = {name: result.differences[name] for name in READ_MODELS if name in result.differences}
    return result


def funnel_figures(models: dict[str, ReadModel], mine: Callable[[str], bool] = lambda district: True,
                   phase: int | None = None) -> dict[str, Any]:
    """The dashboard's funnel panels from (scratch) read models: totals, per district and per hour,
    for the districts ``mine`` accepts (a scoped caller's own, totals added up from them)."""
    view = models["funnel"].view
    districts = [row for row in view.by_district(phase) if mine(row["district"])]
    totals = rates({stage: sum(row[stage] for row in districts) for stage in STAGES})
    hours: dict[str, dict[str, Any]] = {}
    for district in sorted({row["district"] for row in districts}):
        for row in view.by_hour(district, phase):
            into = hours.setdefault(row["hour"], dict.fromkeys(STAGES, 0) | {"hour": row["hour"]})
            for stage in STAGES:
                into[stage] += row[stage]
    return {"totals": totals, "districts": districts,
            "hours": [rates(hours[hour]) for hour in sorted(hours)], "position": view.position()}

"""Auditors' routes (issue 12): an aggregate's history and past state, the dashboard and a
report as of a past moment. For auditors and admins, inside their scope; personal data masked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from application.errors import TooManyAttempts
from application.history import KINDS, PERMISSION, History, may_see_personal_data, resolve, state_of
from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.params import parse_instant
from interfaces.api.routers.reports import row_in_scope
from interfaces.api.routers.dashboard import (
    DASHBOARD_READ_MODELS,
    AreaQuery,
    ClockQuery,
    chosen_area,
    dashboard_figures,
)
from interfaces.as_of import Moment, read_models_as_of, stands_for
from interfaces.reports import build_report, report_definition

router = APIRouter(prefix="/audit", tags=["audit"])

Kind = Enum("Kind", {kind: kind for kind in KINDS}, type=str)  # type: ignore[misc]
KeyPath = Annotated[str, Path(max_length=120, description="The ID parts joined by '/': SSCC, GTIN/LOT, "
                                                          "FACILITY, RECIPIENT_ID, FACILITY/DAY, BLAST_ID, USERNAME")]
At = Annotated[str | None, Query(max_length=40, description="What had happened by then (ISO 8601 with its offset, "
                                                            "e.g. 2021-01-13T18:30:00+07:00)")]
Position = Annotated[int | None, Query(ge=0, le=2**62, description="What was recorded up to this log position")]

# A past figure replays the log into a scratch schema (seconds to minutes on a large log):
# one at a time per server process, so a few impatient reloads cannot take every core.
REPLAYS = threading.BoundedSemaphore(1)
RETRY_AFTER_SECONDS = 30


@contextmanager
def replay_slot() -> Iterator[None]:
    if not REPLAYS.acquire(blocking=False):
        msg = "Another past figure is being rebuilt on this server; try again in half a minute."
        raise TooManyAttempts(msg, RETRY_AFTER_SECONDS)
    try:
        yield
    finally:
        REPLAYS.release()


class HistoryEntry(BaseModel):
    """One event: log position, version, who (role), where, device, when it happened and was
    recorded, the idempotency key of its command, what it corrects and what corrects it."""

    kind: str
    id: str
    aggregate_id: str
    position: int
    version: int
    event: str
    recorded_at: str
    occurred_at: str | None
    actor: str
    role: str
    facility: str
    device: str
    zone: str
    idempotency_key: str | None
    command: str | None
    corrects: int | None
    corrected_by: list[int]
    data: dict[str, Any]


class PastState(BaseModel):
    kind: str
    id: str
    as_of: dict[str, Any]
    state: dict[str, Any] | None  # None: it did not exist yet then
    masked: bool


def subject_of(campaign: Any, caller: Any, kind: Any, key: str) -> Any:
    campaign.check_role(caller, PERMISSION)  # before looking anything up: a refusal tells nothing of what exists
    subject = resolve(campaign, kind.value, key.split("/", len(KINDS[kind.value]) - 1))
    History(campaign).check(caller, subject)
    return subject


@router.get("/history/{kind}/{key:path}")
def history(kind: Kind, key: KeyPath, campaign: CampaignDep, caller: CallerDep) -> list[HistoryEntry]:
    """Every event of an aggregate, in order (``/audit/history/shipment/{sscc}``,
    ``/lot/{gtin}/{lot}``, ``/stock/{facility}``, ``/recipient/{id}``, ``/session/{facility}/{day}``,
    ``/blast/{id}``, ``/user/{username}``)."""
    subject = subject_of(campaign, caller, kind, key)
    entries = History(campaign).entries(subject, masked=not may_see_personal_data(caller))
    return [HistoryEntry(**entry.as_json(subject)) for entry in entries]


@router.get("/state/{kind}/{key:path}")
def state(
    kind: Kind, key: KeyPath, campaign: CampaignDep, caller: CallerDep,
    version: Annotated[int | None, Query(ge=1, le=2**31, description="The state at this version")] = None,
    recorded: Annotated[datetime | None, Query(description="What the system knew then (ISO with offset)")] = None,
    occurred: Annotated[datetime | None, Query(description="What had happened by then (ISO with offset)")] = None,
) -> PastState:
    """An aggregate as of a version, a recorded time or an occurred time (exactly one of them)."""
    subject = subject_of(campaign, caller, kind, key)
    given = {name: value for name, value in (("version", version), ("recorded", recorded), ("occurred", occurred))
             if value is not None}
    if len(given) != 1 or any(isinstance(v, datetime) and v.tzinfo is None for v in given.values()):
        from interfaces.as_of import AsOfNotUnderstood

        raise AsOfNotUnderstood("Give exactly one of version, recorded or occurred (times with their offset).")
    reader = History(campaign)
    if version is not None:
        found = reader.as_of_version(subject, version)
    elif recorded is not None:
        found = reader.as_of_recorded(subject, recorded)
    else:
        found = reader.as_of_occurred(subject, occurred)  # type: ignore[arg-type]
    masked = not may_see_personal_data(caller)
    return PastState(kind=subject.kind, id=" ".join(subject.key),
                     as_of={name: str(value) for name, value in given.items()},
                     state=state_of(found, masked) if found is not None else None, masked=masked)


@router.get("/dashboard")
def dashboard_as_of(campaign: CampaignDep, caller: CallerDep, at: At = None, position: Position = None,
                    area: str | None = AreaQuery, clock: Literal["server", "log"] | None = ClockQuery,
                    ) -> dict[str, Any]:
    """Every panel of the dashboard (as ``/dashboard/data``: funnel, registrations per hour, areas,
    districts, stock, shipments in transit, AEFI) as it stood then: the log replayed into scratch
    read models up to a log position, or with the events that had occurred by ``at`` (seconds on
    a large log). Ages are measured at that moment."""
    campaign.check_readable(caller, PERMISSION)
    moment = Moment(position, parse_instant(at, "at") if at is not None else None)
    chosen_area(campaign, caller, area)  # an area outside the caller's scope is refused before any replay
    with replay_slot(), read_models_as_of(campaign, dict(campaign.env), moment, DASHBOARD_READ_MODELS) as models:
        figures = dashboard_figures(models, campaign, caller, area, clock, *stands_for(campaign, moment))
    return {"as_of": moment.as_json()} | figures


@router.get("/reports/{name}")
def report_as_of(name: Annotated[str, Path(max_length=40)], campaign: CampaignDep, caller: CallerDep,
                 at: At = None, position: Position = None) -> dict[str, Any]:
    """A reconciliation report (JSON) as it stood then, rows inside the caller's scope."""
    campaign.check_readable(caller, PERMISSION)
    definition = report_definition(name)
    moment = Moment(position, parse_instant(at, "at") if at is not None else None)
    with replay_slot(), read_models_as_of(campaign, dict(campaign.env), moment, [definition.read_model]) as models:
        built = build_report(name, models)
    if caller.scope != "national":
        built = replace(built, rows=[row for row in built.rows if row_in_scope(campaign, caller.scope, row)])
    return {"as_of": moment.as_json()} | built.as_json()

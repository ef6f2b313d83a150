"""Read models and reconciliation reports over HTTP (JSON, CSV, XLSX)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from enum import Enum
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from interfaces.api.deps import CallerDep, CampaignDep, ReadModelsDep
from interfaces.api.params import MAX_PHASE
from interfaces.reports import EXPORTS, OPTION_LABELS, REPORTS, ReportOptions, build_report, file_name

router = APIRouter(prefix="/reports", tags=["reports"])


class ReportFormat(str, Enum):
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


class ReportColumnPublic(BaseModel):
    key: str
    title: str
    kind: str


class ReportSummary(BaseModel):
    name: str
    title: str
    description: str
    options: list[str]
    columns: list[ReportColumnPublic]
    url: str


@router.get("")
def list_reports(caller: CallerDep, campaign: CampaignDep) -> list[ReportSummary]:
    """Every reconciliation report, the query options it takes and its columns."""
    campaign.check_readable(caller, "read_reports")
    return [
        ReportSummary(name=d.name, title=d.title, description=d.description,
                      options=[OPTION_LABELS[o][2] for o in d.accepts],
                      columns=[ReportColumnPublic(**vars(c)) for c in d.columns], url=f"/reports/{d.name}")
        for d in REPORTS.values()
    ]


@router.get("/{name}", responses={
    200: {"content": {"text/csv": {}, EXPORTS["xlsx"][0]: {}},
          "description": "The report; JSON states the log position it reflects, CSV and XLSX in their header"},
    404: {"description": "No report of that name"},
})
def report(
    name: Annotated[str, Path(max_length=40)], read_models: ReadModelsDep, campaign: CampaignDep, caller: CallerDep,
    format: ReportFormat = ReportFormat.json,  # noqa: A002 - the query parameter's name
    first_day: Annotated[date | None, Query(alias="from", description="First day, in each facility's zone (stock)")] = None,
    last_day: Annotated[date | None, Query(alias="to", description="Last day, in each facility's zone (stock)")] = None,
    facility: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9.]+$",
                                          description="Facility code (shipments, stock, doses)")] = None,
    phase: Annotated[int | None, Query(ge=1, le=MAX_PHASE, description="Campaign phase (recipients)")] = None,
) -> Any:
    """A report as JSON (with ``position``: notification id and recorded time), CSV or XLSX;
    the rows of the facilities and districts inside the caller's scope."""
    campaign.check_readable(caller, "read_reports", *([facility] if facility else []))
    built = build_report(name, read_models, ReportOptions(first_day, last_day, facility, phase))
    if caller.scope != "national":
        built = replace(built, rows=[row for row in built.rows if row_in_scope(campaign, caller.scope, row)])
    if format is ReportFormat.json:
        return built.as_json() | {"log_head": campaign.recorder.max_notification_id() or 0}
    media_type, render = EXPORTS[format.value]
    disposition = f'attachment; filename="{file_name(built, format.value)}"'
    return Response(render(built), media_type=media_type, headers={"Content-Disposition": disposition})


PLACE_COLUMNS = ("facility", "district", "origin", "destination")


def row_in_scope(campaign: Any, scope: str, row: dict[str, Any]) -> bool:
    places = [row[c] for c in PLACE_COLUMNS if row.get(c)]
    return any(campaign.within(scope, str(place)) for place in places)

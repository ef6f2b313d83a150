"""District officers: the non-responder worklist and field visits."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Query
from pydantic import BaseModel

from application.people import mask_name, mask_phone
from domain.recipient import VisitOutcome, VisitUnit
from interfaces.api.deps import ByDep, CampaignDep, ReadModelsDep
from interfaces.api.models import CommandResult

router = APIRouter(tags=["field visits"])


class WorklistEntry(BaseModel):
    recipient_id: str
    name: str  # masked
    phone: str  # masked; '' when the list had none
    workplace: str
    reason: str
    delivery: str | None
    visit_unit: str | None
    visit_outcome: str | None


class Worklist(BaseModel):
    district: str
    as_of: datetime
    position: int
    entries: list[WorklistEntry]
    outcomes: dict[str, int]


class VisitCreate(BaseModel):
    unit: VisitUnit
    officer: str


class VisitReportCreate(BaseModel):
    outcome: VisitOutcome
    note: str = ""


@router.get("/districts/{code}/worklist")
def worklist(
    code: str, campaign: CampaignDep, read_models: ReadModelsDep, phase: int | None = None,
    as_of: datetime | None = None, limit: int = Query(50, le=500), offset: int = 0,
) -> Worklist:
    view = read_models["non_responders"].view
    moment = as_of or datetime.now(UTC)
    entries = []
    for row in view.worklist(code, moment, phase, limit, offset):
        recipient = campaign.get_recipient(UUID(hex=row["recipient_id"]))
        entries.append(WorklistEntry(
            recipient_id=row["recipient_id"], name=mask_name(recipient.name),
            phone=mask_phone(recipient.phone) if recipient.phone else "", workplace=row["workplace"],
            reason="no response" if row["has_phone"] else "no phone", delivery=row["delivery"],
            visit_unit=row["visit_unit"], visit_outcome=row["visit_outcome"],
        ))
    return Worklist(district=code, as_of=moment, position=view.max_tracking_id(campaign.name) or 0,
                    entries=entries, outcomes=view.outcomes(code, moment))


@router.post("/recipients/{recipient_id}/visits")
def assign_visit(recipient_id: UUID, body: VisitCreate, campaign: CampaignDep, by: ByDep) -> CommandResult:
    return CommandResult(**vars(campaign.assign_visit(recipient_id, body.unit, body.officer, by)))


@router.post("/recipients/{recipient_id}/visit-report")
def report_visit(recipient_id: UUID, body: VisitReportCreate, campaign: CampaignDep, by: ByDep) -> CommandResult:
    return CommandResult(**vars(campaign.report_visit(recipient_id, body.outcome, body.note, by)))

"""District officers: the non-responder worklist and field visits."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from application.people import mask_name, mask_phone
from domain.recipient import VisitOutcome, VisitUnit
from interfaces.api.deps import CallerDep, CampaignDep, ReadModelsDep
from interfaces.api.models import CommandResult, Reason
from interfaces.api.params import MAX_OFFSET, MAX_PHASE, FacilityCodePath, parse_instant
from domain.bounds import NAME_TEXT

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
    officer: str = Field(min_length=1, max_length=NAME_TEXT)


class VisitReportCreate(BaseModel):
    outcome: VisitOutcome
    note: Reason = ""


@router.get("/districts/{code}/worklist")
def worklist(
    code: FacilityCodePath, campaign: CampaignDep, read_models: ReadModelsDep, caller: CallerDep,
    phase: Annotated[int | None, Query(ge=1, le=MAX_PHASE)] = None,
    as_of: Annotated[str | None, Query(max_length=40, description="ISO 8601 with its offset, e.g. "
                                       "2021-01-14T00:00:00+07:00 (default: now)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Worklist:
    """Masked: a visit's officer opens one person's record (GET /recipients/{id}) to see who to visit."""
    campaign.check_readable(caller, "read_worklist", campaign.get_facility(code).code)
    view = read_models["non_responders"].view
    moment = parse_instant(as_of, "as_of") if as_of else campaign.clock()
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
def assign_visit(recipient_id: UUID, body: VisitCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.assign_visit(recipient_id, body.unit, body.officer, caller)))


@router.post("/recipients/{recipient_id}/visit-report")
def report_visit(recipient_id: UUID, body: VisitReportCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.report_visit(recipient_id, body.outcome, body.note, caller)))


class RecipientDetail(BaseModel):
    recipient_id: str
    name: str
    phone: str
    district: str
    workplace: str
    registered: bool
    facility: str | None
    day: str | None
    doses: int
    masked: bool


@router.get("/recipients/{recipient_id}")
def recipient(recipient_id: UUID, campaign: CampaignDep, caller: CallerDep) -> RecipientDetail:
    """One person on the list: unmasked for the district officer visiting them (the read
    is recorded as an event), masked for anyone else who may see the worklist."""
    campaign.check_role(caller, "read_worklist")
    person = campaign.get_recipient(recipient_id)
    campaign.check_readable(caller, "read_worklist", person.district)
    unmasked = campaign.may_see_personal_data(caller, person)
    if unmasked:
        campaign.record_personal_data_read(caller, [person], "field visit")
    return RecipientDetail(
        recipient_id=recipient_id.hex, name=person.name if unmasked else mask_name(person.name),
        phone=(person.phone if unmasked else mask_phone(person.phone)) if person.phone else "",
        district=person.district, workplace=person.workplace, registered=person.is_registered,
        facility=person.facility, day=person.day.isoformat() if person.day else None,
        doses=len(person.doses), masked=not unmasked)

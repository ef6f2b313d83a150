"""At the puskesmas: desk 1 checks, desk 2 screens, desks 3-4 record the dose."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from application.people import mask_name, mask_nik, mask_phone
from domain.recipient import ScreeningResult, Severity
from interfaces.api.deps import ByDep, CampaignDep, IdempotencyKey
from interfaces.api.models import CommandResult

router = APIRouter(prefix="/tickets", tags=["vaccination"])


class RecipientPublic(BaseModel):
    """What desk 1 sees: masked personal data, never the full NIK or phone."""

    name: str
    nik: str
    phone: str
    facility: str | None
    day: date | None
    doses: int
    dose2_due: date | None


class ScreeningCreate(BaseModel):
    result: ScreeningResult
    reason: str = ""
    until: date | None = None


class DoseCreate(BaseModel):
    gtin: str
    lot_number: str
    vaccinator: str


class AefiCreate(BaseModel):
    severity: Severity
    description: str


@router.get("/{ticket}")
def check(ticket: str, campaign: CampaignDep) -> RecipientPublic:
    r = campaign.find_by_ticket(ticket)
    return RecipientPublic(name=mask_name(r.name), nik=mask_nik(r.nik), phone=mask_phone(r.phone),
                           facility=r.facility, day=r.day, doses=len(r.doses), dose2_due=r.dose2_due)


@router.post("/{ticket}/screening")
def screen(ticket: str, body: ScreeningCreate, campaign: CampaignDep, by: ByDep) -> CommandResult:
    return CommandResult(**vars(campaign.screen(ticket, body.result, body.reason, body.until, by)))


@router.post("/{ticket}/dose")
def vaccinate(ticket: str, body: DoseCreate, campaign: CampaignDep, by: ByDep,
              key: IdempotencyKey = None) -> CommandResult:
    outcome = campaign.vaccinate(ticket, body.gtin, body.lot_number, body.vaccinator, by, key=key)
    return CommandResult(**vars(outcome))


@router.post("/{ticket}/aefi")
def report_aefi(ticket: str, body: AefiCreate, campaign: CampaignDep, by: ByDep) -> CommandResult:
    return CommandResult(**vars(campaign.report_aefi(ticket, body.severity, body.description, by)))

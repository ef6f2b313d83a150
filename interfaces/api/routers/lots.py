"""A lot's status: quarantine, lifting it, recall (admins), each with a reason and a reference."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.models import CommandResult, Reason
from interfaces.api.routers.stock import GtinPath, LotPath

router = APIRouter(prefix="/lots", tags=["stock"])


class StatusChange(BaseModel):
    reason: Reason = Field(min_length=1)
    reference: str = Field("", max_length=60, description="e.g. the BPOM notice number")


class QuarantineLift(BaseModel):
    reason: Reason = Field(min_length=1)


@router.post("/{gtin}/{lot_number:path}/quarantine")
def quarantine(gtin: GtinPath, lot_number: LotPath, body: StatusChange, campaign: CampaignDep,
               caller: CallerDep) -> CommandResult:
    """Hold the lot everywhere: it may not be packed onward, accepted as usable or given."""
    return CommandResult(**vars(campaign.quarantine_lot(gtin, lot_number, body.reason, caller, body.reference)))


@router.post("/{gtin}/{lot_number:path}/lift-quarantine")
def lift_quarantine(gtin: GtinPath, lot_number: LotPath, body: QuarantineLift, campaign: CampaignDep,
                    caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.release_lot_from_quarantine(gtin, lot_number, caller, body.reason)))


@router.post("/{gtin}/{lot_number:path}/recall")
def recall(gtin: GtinPath, lot_number: LotPath, body: StatusChange, campaign: CampaignDep,
           caller: CallerDep) -> CommandResult:
    """Recall the lot everywhere at once: it can travel only back towards Bio Farma."""
    return CommandResult(**vars(campaign.recall_lot(gtin, lot_number, body.reason, caller, body.reference)))

"""Lots and facility stock cards."""

from __future__ import annotations

from datetime import date

from typing import Annotated

from fastapi import APIRouter, Path, Query

from domain.bounds import MAX_DOSES, MAX_VIALS_PER_LINE
from interfaces.api.params import FacilityCodePath

from interfaces.api.deps import CallerDep, CampaignDep, KeyDep
from pydantic import BaseModel, Field

from interfaces.api.models import (
    LOT_PATTERN,
    Reason,
    CommandResult,
    CountCreate,
    LotPublic,
    LotRelease,
    StockLine,
    StockPick,
    StockPublic,
    WastageCreate,
)

router = APIRouter(tags=["stock"])
GtinPath = Annotated[str, Path(min_length=8, max_length=14, pattern=r"^\d+$")]
LotPath = Annotated[str, Path(min_length=1, max_length=20, pattern=LOT_PATTERN)]


@router.post("/lots", status_code=201)
def release_lot(body: LotRelease, campaign: CampaignDep, caller: CallerDep, key: KeyDep) -> CommandResult:
    outcome = campaign.release_lot(
        body.gtin, body.lot_number, body.expiry, body.product, body.doses_per_vial,
        body.manufacturer, body.vials, caller, key=key,
    )
    return CommandResult(**vars(outcome))


@router.get("/lots/{gtin}/{lot_number:path}")
def show_lot(gtin: GtinPath, lot_number: LotPath, campaign: CampaignDep, caller: CallerDep) -> LotPublic:
    """A lot by GTIN and lot number (percent-encode '/', '?', '%', '&' and the like in the lot number)."""
    campaign.check_readable(caller, "read_logistics")
    lot = campaign.get_lot(gtin, lot_number)
    return LotPublic(
        gtin=lot.gtin, lot_number=lot.lot_number, expiry=lot.expiry, product=lot.product,
        doses_per_vial=lot.doses_per_vial, manufacturer=lot.manufacturer,
        status=lot.status_on(campaign.today_at("BIOFARMA")), status_reason=lot.status_reason,
    )


@router.get("/facilities/{code}/stock")
def show_stock(code: FacilityCodePath, campaign: CampaignDep, caller: CallerDep) -> StockPublic:
    ledger = campaign.stock_for(code, caller)
    facility = campaign.get_facility(code)
    lines = []
    for key, info in sorted(ledger.lots.items()):
        doses = ledger.doses_of(key)
        lines.append(StockLine(
            gtin=str(info["gtin"]), lot_number=str(info["lot_number"]),
            expiry=date.fromisoformat(str(info["expiry"])), doses=doses,
            vials=doses // int(info["doses_per_vial"]),
        ))
    return StockPublic(facility=code, name=facility.name, lines=lines)


@router.get("/facilities/{code}/pick-list")
def pick_list(code: FacilityCodePath, gtin: Annotated[str, Query(min_length=8, max_length=14, pattern=r"^\d+$")],
              vials: Annotated[int, Query(ge=1, le=MAX_VIALS_PER_LINE)], campaign: CampaignDep, caller: CallerDep,
              on: date | None = None) -> list[StockPick]:
    """Which lots to pack for ``vials`` of a product: earliest expiry first,
    skipping expired, quarantined and recalled lots (``on``: the facility's today)."""
    campaign.stock_for(code, caller)
    picks = campaign.suggest_lots(code, gtin, vials, on or campaign.today_at(code))
    return [StockPick(lot_number=key.split("/", 1)[1], gtin=key.split("/", 1)[0], vials=n) for key, n in picks]


@router.post("/facilities/{code}/wastage")
def record_wastage(
    code: FacilityCodePath, body: WastageCreate, campaign: CampaignDep, caller: CallerDep, key: KeyDep
) -> CommandResult:
    outcome = campaign.record_wastage(
        code, body.gtin, body.lot_number, body.doses, body.reason, body.note, caller, key=key
    )
    return CommandResult(**vars(outcome))


@router.post("/facilities/{code}/counts")
def record_count(
    code: FacilityCodePath, body: CountCreate, campaign: CampaignDep, caller: CallerDep, key: KeyDep
) -> CommandResult:
    outcome = campaign.record_count(
        code, body.gtin, body.lot_number, body.vials, caller, loose_doses=body.loose_doses, key=key
    )
    return CommandResult(**vars(outcome))


class WastageCorrection(BaseModel):
    doses: int = Field(ge=0, le=MAX_DOSES, description="What the entry should have said")
    reason: Reason = Field(min_length=1)


@router.post("/facilities/{code}/wastage/{version}/correction")
def correct_wastage(code: FacilityCodePath, version: Annotated[int, Path(ge=1, le=10_000_000)],
                    body: WastageCorrection, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """A wastage entry (its version on the stock card) recorded wrongly: a new event naming it."""
    return CommandResult(**vars(campaign.correct_wastage(code, version, body.doses, body.reason, caller)))


class SessionClose(BaseModel):
    discarded_vials: int = Field(ge=0, le=10_000, description="Opened multi-dose vials discarded at the close")


@router.post("/facilities/{code}/sessions/{day}/close")
def close_session(code: FacilityCodePath, day: date, body: SessionClose, campaign: CampaignDep,
                  caller: CallerDep) -> CommandResult:
    """The end of a vaccination session: the opened vials discarded (open-vial wastage)."""
    return CommandResult(**vars(campaign.close_session(code, day, body.discarded_vials, caller)))

"""A lot's status: quarantine, lifting it, recall (admins), each with a reason and a reference."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from application.access import Caller
from application.campaign import Campaign
from application.errors import LotNotFound
from application.people import mask_name, mask_phone
from interfaces.api.params import MAX_OFFSET

from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.models import CommandResult, Reason
from interfaces.api.routers.stock import GtinPath, LotPath
from interfaces.scanner import drawing, labels
from interfaces.scanner.drawing import Drawing

router = APIRouter(prefix="/lots", tags=["stock"])


class TraceOnHand(BaseModel):
    facility: str
    usable_doses: int
    quarantined_doses: int


class TraceInTransit(BaseModel):
    sscc: str
    origin: str
    destination: str
    holder: str | None
    vials: int


class TraceGiven(BaseModel):
    facility: str
    day: str
    doses: int


class TracePublic(BaseModel):
    """Where the lot is and who was vaccinated from it (counts: no personal data)."""

    gtin: str
    lot: str
    status: str
    expiry: str | None
    reference: str | None
    on_hand: list[TraceOnHand]
    in_transit: list[TraceInTransit]
    doses_given: int
    given: list[TraceGiven]
    recipients: int
    aefi: int
    log_position: int


class TraceRecipient(BaseModel):
    recipient_id: str
    facility: str
    day: str
    name: str
    phone: str
    masked: bool


def _trace_view(request: Request) -> Any:
    return request.app.state.read_models["recall_trace"].view


@router.get("/{gtin}/{lot_number:path}/trace/recipients")
def trace_recipients(
    gtin: GtinPath, lot_number: LotPath, request: Request, campaign: CampaignDep, caller: CallerDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[TraceRecipient]:
    """The people vaccinated from the lot: masked, and unmasked (the read recorded) for the
    district officer of their district or the vaccinators of the puskesmas that gave the dose."""
    campaign.check_readable(caller, "read_trace")
    lot = campaign.get_lot(gtin, lot_number)
    answer = []
    for row in _trace_view(request).recipients_of(lot.gtin, lot_number, limit, offset):
        person = campaign.get_recipient(UUID(hex=row["recipient_id"]))
        if not (caller.scope == "national" or campaign.within(caller.scope, row["facility"])
                or campaign.within(caller.scope, person.district)):
            continue
        unmasked = campaign.may_see_personal_data(caller, person)
        if unmasked:
            campaign.record_personal_data_read(caller, [person], "recall follow-up")
        answer.append(TraceRecipient(
            recipient_id=row["recipient_id"], facility=row["facility"], day=row["day"],
            name=person.name if unmasked else mask_name(person.name),
            phone=(person.phone if unmasked else mask_phone(person.phone)) if person.phone else "",
            masked=not unmasked))
    return answer


@router.get("/{gtin}/{lot_number:path}/trace")
def trace(gtin: GtinPath, lot_number: LotPath, request: Request, campaign: CampaignDep,
          caller: CallerDep) -> TracePublic:
    """The recall trace: on hand per facility (usable and quarantined), shipments carrying
    it and where they are, doses given per facility and day, people vaccinated, AEFI."""
    campaign.check_readable(caller, "read_trace")
    lot = campaign.get_lot(gtin, lot_number)
    view = _trace_view(request)
    found = view.trace(lot.gtin, lot_number, campaign.today_at("BIOFARMA").isoformat())
    if found is None:
        raise LotNotFound("The recall trace does not know this lot yet: try again in a moment.")
    return TracePublic(**found, log_position=view.max_tracking_id(campaign.name) or 0)


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


# Labels for a lot's boxes and vials: GS1 Digital Link QR (GTIN, lot, expiry, a serial) and the same in words.

Serialised = Annotated[bool, Query(description="A fresh random serial (AI 21) on each label, as on Bio Farma's vials")]


def _lot_cards(gtin: str, lot_number: str, count: int, serial: bool, campaign: Campaign,
               caller: Caller) -> list[labels.LotCard]:
    campaign.check_readable(caller, "print_lot_labels")
    return labels.lot_cards(campaign, gtin, lot_number, count, serial)


def _one_label(gtin: str, lot_number: str, serial: bool, request: Request, campaign: Campaign,
               caller: Caller) -> Drawing:
    """One lot label, 70 x 37 mm."""
    card = _lot_cards(gtin, lot_number, 1, serial, campaign, caller)[0]
    return labels.lot_label(card, request.app.state.resolver)


@router.get("/{gtin}/{lot_number:path}/label.png", response_class=Response,
            responses={200: {"content": {"image/png": {}}}})
def lot_label_png(gtin: GtinPath, lot_number: LotPath, request: Request, campaign: CampaignDep, caller: CallerDep,
                  serial: Serialised = True) -> Response:
    drawn = _one_label(gtin, lot_number, serial, request, campaign, caller)
    return Response(drawing.png(drawn), media_type="image/png")


@router.get("/{gtin}/{lot_number:path}/label.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def lot_label_svg(gtin: GtinPath, lot_number: LotPath, request: Request, campaign: CampaignDep, caller: CallerDep,
                  serial: Serialised = True) -> Response:
    drawn = _one_label(gtin, lot_number, serial, request, campaign, caller)
    return Response(drawing.svg(drawn), media_type="image/svg+xml")


@router.get("/{gtin}/{lot_number:path}/labels.pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}}})
def lot_labels_pdf(gtin: GtinPath, lot_number: LotPath, request: Request, campaign: CampaignDep, caller: CallerDep,
                   count: Annotated[int, Query(ge=1, le=1000, description="How many labels (one per box or vial)")] = 1,
                   serial: Serialised = True) -> Response:
    """A4 sheets of ``count`` lot labels (24 a page), each with its own serial unless ``serial=false``."""
    cards = _lot_cards(gtin, lot_number, count, serial, campaign, caller)
    return Response(labels.lot_pdf(cards, request.app.state.resolver), media_type="application/pdf")

"""Shipments: pack, scan out, scan in and count, temperatures, labels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from application.access import Caller
from application.campaign import Campaign
from domain.shipment import ReceiptLine, Shipment, ShipmentLine
from interfaces.api.deps import CallerDep, CampaignDep, KeyDep
from pydantic import BaseModel, Field

from domain.bounds import MAX_LINES
from interfaces.api.models import (
    Reason,
    CancelCreate,
    CommandResult,
    LineIn,
    ReceiptCreate,
    ReceiptLineIn,
    ShipmentCreate,
    ShipmentPublic,
    TemperatureCreate,
)
from interfaces.scanner import drawing, labels
from interfaces.scanner.digital_link import shipment_uri

router = APIRouter(prefix="/shipments", tags=["shipments"])
Sscc = Annotated[str, Path(min_length=18, max_length=20, pattern=r"^\d+$", description="The 18-digit SSCC (AI 00)")]


def public(shipment: Shipment) -> ShipmentPublic:
    return ShipmentPublic(
        sscc=shipment.sscc,
        origin=shipment.origin,
        destination=shipment.destination,
        status=shipment.status.value,
        lines=[LineIn(gtin=l.gtin, lot_number=l.lot_number, vials=l.vials) for l in shipment.lines],
        receipt=[ReceiptLineIn(**vars(r)) for r in shipment.receipt],
        dispatched_at=shipment.dispatched_at,
        received_at=shipment.received_at,
        arrival_celsius=shipment.arrival_celsius,
        excursion=shipment.excursion,
        label=shipment_uri(shipment.sscc),
    )


@router.post("", status_code=201)
def pack(body: ShipmentCreate, campaign: CampaignDep, caller: CallerDep, key: KeyDep) -> CommandResult:
    lines = [ShipmentLine(l.gtin, l.lot_number, l.vials) for l in body.lines]
    outcome = campaign.pack(body.origin, body.destination, lines, caller, key=key,
                            override_reason=body.override_reason)
    return CommandResult(**vars(outcome))


@router.get("/{sscc}")
def show(sscc: Sscc, campaign: CampaignDep, caller: CallerDep) -> ShipmentPublic:
    return public(campaign.shipment_for(sscc, caller))


@router.get("/{sscc}/label.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def label(sscc: Sscc, request: Request, campaign: CampaignDep, caller: CallerDep) -> Response:
    """The shipment's label, 105 x 74 mm at 300 dpi: QR, SSCC, from and to, the lots, the packing date."""
    drawn = labels.shipment_label(_card(sscc, campaign, caller), request.app.state.resolver)
    return Response(drawing.png(drawn), media_type="image/png")


@router.get("/{sscc}/label.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def label_svg(sscc: Sscc, request: Request, campaign: CampaignDep, caller: CallerDep) -> Response:
    drawn = labels.shipment_label(_card(sscc, campaign, caller), request.app.state.resolver)
    return Response(drawing.svg(drawn), media_type="image/svg+xml")


@router.get("/{sscc}/label.pdf", response_class=Response, responses={200: {"content": {"application/pdf": {}}}})
def label_pdf(sscc: Sscc, request: Request, campaign: CampaignDep, caller: CallerDep,
              copies: Annotated[int, Query(ge=1, le=100, description="Labels on the sheet (one per box)")] = 1,
              ) -> Response:
    """An A4 sheet of the shipment's label (8 a page; ``copies`` for a shipment of several boxes)."""
    card = _card(sscc, campaign, caller)
    return Response(labels.shipment_pdf([card] * copies, request.app.state.resolver), media_type="application/pdf")


def _card(sscc: str, campaign: Campaign, caller: Caller) -> labels.ShipmentCard:
    """What the label says, for someone who may see the shipment (its origin or destination)."""
    return labels.shipment_card(campaign, campaign.shipment_for(sscc, caller))


@router.post("/{sscc}/dispatch")
def dispatch(sscc: Sscc, campaign: CampaignDep, caller: CallerDep, key: KeyDep) -> CommandResult:
    return CommandResult(**vars(campaign.dispatch(sscc, caller, key=key)))


@router.post("/{sscc}/receipt")
def receive(
    sscc: Sscc, body: ReceiptCreate, campaign: CampaignDep, caller: CallerDep, key: KeyDep
) -> CommandResult:
    lines = [ReceiptLine(**line.model_dump()) for line in body.lines]
    return CommandResult(**vars(campaign.receive(sscc, lines, body.arrival_celsius, caller, key=key)))


@router.post("/{sscc}/temperatures")
def record_temperature(sscc: Sscc, body: TemperatureCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.record_temperature(sscc, body.celsius, caller)))


@router.post("/{sscc}/cancel")
def cancel(sscc: Sscc, body: CancelCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.cancel(sscc, body.reason, caller)))


class ReceiptCorrection(BaseModel):
    lines: list[ReceiptLineIn] = Field(min_length=1, max_length=MAX_LINES)
    reason: Reason = Field(min_length=1)


@router.post("/{sscc}/receipt/correction")
def correct_receipt(sscc: Sscc, body: ReceiptCorrection, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """A receipt counted wrongly, recounted: a new event naming the receipt it corrects."""
    lines = [ReceiptLine(**line.model_dump()) for line in body.lines]
    return CommandResult(**vars(campaign.correct_receipt(sscc, lines, body.reason, caller)))


class HandOver(BaseModel):
    carrier: str = Field(min_length=1, max_length=120, description="Who carries it (company or person)")
    vehicle: str = Field("", max_length=40, description="e.g. the plate number")
    place: str = Field("", max_length=120, description="Where it was taken over")


@router.post("/{sscc}/handover")
def hand_over(sscc: Sscc, body: HandOver, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """A courier, driver or store on the way scans the box when taking it over."""
    return CommandResult(**vars(campaign.hand_over(sscc, body.carrier, body.vehicle, body.place, caller)))

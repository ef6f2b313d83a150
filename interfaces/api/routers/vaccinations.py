"""At the puskesmas: desk 1 checks, desk 2 screens, desks 3-4 record the dose."""

from __future__ import annotations

from datetime import date

from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from application.access import Caller
from application.campaign import Campaign
from application.people import mask_name, mask_nik, mask_phone
from domain.recipient import ScreeningResult, Severity
from interfaces.api.deps import CallerDep, CampaignDep, KeyDep
from interfaces.api.models import CommandResult, FacilityCode, Gtin, LongText, LotNumber, Reason
from interfaces.scanner import drawing, labels

router = APIRouter(prefix="/tickets", tags=["vaccination"])


class RecipientPublic(BaseModel):
    """What desk 1 sees: personal data unmasked only for staff of the puskesmas
    the person is booked at (and that read is recorded); masked for anyone else."""

    name: str
    nik: str
    phone: str
    facility: str | None
    day: date | None
    doses: int
    dose2_due: date | None
    masked: bool


class ScreeningCreate(BaseModel):
    result: ScreeningResult
    reason: Reason = ""
    until: date | None = Field(None, description="A postponement: the day to come back (within a year)")


class DoseCreate(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    serial: str = Field("", max_length=20, pattern=r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$",
                        description="The vial's serial (GS1 AI 21) when it has one: it tells whether the dose opens it")
    opens_new_vial: bool | None = Field(None, description="Without a serial: whether this dose opened a new vial")


class BookingMove(BaseModel):
    facility: FacilityCode
    day: date


class AefiCreate(BaseModel):
    severity: Severity
    description: LongText


Ticket = Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9]+$", description="The code on the ticket")]


@router.get("/{ticket}")
def check(ticket: Ticket, campaign: CampaignDep, caller: CallerDep) -> RecipientPublic:
    r = campaign.ticket_for(ticket, caller)
    if campaign.may_see_personal_data(caller, r):
        campaign.record_personal_data_read(caller, [r], "desk 1")
        return RecipientPublic(name=r.name, nik=r.nik, phone=r.phone, facility=r.facility, day=r.day,
                               doses=len(r.doses), dose2_due=r.dose2_due, masked=False)
    return RecipientPublic(name=mask_name(r.name), nik=mask_nik(r.nik), phone=mask_phone(r.phone) if r.phone else "",
                           facility=r.facility, day=r.day, doses=len(r.doses), dose2_due=r.dose2_due, masked=True)


@router.post("/{ticket}/screening")
def screen(ticket: Ticket, body: ScreeningCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.screen(ticket, body.result, body.reason, body.until, caller)))


@router.post("/{ticket}/dose")
def vaccinate(ticket: Ticket, body: DoseCreate, campaign: CampaignDep, caller: CallerDep, key: KeyDep) -> CommandResult:
    outcome = campaign.vaccinate(ticket, body.gtin, body.lot_number, caller.username, caller, key=key,
                                 serial=body.serial, opens_vial=body.opens_new_vial)
    return CommandResult(**vars(outcome))


@router.post("/{ticket}/aefi")
def report_aefi(ticket: Ticket, body: AefiCreate, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.report_aefi(ticket, body.severity, body.description, caller)))


@router.post("/{ticket}/booking")
def move_booking(ticket: Ticket, body: BookingMove, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """At the desk: move the person's booking to another day or puskesmas (same rules as registration)."""
    return CommandResult(**vars(campaign.move_booking(None, None, body.facility, body.day, caller, ticket=ticket)))


class DoseVoid(BaseModel):
    reason: Reason = Field(min_length=1)


@router.post("/{ticket}/void-dose")
def void_dose(ticket: Ticket, body: DoseVoid, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """A dose recorded on the wrong ticket (``ticket``: the one that dose issued) is voided."""
    return CommandResult(**vars(campaign.void_dose(ticket, body.reason, caller)))


# The ticket reprinted at the desk: its code as QR and in letters, the puskesmas and the day; never the NIK.

def _ticket_card(ticket: str, campaign: Campaign, caller: Caller) -> labels.TicketCard:
    campaign.ticket_for(ticket, caller)  # desk staff of the puskesmas it is booked at
    return labels.ticket_card(campaign, ticket)


@router.get("/{ticket}/label.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def ticket_png(ticket: Ticket, campaign: CampaignDep, caller: CallerDep) -> Response:
    return Response(drawing.png(labels.ticket_label(_ticket_card(ticket, campaign, caller))), media_type="image/png")


@router.get("/{ticket}/label.svg", response_class=Response, responses={200: {"content": {"image/svg+xml": {}}}})
def ticket_svg(ticket: Ticket, campaign: CampaignDep, caller: CallerDep) -> Response:
    drawn = labels.ticket_label(_ticket_card(ticket, campaign, caller))
    return Response(drawing.svg(drawn), media_type="image/svg+xml")

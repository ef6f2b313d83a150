"""Public endpoints: web registration, the *119# USSD callback, SMS delivery reports."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from domain.provenance import Provenance
from domain.recipient import Channel
from interfaces.api.deps import CampaignDep
from interfaces.api.models import CommandResult
from interfaces.reference_data import kecamatan_names
from interfaces.ussd import respond

router = APIRouter(tags=["registration"])


class RegistrationCreate(BaseModel):
    nik: str = Field(description="16-digit NIK (sent in the body, never in a URL)")
    phone_last_four: str = Field(pattern=r"^\d{4}$", description="Last four digits of the phone that got the SMS")
    facility: str
    day: date


class RegistrationPublic(BaseModel):
    ticket: str
    facility: str
    day: date


@cache
def _kecamatan_names() -> dict[str, str]:
    return kecamatan_names()


@router.post("/registrations", status_code=201)
def register(body: RegistrationCreate, campaign: CampaignDep) -> RegistrationPublic:
    by = Provenance("self:web", body.facility, "web", datetime.now(UTC))
    outcome = campaign.register(body.nik, body.phone_last_four, Channel.WEB, body.facility, body.day, by)
    return RegistrationPublic(**outcome.result)


@router.post("/ussd", response_class=PlainTextResponse)
def ussd(
    campaign: CampaignDep,
    session_id: Annotated[str, Form(alias="sessionId")] = "",
    service_code: Annotated[str, Form(alias="serviceCode")] = "",
    phone_number: Annotated[str, Form(alias="phoneNumber")] = "",
    text: Annotated[str, Form()] = "",
) -> str:
    return respond(campaign, phone_number, text, datetime.now(UTC), _kecamatan_names())


@router.post("/sms/delivery-reports")
def delivery_report(
    request: Request,
    campaign: CampaignDep,
    id: Annotated[str, Form()],  # noqa: A002 - the provider's field name
    status: Annotated[str, Form()],
    failure_reason: Annotated[str, Form(alias="failureReason")] = "",
) -> CommandResult:
    """Success counts as delivered; Failed and Rejected as failed; anything else is
    an intermediate state (Sent, Buffered) and is acknowledged without a record."""
    if status not in ("Success", "Failed", "Rejected"):
        return CommandResult(result={"ignored": status})
    message_id = request.app.state.sms.resolve(id)
    by = Provenance("sms-gateway", "KEMENKES", "gateway", datetime.now(UTC))
    recipient_id = campaign.recipient_of_message(message_id)
    outcome = campaign.record_delivery(recipient_id, message_id, status == "Success", failure_reason, by)
    return CommandResult(**vars(outcome))

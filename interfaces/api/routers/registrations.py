"""Public endpoints: web registration, the *119# USSD callback, SMS delivery reports."""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from application.campaign import UNKNOWN_MESSAGE, NoMatch, UnknownMessage
from application.errors import TooManyAttempts
from domain.recipient import Channel
from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.security import GatewayDep
from interfaces.api.models import CommandResult
from interfaces.reference_data import kecamatan_names
from interfaces.ussd import respond

router = APIRouter(tags=["registration"])


class RegistrationCreate(BaseModel):
    nik: str = Field(max_length=32, description="16-digit NIK (sent in the body, never in a URL)")
    phone_last_four: str = Field(pattern=r"^\d{4}$", description="Last four digits of the phone that got the SMS")
    facility: str = Field(max_length=20)
    day: date


class RegistrationPublic(BaseModel):
    ticket: str
    facility: str
    day: date


@cache
def _kecamatan_names() -> dict[str, str]:
    return kecamatan_names()


def _limit_address(request: Request) -> None:
    """Every public request counts against its address (generous: phones share carrier addresses)."""
    limits = request.app.state.limits
    address = request.client.host if request.client else "unknown"
    wait = request.app.state.throttle.hit(limits.registration_address, address)
    if wait:
        raise TooManyAttempts("Too many requests from this network: try again later.", wait)


def _guarded(request: Request, nik: str, attempt: Any) -> Any:
    """Run a public attempt that proves identity by NIK and phone digits: a NIK
    with too many failed attempts waits (strict: the digits are only four)."""
    _limit_address(request)
    limits, throttle = request.app.state.limits, request.app.state.throttle
    key = nik.strip()
    wait = throttle.retry_after(limits.registration_nik, key)
    if wait:
        raise TooManyAttempts("Too many attempts for this NIK: try again later.", wait)
    try:
        return attempt()
    except NoMatch:
        throttle.hit(limits.registration_nik, key)
        raise


@router.post("/registrations", status_code=201)
def register(body: RegistrationCreate, request: Request, campaign: CampaignDep) -> RegistrationPublic:
    """Public web registration, until the phase's deadline. The answer is the same
    whether the NIK is not on the list or the digits are wrong."""
    outcome = _guarded(request, body.nik, lambda: campaign.register(
        body.nik, body.phone_last_four, Channel.WEB, body.facility, body.day))
    return RegistrationPublic(**outcome.result)


@router.post("/registrations/booking")
def move_booking(body: RegistrationCreate, request: Request, campaign: CampaignDep) -> RegistrationPublic:
    """Move a booking (day or puskesmas) with the same proofs as registering."""
    outcome = _guarded(request, body.nik, lambda: campaign.move_booking(
        body.nik, body.phone_last_four, body.facility, body.day))
    return RegistrationPublic(**outcome.result)


class FieldRegistrationCreate(BaseModel):
    nik: str = Field(max_length=32, description="16-digit NIK, checked in person by the officer")
    facility: str = Field(max_length=20)
    day: date


@router.post("/registrations/field", status_code=201)
def register_in_field(body: FieldRegistrationCreate, campaign: CampaignDep, caller: CallerDep) -> RegistrationPublic:
    """A district officer registers a non-responder on a visit (also after the deadline)."""
    outcome = campaign.register(body.nik, None, Channel.FIELD, body.facility, body.day, caller)
    return RegistrationPublic(**outcome.result)


@router.post("/ussd", response_class=PlainTextResponse, dependencies=[GatewayDep])
def ussd(
    campaign: CampaignDep,
    session_id: Annotated[str, Form(alias="sessionId", max_length=100)] = "",
    service_code: Annotated[str, Form(alias="serviceCode", max_length=20)] = "",
    phone_number: Annotated[str, Form(alias="phoneNumber", max_length=20)] = "",
    text: Annotated[str, Form(max_length=200)] = "",
) -> str:
    """The *119# callback; the provider sends its shared secret (X-Gateway-Secret or HTTP Basic)."""
    return respond(campaign, phone_number, text, campaign.clock(), _kecamatan_names())


@router.post("/sms/delivery-reports", dependencies=[GatewayDep])
def delivery_report(
    request: Request,
    campaign: CampaignDep,
    id: Annotated[str, Form(max_length=100)],  # noqa: A002 - the provider's field name
    status: Annotated[str, Form(max_length=20)],
    failure_reason: Annotated[str, Form(alias="failureReason", max_length=200)] = "",
) -> CommandResult:
    """Success counts as delivered; Failed and Rejected as failed; anything else is
    an intermediate state (Sent, Buffered) and is acknowledged without a record.
    A report for a message Rantai never sent is refused (404)."""
    if status not in ("Success", "Failed", "Rejected"):
        return CommandResult(result={"ignored": "intermediate status"})
    message_id = request.app.state.sms.resolve(id)
    if message_id is None:
        raise UnknownMessage(UNKNOWN_MESSAGE)
    outcome = campaign.record_delivery(message_id, status == "Success", failure_reason)
    return CommandResult(**vars(outcome))

"""What did I just scan? A code's text or a photo in; what it names and whether the action may happen now.

``POST /scans`` takes JSON ``{"text", "symbology"?, "action"?}`` (``payload``
is accepted for ``text``: the first version's name) or a multipart form with
a ``photo`` (JPEG, PNG or WebP) and an optional ``action``. It writes
nothing. 422: the code or photo cannot be read or parsed; 404: a well-formed
code that names nothing known; 409: the action is not allowed now; 403: not
for this account (see ``interfaces/scanner/handoff.py``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from application.people import mask_name, mask_nik, mask_phone
from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.models import ShipmentPublic
from interfaces.api.routers.shipments import public
from interfaces.api.routers.vaccinations import RecipientPublic
from interfaces.scanner import handoff
from interfaces.scanner.decoding import Found, decode
from interfaces.scanner.digital_link import LotLabel, ScanNotUnderstood

router = APIRouter(prefix="/scans", tags=["scanner"])
MAX_PIXELS = 16_000_000  # a 12-megapixel phone photo; a 1 MB body could otherwise unpack to 40 (160 MB of memory)
Symbology = Literal["qr", "datamatrix", "gs1-128", "ean-13", "other"]


class ScanCreate(BaseModel):
    text: str = Field(min_length=1, max_length=500, validation_alias=AliasChoices("text", "payload"),
                      description="What the scanner read: a GS1 Digital Link URI, a GS1 element string, a ticket")
    symbology: Symbology | None = Field(None, description="The symbol it came from, if the scanner knows")
    action: handoff.Action | None = Field(None, description="The handoff it is scanned for: is it allowed now?")


class CodeRead(BaseModel):
    text: str
    symbology: Symbology | None
    position: list[tuple[int, int]] | None = Field(None, description="Corners in the photo's pixels")


class LotPublic(BaseModel):
    gtin: str
    lot_number: str
    product: str
    expiry: date
    status: str = Field(description="released, quarantined, recalled, or expired (today, where the caller works)")
    label_expiry: date | None = Field(description="The expiry printed in the code, if any")
    serial: str | None


class ActionPublic(BaseModel):
    name: handoff.Action
    allowed: bool


class ScanPublic(BaseModel):
    read: list[CodeRead]
    kind: Literal["shipment", "lot", "ticket"]
    shipment: ShipmentPublic | None = None
    lot: LotPublic | None = None
    ticket: RecipientPublic | None = Field(None, description="The booking, personal data masked")
    action: ActionPublic | None = None


class Scan(BaseModel):
    """The request, whichever way it came: what a scanner read, or a photo to find codes in."""

    code: CodeRead | None = None
    photo: bytes | None = None
    action: handoff.Action | None = None


UNREADABLE = "Send JSON {\"text\": ...} or a multipart form with a \"photo\" (and an optional \"action\")."
NO_CODE = ("No code was found in the photo: hold the phone 15-30 cm from the label, "
           "fill the frame with it, avoid glare, and take it again.")
BODY = {
    "content": {
        "application/json": {"schema": ScanCreate.model_json_schema(by_alias=False)},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["photo"],
            "properties": {"photo": {"type": "string", "format": "binary"},
                           "action": {"type": "string", "enum": list(handoff.ACTIONS)}}}},
    },
    "required": True,
}


async def scan_request(request: Request) -> Scan:
    """JSON or a multipart photo (bounded by the body limit before it is read)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = ScanCreate.model_validate_json(await request.body())
        except ValidationError as error:
            raise RequestValidationError(error.errors(include_url=False)) from None
        return Scan(code=CodeRead(text=body.text, symbology=body.symbology), action=body.action)
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=2) as form:
            photo, action = form.get("photo"), form.get("action") or None
            if action is not None and action not in handoff.ACTIONS:
                raise ScanNotUnderstood(f"Unknown action {str(action)[:20]!r}: dispatch, receive or dose.")
            data = await photo.read() if isinstance(photo, UploadFile) else str(photo or "").encode()
        return Scan(photo=data, action=action)
    raise HTTPException(400, UNREADABLE)


def _code(found: Found) -> CodeRead:
    return CodeRead(text=found.text, symbology=found.symbology, position=list(found.position))


@router.post("", openapi_extra={"requestBody": BODY})
def scan(body: Annotated[Scan, Depends(scan_request)], campaign: CampaignDep, caller: CallerDep) -> ScanPublic:
    codes = [body.code] if body.code else [_code(f) for f in decode(body.photo or b"", max_pixels=MAX_PIXELS)]
    if not codes:
        raise ScanNotUnderstood(NO_CODE)
    label = handoff.choose([code.text for code in codes])
    named = handoff.resolve(campaign, caller, label, body.action)
    answer = ScanPublic(read=codes, kind=label.kind,
                        action=ActionPublic(name=body.action, allowed=True) if body.action else None)
    if named.shipment is not None:
        answer.shipment = public(named.shipment)
    if named.lot is not None and named.today is not None and isinstance(label, LotLabel):
        lot = named.lot
        answer.lot = LotPublic(gtin=lot.gtin, lot_number=lot.lot_number, product=lot.product, expiry=lot.expiry,
                               status=lot.status_on(named.today), label_expiry=label.expiry, serial=label.serial)
    if named.recipient is not None:
        r = named.recipient
        answer.ticket = RecipientPublic(
            name=mask_name(r.name), nik=mask_nik(r.nik), phone=mask_phone(r.phone) if r.phone else "",
            facility=r.facility, day=r.day, doses=len(r.doses), dose2_due=r.dose2_due, masked=True)
    return answer

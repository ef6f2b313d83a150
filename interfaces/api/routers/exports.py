"""Exports for auditors and admins (issue 12): a GS1 EPCIS 2.0 document and a FHIR
Immunization bundle. Query parameters select; nothing personal goes in the URL
(a recipient by its keyed id, never a NIK)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.exports.documents import EPCIS_MEDIA_TYPE, FHIR_MEDIA_TYPE, epcis_document, fhir_bundle

router = APIRouter(prefix="/audit/export", tags=["audit"])

Day = Annotated[date | None, Query(description="A day (YYYY-MM-DD), counted in each facility's own time zone")]
FirstDay = Annotated[date | None, Query(alias="from", description="The period's first day (YYYY-MM-DD)")]


@router.get("/epcis", response_class=JSONResponse, responses={200: {"content": {EPCIS_MEDIA_TYPE: {}}}})
def epcis(
    campaign: CampaignDep, caller: CallerDep,
    shipment: Annotated[str | None, Query(min_length=18, max_length=20, pattern=r"^\d+$",
                                          description="A shipment's SSCC")] = None,
    gtin: Annotated[str | None, Query(min_length=8, max_length=14, pattern=r"^\d+$")] = None,
    lot: Annotated[str | None, Query(min_length=1, max_length=20, pattern=r"^[!-~]+$",
                                     description="The lot number (with gtin)")] = None,
    first: FirstDay = None, to: Day = None,
) -> JSONResponse:
    """The EPCIS 2.0 JSON-LD document of a shipment, a lot, or the days from..to inclusive."""
    document = epcis_document(campaign, caller, shipment=shipment, gtin=gtin, lot=lot, first=first, last=to)
    return JSONResponse(document, media_type=EPCIS_MEDIA_TYPE)


@router.get("/fhir", response_class=JSONResponse, responses={200: {"content": {FHIR_MEDIA_TYPE: {}}}})
def fhir(
    campaign: CampaignDep, caller: CallerDep,
    facility: Annotated[str | None, Query(max_length=20, pattern=r"^[A-Za-z0-9.]+$",
                                          description="Where the doses were given, or a district, national")] = None,
    recipient: Annotated[str | None, Query(min_length=32, max_length=36, pattern=r"^[0-9a-fA-F-]+$",
                                           description="One person's keyed id (never a NIK)")] = None,
    first: FirstDay = None, to: Day = None,
) -> JSONResponse:
    """A FHIR R4 transaction bundle of Immunization resources (SATUSEHAT's shape), the
    patient named by NIK: for admins and auditors, each export recorded as a read of
    personal data."""
    bundle = fhir_bundle(campaign, caller, facility=facility, recipient=recipient, first=first, last=to)
    return JSONResponse(bundle, media_type=FHIR_MEDIA_TYPE)

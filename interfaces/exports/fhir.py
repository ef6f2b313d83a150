"""An HL7 FHIR R4 transaction Bundle of ``Immunization`` resources, shaped as
Indonesia's SATUSEHAT platform takes them.

- ``vaccineCode``: CVX (``http://hl7.org/fhir/sid/cvx``) — 511 for CoronaVac and
  for Bio Farma's vaccine (the same Sinovac bulk, filled in Bandung), 213
  (COVID-19, formulation unspecified) otherwise — and the KFA code
  (``http://sys-ids.kemkes.go.id/kfa``) where ``RANTAI_KFA_CODES`` maps the GTIN.
- ``patient``: the NIK only (``https://fhir.kemkes.go.id/id/nik``), as a logical
  reference; SATUSEHAT's own patient number needs its patient service. No name
  or phone leaves in an export.
- ``lotNumber``, ``expirationDate``; ``performer``: the vaccinator named at the
  desk and the Rantai account that recorded it (function AP, administering
  provider); ``location``: the facility (identifier ``urn:rantai:facility``, as
  in the EPCIS export); ``occurrenceDateTime`` in the facility's own offset;
  ``recorded``: when the server recorded it; ``protocolApplied``: dose number
  of a series of 2.
- ``status``: ``completed``, or ``entered-in-error`` for a voided dose. Each
  entry is a conditional update on the dose's identifier (``urn:rantai:dose``),
  so sending a bundle twice changes nothing and a later void reaches the
  receiving system as an update of the same record.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from application.exports import ExportedDose

CVX = "http://hl7.org/fhir/sid/cvx"
KFA = "http://sys-ids.kemkes.go.id/kfa"
NIK = "https://fhir.kemkes.go.id/id/nik"
DOSE = "urn:rantai:dose"
FACILITY = "urn:rantai:facility"
ACCOUNT = "urn:rantai:user"
SERIES_DOSES = 2

CORONAVAC = ("511", "COVID-19 IV Non-US Vaccine (CoronaVac, Sinovac)")
UNSPECIFIED = ("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION")
CVX_BY_PRODUCT = {"coronavac": CORONAVAC, "vaksin covid-19 bio farma": CORONAVAC}

Resource = dict[str, Any]


def bundle(doses: Iterable[ExportedDose], kfa_codes: dict[str, str], created: datetime) -> Resource:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "timestamp": created.astimezone(UTC).isoformat(timespec="seconds"),
        "entry": [{
            "fullUrl": f"urn:uuid:{dose.dose_id}",
            "resource": immunization(dose, kfa_codes),
            "request": {"method": "PUT", "url": f"Immunization?identifier={DOSE}|{dose.dose_id}"},
        } for dose in doses],
    }


def vaccine_code(dose: ExportedDose, kfa_codes: dict[str, str]) -> Resource:
    product = dose.lot.product if dose.lot else ""
    cvx, display = CVX_BY_PRODUCT.get(product.strip().lower(), UNSPECIFIED)
    coding = [{"system": CVX, "code": cvx, "display": display}]
    if dose.gtin in kfa_codes:
        coding.append({"system": KFA, "code": kfa_codes[dose.gtin], "display": product or cvx})
    return {"coding": coding, "text": product or display}


def immunization(dose: ExportedDose, kfa_codes: dict[str, str]) -> Resource:
    resource: Resource = {
        "resourceType": "Immunization",
        "identifier": [{"system": DOSE, "value": str(dose.dose_id)}],
        "status": "entered-in-error" if dose.voided else "completed",
        "vaccineCode": vaccine_code(dose, kfa_codes),
        "patient": {"identifier": {"system": NIK, "value": dose.nik}},
        "occurrenceDateTime": dose.occurred_at.astimezone(ZoneInfo(dose.zone)).isoformat(timespec="seconds"),
        "recorded": dose.recorded_at.astimezone(UTC).isoformat(timespec="seconds"),
        "primarySource": True,
        "location": {"identifier": {"system": FACILITY, "value": dose.facility}, "display": dose.facility_name},
        "lotNumber": dose.lot_number,
        "route": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
                              "code": "IM", "display": "Injection, intramuscular"}]},
        "performer": [{
            "function": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0443",
                                     "code": "AP", "display": "Administering Provider"}]},
            "actor": {"identifier": {"system": ACCOUNT, "value": dose.actor}, "display": dose.vaccinator},
        }],
        "protocolApplied": [{"doseNumberPositiveInt": dose.number, "seriesDosesPositiveInt": SERIES_DOSES}],
    }
    if dose.lot is not None:
        resource["expirationDate"] = dose.lot.expiry.isoformat()
    return resource

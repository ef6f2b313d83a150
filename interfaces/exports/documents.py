"""The two exports as the command line and the API ask for them: a selection in,
a document out (the same for both, so they cannot drift apart)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from application.access import Caller
from application.campaign import Campaign
from application.exports import Exports, UnclearSelection
from interfaces.exports import epcis, fhir

EPCIS_MEDIA_TYPE = "application/ld+json"
FHIR_MEDIA_TYPE = "application/fhir+json"


def epcis_document(campaign: Campaign, caller: Caller, *, shipment: str | None = None, gtin: str | None = None,
                   lot: str | None = None, first: date | None = None, last: date | None = None) -> dict[str, Any]:
    """The EPCIS document of a shipment (SSCC), a lot (GTIN and lot number) or the days ``first``..``last``."""
    chosen = [shipment is not None, gtin is not None or lot is not None, first is not None or last is not None]
    if chosen.count(True) != 1:
        raise UnclearSelection("Export one thing: a shipment, a lot (GTIN and lot number), or a period (from and to).")
    exports = Exports(campaign)
    if shipment is not None:
        events = exports.shipment_events(caller, shipment)
    elif chosen[2]:
        events = exports.period_events(caller, *period(first, last))
    elif gtin is None or lot is None:
        raise UnclearSelection("A lot is named by its GTIN and its lot number, both.")
    else:
        events = exports.lot_events(caller, gtin, lot)
    return epcis.document(events, exports, datetime.now(UTC))  # when made: the real clock


def fhir_bundle(campaign: Campaign, caller: Caller, *, facility: str | None = None, recipient: str | None = None,
                first: date | None = None, last: date | None = None) -> dict[str, Any]:
    """The Immunization bundle of the doses given at a facility (or to one recipient,
    by its keyed id), optionally from day ``first`` to day ``last``."""
    if first is not None and last is not None:
        period(first, last)
    doses = Exports(campaign).doses(caller, facility=facility, recipient=recipient_id(recipient),
                                    first=first, last=last)
    return fhir.bundle(doses, kfa_codes(campaign.env.get("KFA_CODES", "")), datetime.now(UTC))


def period(first: date | None, last: date | None) -> tuple[date, date]:
    if first is None or last is None:
        raise UnclearSelection("A period needs both its first and its last day.")
    if last < first:
        raise UnclearSelection("The period's last day comes before its first.")
    return first, last


def recipient_id(text: str | None) -> UUID | None:
    """A recipient's keyed id (32 hex digits, as the history and the trace show it), never a NIK."""
    if text is None:
        return None
    cleaned = text.strip().lower().replace("-", "")
    if len(cleaned) != 32 or any(c not in "0123456789abcdef" for c in cleaned):
        raise UnclearSelection("A recipient is named by its id (32 hexadecimal digits), never by a NIK.")
    return UUID(cleaned)


def kfa_codes(setting: str) -> dict[str, str]:
    """``GTIN=KFA,GTIN=KFA`` (as ``event_store_env`` passes ``RANTAI_KFA_CODES`` on)."""
    pairs = (item.split("=", 1) for item in setting.split(",") if "=" in item)
    return {gtin.strip(): code.strip() for gtin, code in pairs}

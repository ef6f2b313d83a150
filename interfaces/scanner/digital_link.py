"""What a scanned label says: GS1 Digital Link URIs (and bare GS1 codes) read with biip.

Shipment label: ``https://id.gs1.org/00/{SSCC}``.
Box or vial:    ``https://id.gs1.org/01/{GTIN}/10/{lot}[/21/{serial}]?17={YYMMDD}``.
The design brief's path form ``/01/{GTIN}/10/{lot}/17/{YYMMDD}`` is accepted too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import biip

RESOLVER = "https://id.gs1.org"


class ScanNotUnderstood(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ShipmentLabel:
    sscc: str


@dataclass(frozen=True)
class LotLabel:
    gtin: str
    lot_number: str
    expiry: date | None = None
    serial: str | None = None


def shipment_uri(sscc: str) -> str:
    return f"{RESOLVER}/00/{sscc}"


def lot_uri(gtin: str, lot_number: str, expiry: date, serial: str | None = None) -> str:
    path = f"{RESOLVER}/01/{gtin}/10/{lot_number}" + (f"/21/{serial}" if serial else "")
    return f"{path}?17={expiry:%y%m%d}"


_EXPIRY_IN_PATH = re.compile(r"/17/(\d{6})(?=/|$|\?)")


def _normalise(payload: str) -> str:
    """Move a ``/17/YYMMDD`` path segment into the query, where GS1 puts it."""
    match = _EXPIRY_IN_PATH.search(payload)
    if not match or "://" not in payload:
        return payload
    rest = payload[: match.start()] + payload[match.end():]
    return rest + ("&" if "?" in rest else "?") + f"17={match.group(1)}"


def read(payload: str) -> ShipmentLabel | LotLabel:
    """Turn a scanned payload into the label it is, or say plainly why not."""
    payload = (payload or "").strip()
    if not payload:
        raise ScanNotUnderstood("The scan was empty: hold the code steady in front of the camera.")
    result = biip.parse(_normalise(payload))
    if result.sscc is not None:
        return ShipmentLabel(result.sscc.value)
    elements = {}
    if result.gs1_digital_link_uri is not None:
        elements = {e.ai.ai: e for e in result.gs1_digital_link_uri.element_strings}
    elif result.gs1_message is not None:
        elements = {e.ai.ai: e for e in result.gs1_message.element_strings}
    if "01" in elements and "10" in elements and elements["01"].gtin is not None:
        expiry = elements["17"].date if "17" in elements else None
        serial = elements["21"].value if "21" in elements else None
        return LotLabel(elements["01"].gtin.value.zfill(14), elements["10"].value, expiry, serial)
    raise ScanNotUnderstood(_explain(result))


def _explain(result: biip.ParseResult) -> str:
    if result.sscc_error and "check digit" in result.sscc_error:
        return "This shipment label's number does not add up (wrong check digit): it may be damaged; type the number under the code or reprint the label."
    gtin_error = result.gtin_error or ""
    if result.gs1_digital_link_uri is not None:
        for element in result.gs1_digital_link_uri.element_strings:
            gtin_error = element.gtin_error or gtin_error
    if "check digit" in gtin_error:
        return "This product code does not add up (wrong check digit): the label may be damaged; scan another vial or box."
    if result.gs1_digital_link_uri_error and "17" in result.gs1_digital_link_uri_error:
        return "The expiry date on this label is not a real date: set the box aside and report the label."
    if result.gs1_digital_link_uri is not None:
        return "This code names a product but not its lot: scan the code that carries the lot number."
    return "This is not a Rantai shipment label or a vaccine vial/box code: scan the QR code on the label."

"""What a scanned code says: one parser for every source, refusing in a warehouse worker's words.

It reads what a phone's camera, a handheld (keyboard-wedge) scanner or a
browser decoder sends:

- GS1 Digital Link URIs, on any resolver: shipment ``…/00/{SSCC}``; box or
  vial ``…/01/{GTIN}/10/{lot}[/21/{serial}]?17={YYMMDD}`` (the design brief's
  path form ``…/10/{lot}/17/{YYMMDD}`` too);
- GS1 element strings, with or without a symbology identifier (``]d2``
  DataMatrix, ``]Q3`` QR, ``]C1`` GS1-128, ``]e0`` DataBar), the group
  separator as ASCII 29, typed as ``<GS>``, or left out after a fixed-length
  element (``01``, ``17``, ``00``);
- the human-readable form ``(01)…(17)…(10)…(21)…`` printed under a code;
- a bare SSCC-18, or a bare GTIN (8, 12, 13 or 14 digits: a product without
  its lot);
- a recipient's ticket: 10 characters of ``TICKET_ALPHABET``, never a NIK.

Check digits and dates are verified here; whether the thing exists is the
application's question. A group separator left out after a variable-length
element (the lot) cannot be detected: the lot then swallows what follows.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit

import biip
from stdnum import ean

from application.campaign import TICKET_ALPHABET
from domain.bounds import LOT_NUMBER

RESOLVER = "https://id.gs1.org"
GS = "\x1d"
GS1_SYMBOLOGIES = ("]C1", "]e0", "]d2", "]Q3", "]J1")  # AIM identifiers of symbols that carry GS1 element strings
TICKET_LENGTH = 10

_AIM = re.compile(r"\][A-Za-z][0-9A-Za-z]")
_TICKET = re.compile(f"[{TICKET_ALPHABET}]{{{TICKET_LENGTH}}}")
_HRI = re.compile(r"\((\d{2,4})\)([^()]*)")
_GS_TYPED = re.compile(r"<GS>|\{GS\}|\^\]", re.IGNORECASE)  # how keyboard wedges and browsers spell ASCII 29

EMPTY = "The scan was empty: hold the code steady in front of the camera."
NOT_OURS = ("This is not a Rantai shipment label, a vaccine vial/box code or a ticket: "
            "scan the QR code on the label.")
DAMAGED = "This code is cut short or damaged: scan it again, or type the number printed under it."
NO_LOT = "This code names a product but not its lot: scan the code that carries the lot number."


class ScanNotUnderstood(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ShipmentLabel:
    kind: ClassVar[str] = "shipment"
    sscc: str

    def fields(self) -> dict[str, str | None]:
        return {"sscc": self.sscc}


@dataclass(frozen=True)
class LotLabel:
    kind: ClassVar[str] = "lot"
    gtin: str
    lot_number: str | None  # None: a bare GTIN names the product only
    expiry: date | None = None
    serial: str | None = None

    def fields(self) -> dict[str, str | None]:
        return {"gtin": self.gtin, "lot": self.lot_number,
                "expiry": self.expiry.isoformat() if self.expiry else None, "serial": self.serial}

    def check_names_a_lot(self) -> str:
        if self.lot_number is None:
            raise ScanNotUnderstood(NO_LOT)
        return self.lot_number


@dataclass(frozen=True)
class TicketCode:
    kind: ClassVar[str] = "ticket"
    ticket: str

    def fields(self) -> dict[str, str | None]:
        return {"ticket": self.ticket}


Label = ShipmentLabel | LotLabel | TicketCode


def shipment_uri(sscc: str, resolver: str = RESOLVER) -> str:
    return f"{resolver.rstrip('/')}/00/{sscc}"


def lot_uri(gtin: str, lot_number: str, expiry: date, serial: str | None = None, resolver: str = RESOLVER) -> str:
    path = f"{resolver.rstrip('/')}/01/{gtin}/10/{lot_number}" + (f"/21/{serial}" if serial else "")
    return f"{path}?17={expiry:%y%m%d}"


def read(text: str) -> Label:
    """Turn what a scanner sent into the label it is, or say plainly why not."""
    text = (text or "").strip()
    if not text:
        raise ScanNotUnderstood(EMPTY)
    symbology = text[:3] if _AIM.match(text) else ""
    body = _GS_TYPED.sub(GS, text[len(symbology):]).strip()
    if "://" in body or body.lower().startswith("www."):
        return _label(_from_uri(body))
    if _TICKET.fullmatch(body.upper()) and symbology not in GS1_SYMBOLOGIES:
        return TicketCode(body.upper())
    if body.startswith("("):
        return _label(_from_human_readable(body))
    if body.isdigit() and symbology not in GS1_SYMBOLOGIES:
        return _label(_from_bare_number(body))
    return _label(_from_element_string(body))


def _from_uri(uri: str) -> dict[str, str]:
    """The AIs of a GS1 Digital Link URI: key/value pairs in the path from the
    primary key (00 or 01) on, and numeric query parameters (``17=…``)."""
    parts = urlsplit(uri if "://" in uri else "https://" + uri)
    segments = [unquote(s) for s in parts.path.split("/") if s]
    start = next((i for i, s in enumerate(segments) if s in ("00", "01")), None)
    if start is None:
        if any(s in ("00", "01") for s in segments) or "id.gs1.org" in parts.netloc.lower():
            raise ScanNotUnderstood(DAMAGED)
        raise ScanNotUnderstood(NOT_OURS)
    pairs = segments[start:]
    if len(pairs) % 2:
        raise ScanNotUnderstood(DAMAGED)
    elements = dict(zip(pairs[::2], pairs[1::2], strict=True))
    elements |= {key: value for key, value in parse_qsl(parts.query) if key.isdigit() and key not in elements}
    return elements


def _from_human_readable(text: str) -> dict[str, str]:
    """``(01)06970000000017(17)231231(10)A1``, spaces allowed (``(00) 0 8992806 000000001 7``)."""
    text = text.replace(" ", "")
    pairs = _HRI.findall(text)
    if not pairs:
        raise ScanNotUnderstood(NOT_OURS)
    if "".join(f"({ai}){value}" for ai, value in pairs) != text:
        raise ScanNotUnderstood(DAMAGED)
    return dict(pairs)


def _from_bare_number(number: str) -> dict[str, str]:
    if len(number) == 18:
        return {"00": number}
    if len(number) in (8, 12, 13, 14):
        return {"01": number}
    if len(number) in (16, 20) and number[:2] in ("01", "00"):  # an element string of one key
        return _from_element_string(number)
    if 15 <= len(number) <= 19:
        msg = (f"This number has {len(number)} digits; a shipment label's number (SSCC) has 18: "
               "the label may be torn or the scan cut short. Scan it again or type the number under the code.")
        raise ScanNotUnderstood(msg)
    if len(number) < 15:
        msg = (f"This number has {len(number)} digits; a product code (GTIN) has 14: "
               "scan it again or type the number under the code.")
        raise ScanNotUnderstood(msg)
    return _from_element_string(number)


def _from_element_string(text: str) -> dict[str, str]:
    result = biip.parse(text)
    if result.gs1_message is None:
        if text[:2] in ("00", "01", "10", "17", "21") and text[:2].isdigit():
            raise ScanNotUnderstood(DAMAGED)
        raise ScanNotUnderstood(NOT_OURS)
    return {element.ai.ai: element.value for element in result.gs1_message.element_strings}


def _label(elements: dict[str, str]) -> Label:
    if "00" in elements:
        return ShipmentLabel(_checked(elements["00"], 18, SSCC_WRONG, SSCC_SHORT))
    if "01" not in elements:
        raise ScanNotUnderstood(NOT_OURS)
    gtin = elements["01"]
    gtin = _checked(gtin.zfill(14) if len(gtin) in (8, 12, 13) else gtin, 14, GTIN_WRONG, GTIN_SHORT)
    lot_number = elements.get("10")
    if lot_number is not None and not LOT_NUMBER.fullmatch(lot_number):
        raise ScanNotUnderstood(DAMAGED)
    serial = elements.get("21")
    if serial is not None and not LOT_NUMBER.fullmatch(serial):
        raise ScanNotUnderstood(DAMAGED)
    expiry = _expiry(elements["17"]) if "17" in elements else None
    return LotLabel(gtin, lot_number, expiry, serial)


SSCC_WRONG = ("This shipment label's number does not add up (wrong check digit): it may be damaged; "
              "type the number under the code or reprint the label.")
SSCC_SHORT = ("This shipment label's number is incomplete (an SSCC has 18 digits): the label may be torn "
              "or the scan cut short; scan it again or type the number under the code.")
GTIN_WRONG = "This product code does not add up (wrong check digit): the label may be damaged; scan another vial or box."
GTIN_SHORT = "This product code is incomplete (a GTIN has 14 digits): scan it again or scan another vial or box."


def _checked(number: str, length: int, wrong: str, short: str) -> str:
    if not number.isdigit() or len(number) != length:
        raise ScanNotUnderstood(short)
    if ean.calc_check_digit(number[:-1]) != number[-1]:
        raise ScanNotUnderstood(wrong)
    return number


def _expiry(value: str) -> date:
    """AI (17) YYMMDD; day 00 means the month's last day (GS1 General Specifications 7.12)."""
    not_a_date = "The expiry date on this label is not a real date: set the box aside and report the label."
    if len(value) != 6 or not value.isdigit():
        raise ScanNotUnderstood(not_a_date)
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    if not 1 <= month <= 12:
        raise ScanNotUnderstood(not_a_date)
    try:
        return date(year, month, day or monthrange(year, month)[1])
    except ValueError:
        raise ScanNotUnderstood(not_a_date) from None

"""What each label says, laid out for people and cameras: shipment, lot (box or vial), ticket.

The QR codes carry GS1 Digital Link URIs (``digital_link``); beside them, what
a person reads: the SSCC grouped as GS1 prints it, where the shipment goes,
what is in it, the lot and its expiry, the ticket's code. The module size and
error correction of each code were chosen on the bench's corpus of phone-like
photos (``bench/qr_score.py --labels``; figures in ``bench/README.md``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import qrcode
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from application.campaign import TICKET_ALPHABET, Campaign
from domain.shipment import Shipment
from interfaces.scanner import drawing
from interfaces.scanner.decoding import decode
from interfaces.scanner.digital_link import RESOLVER, lot_uri, shipment_uri
from interfaces.scanner.drawing import Code, Drawing, Sheet, Text, fit, wrap

ERROR_CORRECTION = {"L": ERROR_CORRECT_L, "M": ERROR_CORRECT_M, "Q": ERROR_CORRECT_Q, "H": ERROR_CORRECT_H}


@dataclass(frozen=True)
class Symbol:
    """How a code is printed: error correction level and module size (mm)."""

    error_correction: str
    module: float


# Chosen by measurement on the bench's corpus (see the module docstring).
SHIPMENT_SYMBOL = Symbol("M", 1.4)  # 51.8 mm: read in every handoff and pallet photo; 1.2 mm: 96 %
LOT_SYMBOL = Symbol("L", 0.8)  # 32.8 mm: as much as a 70 x 37 mm label holds; 0.6 mm: 96 %
TICKET_SYMBOL = Symbol("H", 0.8)  # 23.2 mm: a 10-character ticket is a small code even at level H
SHIPMENT_SHEET, LOT_SHEET, TICKET_SHEET = Sheet(2, 4), Sheet(3, 8), Sheet(2, 5)
QUIET_ZONE = 4  # modules of white around a QR code (ISO/IEC 18004)
PAD = 3.0  # mm inside each label's edge


@dataclass(frozen=True)
class LineCard:
    product: str
    lot_number: str
    expiry: date | None
    vials: int


@dataclass(frozen=True)
class ShipmentCard:
    sscc: str
    origin: str  # "name (code)"
    destination: str
    packed_on: date
    lines: tuple[LineCard, ...]
    prefix_length: int = 7  # digits of the GS1 company prefix, to group the SSCC


@dataclass(frozen=True)
class LotCard:
    gtin: str
    lot_number: str
    expiry: date
    product: str
    serial: str | None = None


@dataclass(frozen=True)
class TicketCard:
    ticket: str
    facility: str
    day: date | None
    dose: int


def qr_matrix(payload: str, symbol: Symbol) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(error_correction=ERROR_CORRECTION[symbol.error_correction], border=QUIET_ZONE)
    code.add_data(payload)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_png(payload: str, *, box_size: int = 8) -> bytes:
    """A bare QR code (no text), for tests and tools."""
    matrix = qr_matrix(payload, SHIPMENT_SYMBOL)
    module = box_size * drawing.MM_PER_INCH / drawing.DPI
    return drawing.png(Drawing(len(matrix) * module, len(matrix) * module, [Code(0, 0, matrix, module)]))


def human_sscc(sscc: str, prefix_length: int = 7) -> str:
    """``(00) 0 8992806 000000001 7``: extension, company prefix, serial reference, check digit."""
    return f"(00) {sscc[0]} {sscc[1:1 + prefix_length]} {sscc[1 + prefix_length:17]} {sscc[17]}"


def shipment_label(card: ShipmentCard, resolver: str = RESOLVER, symbol: Symbol = SHIPMENT_SYMBOL) -> Drawing:
    width, height = SHIPMENT_SHEET.cell
    label = Drawing(width, height)
    code = Code(PAD - 1, PAD - 1, qr_matrix(shipment_uri(card.sscc, resolver), symbol), symbol.module)
    label.items.append(code)
    left = code.x + code.size + 1
    room = width - left - PAD
    sscc_top = height - PAD - 5.0  # the SSCC in words, across the bottom
    y = PAD
    label.items.append(Text(left, y, "RANTAI · SHIPMENT", 3.2, bold=True))
    y += 5.0
    for caption, where in (("From", card.origin), ("To", card.destination)):
        label.items.append(Text(left, y, caption, 2.4))
        for line in wrap(where, 3.0, room - 7):
            label.items.append(Text(left + 7, y, line, 3.0, bold=caption == "To"))
            y += 3.8
        y += 0.8
    label.items.append(Text(left, y, f"Packed {card.packed_on.isoformat()}", 2.6))
    y += 4.6
    label.items.append(Text(left, y, "Product · lot · expiry · vials", 2.2))
    y += 3.2
    room_for = max(1, int((sscc_top - y) // 3.4))
    shown = card.lines if len(card.lines) <= room_for else card.lines[:room_for - 1]
    for line in shown:
        expiry = line.expiry.isoformat() if line.expiry else "?"
        text = f"{line.product} · {line.lot_number} · {expiry} · {line.vials}"
        label.items.append(Text(left, y, fit(text, 2.6, room), 2.6))
        y += 3.4
    if len(shown) < len(card.lines):
        label.items.append(Text(left, y, f"+ {len(card.lines) - len(shown)} more lots (packing list)", 2.4))
    label.items.append(Text(PAD, max(code.y + code.size, sscc_top), human_sscc(card.sscc, card.prefix_length), 4.2,
                            bold=True))
    return label


def lot_label(card: LotCard, resolver: str = RESOLVER, symbol: Symbol = LOT_SYMBOL) -> Drawing:
    """A box's or vial's label: the code on the left, beside it the product and each element in
    GS1's human-readable form, (01) GTIN, (10) lot, (17) expiry with the date in full, (21) serial."""
    width, height = LOT_SHEET.cell
    label = Drawing(width, height)
    uri = lot_uri(card.gtin, card.lot_number, card.expiry, card.serial, resolver)
    code = Code(1.5, 1.5, qr_matrix(uri, symbol), symbol.module)
    label.items.append(code)
    left = code.x + code.size + 0.5
    room = width - left - 1.5
    rows = [(line, 2.6, True) for line in wrap(card.product, 2.6, room)]
    rows += [(f"(01) {card.gtin}", 2.2, False), (f"(10) {card.lot_number}", 2.8, True),
             (f"(17) {card.expiry:%y%m%d}", 2.2, False), (f"EXP {card.expiry.isoformat()}", 2.8, True)]
    if card.serial:
        rows.append((f"(21) {card.serial}", 2.2, False))
    y = 2.5
    for text, size, bold in rows:
        label.items.append(Text(left, y, fit(text, size, room), size, bold))
        y += size + 1.2
    return label


def ticket_label(card: TicketCard, symbol: Symbol = TICKET_SYMBOL) -> Drawing:
    """The recipient's ticket: the opaque code only (never the NIK or the name)."""
    width, height = TICKET_SHEET.cell
    label = Drawing(width, height)
    code = Code(PAD - 1, PAD - 1, qr_matrix(card.ticket, symbol), symbol.module)
    label.items.append(code)
    left = code.x + code.size + 1
    room = width - left - PAD
    label.items.append(Text(left, PAD, "Tiket vaksinasi COVID-19", 3.0, bold=True))
    label.items.append(Text(left, PAD + 5, f"{card.ticket[:5]} {card.ticket[5:]}", 5.0, bold=True))
    label.items.append(Text(left, PAD + 12, f"Dosis {card.dose}", 3.0))
    label.items.append(Text(left, PAD + 17, fit(card.facility, 2.6, room), 2.6))
    if card.day:
        label.items.append(Text(left, PAD + 21, f"{card.day.day} {BULAN[card.day.month - 1]} {card.day.year}", 2.6))
    return label


BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def new_serial(length: int = 10) -> str:
    """A random serial (AI 21) for a vial or box, as Bio Farma prints them."""
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(length))


# From the store to the cards (the server's own command line and the API share these)

def shipment_card(campaign: Campaign, shipment: Shipment) -> ShipmentCard:
    lines = []
    for line in shipment.lines:
        lot = campaign.get_lot(line.gtin, line.lot_number)
        lines.append(LineCard(lot.product, line.lot_number, lot.expiry, line.vials))
    packed = next(iter(campaign.repository.event_store.get(shipment.id, lte=1)))
    return ShipmentCard(
        sscc=shipment.sscc,
        origin=campaign.get_facility(shipment.origin).label(),
        destination=campaign.get_facility(shipment.destination).label(),
        packed_on=packed.by.day,
        lines=tuple(lines),
        prefix_length=len(campaign.company_prefix),
    )


def lot_cards(campaign: Campaign, gtin: str, lot_number: str, count: int, serialised: bool) -> list[LotCard]:
    lot = campaign.get_lot(gtin, lot_number)
    return [LotCard(lot.gtin, lot.lot_number, lot.expiry, lot.product, new_serial() if serialised else None)
            for _ in range(count)]


def ticket_card(campaign: Campaign, ticket: str) -> TicketCard:
    recipient = campaign.find_by_ticket(ticket)
    place = campaign.get_facility(recipient.facility).label() if recipient.facility else recipient.district
    return TicketCard(ticket.strip().upper(), place, recipient.day, len(recipient.doses) + 1)


def shipment_pdf(cards: list[ShipmentCard], resolver: str = RESOLVER) -> bytes:
    return drawing.pdf([shipment_label(card, resolver) for card in cards], SHIPMENT_SHEET)


def lot_pdf(cards: list[LotCard], resolver: str = RESOLVER) -> bytes:
    return drawing.pdf([lot_label(card, resolver) for card in cards], LOT_SHEET)


def decode_image(data: bytes) -> list[str]:
    """The texts of every code in an image (``decoding.decode`` has symbology and position)."""
    return [code.text for code in decode(data)]

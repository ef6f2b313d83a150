"""The warehouse's pages (Bio Farma, province and district stores, and a puskesmas receiving).

Each page reads through the same use cases as the JSON routes, with the
session's ``Caller`` (so scope and role are checked in the one place), and
renders. Writes go from the page's script to the JSON API through the
offline queue (``static/rantai.js``); the scan screens use the shared scan
widget (``static/scan.js``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from application.errors import Forbidden, NotFound
from domain.facility import Facility as FacilityRecord
from domain.stock_ledger import StockLedger, WastageReason
from domain.user import Role
from interfaces.web.pages import PageRefused, Staff, StaffDep, render

router = APIRouter(tags=["pages"], include_in_schema=False)
Facility = Annotated[str | None, Query(alias="f", max_length=20, pattern=r"^[A-Za-z0-9.]+$")]
SCAN_ACTIONS = {"kirim": "dispatch", "terima": "receive", "serah": "handover"}
PERMISSION = {"dispatch": "dispatch", "receive": "receive", "handover": "hand_over"}  # POLICY's names
BANDS = {"< 7": "band-lt7", "7–10": "band-7-10", "10–14": "band-10-14", "> 14": "band-gt14"}


def where(staff: Staff, requested: str | None) -> str:
    """The facility a page shows: the one asked for, else the account's own (national accounts: Bio Farma)."""
    if requested:
        return requested
    return "BIOFARMA" if staff.scope == "national" else staff.scope


@dataclass(frozen=True)
class Card:
    """The facility a page is about, and its stock card, once the caller may see them."""

    staff: Staff
    facility: FacilityRecord
    ledger: StockLedger


def card(request: Request, staff: StaffDep, f: Facility = None) -> Card:
    campaign, code = request.app.state.campaign, where(staff, f)
    try:
        return Card(staff, campaign.get_facility(code), campaign.stock_for(code, staff.caller))
    except (Forbidden, NotFound) as error:
        raise PageRefused(staff, error) from None


CardDep = Annotated[Card, Depends(card)]


def stock_lines(request: Request, code: str, ledger: StockLedger) -> list[dict[str, Any]]:
    """The card's lots (from the ledger: current to the last command) with their band (from the read model)."""
    levels = {row["lot_key"]: row for row in request.app.state.read_models["stock_on_hand"].view.levels(code)}
    lines = []
    for key, info in sorted(ledger.lots.items(), key=lambda item: (str(item[1]["expiry"]), item[0])):
        per = int(info["doses_per_vial"])  # type: ignore[call-overload]
        doses, held = ledger.doses_of(key), ledger.quarantined_of(key)
        if not doses and not held:
            continue
        level = levels.get(key, {})
        band = level.get("band", "no use yet")
        lines.append({"gtin": info["gtin"], "lot": info["lot_number"], "expiry": date.fromisoformat(str(info["expiry"])),
                      "doses": doses, "vials": doses // per, "per": per, "quarantined": held,
                      "band": band, "band_class": BANDS.get(band, "band-none"), "days": level.get("days_of_stock")})
    return lines


@router.get("/gudang", response_class=HTMLResponse)
def stock_card(request: Request, page: CardDep,
               gtin: Annotated[str | None, Query(max_length=14, pattern=r"^\d{8,14}$")] = None,
               vials: Annotated[int | None, Query(ge=1, le=100_000)] = None) -> HTMLResponse:
    """The stock card with bands, and the pick list for a product and a number of vials."""
    campaign, code, facility = request.app.state.campaign, page.facility.code, page.facility
    picks = []
    if gtin and vials:
        picks = [(key.split("/", 1)[1], n) for key, n in campaign.suggest_lots(code, gtin, vials, campaign.today_at(code))]
    return render(request, "warehouse/stock.html", page.staff, facility=facility,
                  lines=stock_lines(request, code, page.ledger),
                  picks=picks, gtin=gtin or "", vials=vials or "", zone=facility.zone)


@router.get("/gudang/kemas", response_class=HTMLResponse)
def pack_page(request: Request, page: CardDep) -> HTMLResponse:
    """Pack a shipment: the lots proposed earliest expiry first (the pick list), then its label sheet."""
    campaign, ledger = request.app.state.campaign, page.ledger
    products = sorted({(str(info["gtin"]), campaign.get_lot_by_key(key).product)
                       for key, info in ledger.lots.items() if ledger.doses_of(key)})
    return render(request, "warehouse/pack.html", page.staff, facility=page.facility, products=products)


@router.get("/gudang/kiriman", response_class=HTMLResponse)
def shipments_page(request: Request, page: CardDep) -> HTMLResponse:
    """Shipments to and from the facility: packed (to dispatch), in transit (overdue first), received."""
    campaign, code = request.app.state.campaign, page.facility.code
    view = request.app.state.read_models["shipments"].view
    transit = {row["sscc"]: row for row in view.in_transit(campaign.clock())}
    rows = []
    for row in view.shipments(facility=code):
        row.update(transit.get(row["sscc"], {}))
        row["incoming"] = row["destination"] == code
        rows.append(row)
    rows.sort(key=lambda r: (not r.get("overdue", False), r["status"] != "dispatched", r["packed_at"] or ""))
    return render(request, "warehouse/shipments.html", page.staff, facility=page.facility, rows=rows,
                  zone=page.facility.zone)


@router.get("/gudang/kiriman/{sscc}", response_class=HTMLResponse)
def shipment_page(request: Request, staff: StaffDep,
                  sscc: Annotated[str, Path(min_length=18, max_length=20, pattern=r"^\d+$")]) -> HTMLResponse:
    """A shipment's record: lines, receipt, its label sheet, and a correction of its receipt with a reason."""
    campaign = request.app.state.campaign
    try:
        shipment = campaign.shipment_for(sscc, staff.caller)
        zone = campaign.get_facility(shipment.destination).zone
    except (Forbidden, NotFound) as error:
        raise PageRefused(staff, error) from None
    return render(request, "warehouse/shipment.html", staff, shipment=shipment, zone=zone,
                  may_correct=staff.role in (Role.WAREHOUSE, Role.VACCINATOR) and shipment.receipt)


@router.get("/gudang/hitung", response_class=HTMLResponse)
def count_page(request: Request, page: CardDep) -> HTMLResponse:
    """A physical count (the difference is recorded, nothing overwritten) and wastage, with corrections."""
    campaign, ledger, facility = request.app.state.campaign, page.ledger, page.facility
    wasted = [(event.originator_version, event) for event in campaign.repository.event_store.get(ledger.id)
              if isinstance(event, StockLedger.Wasted)][-20:]
    return render(request, "warehouse/count.html", page.staff, facility=facility,
                  lines=stock_lines(request, facility.code, ledger),
                  wasted=list(reversed(wasted)), reasons=[r.value for r in WastageReason], zone=facility.zone)


@router.get("/pindai/{action}", response_class=HTMLResponse)
def scan_page(request: Request, staff: StaffDep, action: Annotated[str, Path(max_length=10)]) -> HTMLResponse:
    """Scan to dispatch, to receive, or to take a box over on the way. The shipments expected here are
    embedded, so a label scanned offline is still recognised and its receipt can be counted and queued."""
    campaign = request.app.state.campaign
    try:
        if action not in SCAN_ACTIONS:
            raise NotFound("There is no such scan screen.")
        campaign.check_role(staff.caller, PERMISSION[SCAN_ACTIONS[action]])
    except (Forbidden, NotFound) as error:
        raise PageRefused(staff, error) from None
    code = where(staff, None)
    expected = []
    if code != "national" and staff.role in (Role.WAREHOUSE, Role.VACCINATOR):
        status, side = ("packed", "origin") if action == "kirim" else ("dispatched", "destination")
        for row in request.app.state.read_models["shipments"].view.shipments(status=status, facility=code):
            if row[side] == code:
                shipment = campaign.get_shipment(row["sscc"])
                expected.append({"sscc": shipment.sscc, "origin": shipment.origin, "destination": shipment.destination,
                                 "origin_name": campaign.get_facility(shipment.origin).name,
                                 "lines": [{"gtin": line.gtin, "lot_number": line.lot_number, "vials": line.vials}
                                           for line in shipment.lines]})
    return render(request, "warehouse/scan.html", staff, action=SCAN_ACTIONS[action], slug=action,
                  expected=expected, reasons=[r.value for r in WastageReason])

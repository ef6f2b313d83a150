"""The public registration page (issue 11, item 7): what PeduliLindungi was for the
health workers of January 2021. No login.

The NIK and the last four digits of the phone go in the form's body; the
puskesmas and the day are chosen from the free places (per district, from the
vaccination days of every phase still open). The ticket comes back as a QR code
on the screen. Moving a booking takes the same proofs. The API's own rules
apply, through the same code (``routers/registrations._guarded``): every request
counts against its address, failed proofs against the NIK, and the answer is the
same whether a NIK is not on the list or the digits are wrong — the page says
nothing about who is on the list.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse

from application.errors import ApplicationError, TooManyAttempts
from domain.errors import RuleBroken
from domain.phase import PhaseCalendar
from domain.recipient import Channel
from interfaces.api.routers.registrations import _guarded, _limit_address
from interfaces.reference_data import kecamatan_names
from interfaces.reports import district_names
from interfaces.scanner import drawing, labels
from interfaces.web.pages import add_words, render

router = APIRouter(tags=["pages"], include_in_schema=False)
PHASES = range(1, 6)  # the campaign's phases (1: health workers, January 2021)
District = Annotated[str | None, Query(alias="kabupaten", max_length=5, pattern=r"^\d{2}\.\d{2}$")]

add_words({
    "pub.title": ("Daftar vaksinasi COVID-19", "Register for COVID-19 vaccination"),
    "pub.intro": ("Untuk tenaga kesehatan yang menerima SMS undangan. Siapkan NIK dan nomor ponsel yang menerima SMS.",
                  "For health workers who received the SMS invitation. Have your NIK and the phone that got the SMS."),
    "pub.district": ("Kabupaten/kota tempat vaksinasi", "District where you will be vaccinated"),
    "pub.choose_district": ("Pilih kabupaten/kota", "Choose the district"),
    "pub.show_places": ("Lihat tempat yang masih kosong", "Show the places still free"),
    "pub.places": ("Puskesmas dan hari (yang masih ada tempat)", "Puskesmas and day (with places left)"),
    "pub.no_places": ("Tidak ada tempat kosong di kabupaten/kota ini.", "No free places in this district."),
    "pub.nik": ("NIK (16 angka)", "NIK (16 digits)"),
    "pub.phone": ("4 angka terakhir nomor ponsel", "Last 4 digits of your phone number"),
    "pub.register": ("Daftar", "Register"),
    "pub.move": ("Pindahkan jadwal", "Move my booking"),
    "pub.move_intro": ("Sudah terdaftar? Pilih tempat dan hari baru, lalu tekan \"Pindahkan jadwal\".",
                       "Already registered? Choose a new place and day, then press \"Move my booking\"."),
    "pub.ticket": ("Tiket vaksinasi Anda", "Your vaccination ticket"),
    "pub.ticket_note": ("Tunjukkan kode QR ini di meja 1 puskesmas, dengan KTP. Kode juga dikirim lewat SMS.",
                        "Show this QR code at desk 1 of the puskesmas, with your ID card. The code was also sent by SMS."),
    "pub.where": ("Tempat dan hari", "Place and day"),
    "pub.refused": ("Tidak dapat didaftarkan", "Could not register"),
    "pub.busy": ("Terlalu banyak percobaan. Coba lagi nanti.", "Too many attempts. Try again later."),
    "pub.again": ("Kembali", "Back"),
})


@cache
def kecamatan_of() -> dict[str, list[str]]:
    """District code -> its kecamatan codes (``32.73`` -> ``["32.73.01", ...]``)."""
    grouped: dict[str, list[str]] = {}
    for code in kecamatan_names():
        dotted = f"{code[:2]}.{code[2:4]}.{code[4:]}"
        grouped.setdefault(dotted[:5], []).append(dotted)
    return grouped


def phases(campaign: Any, still_open: bool = True) -> list[int]:
    """The phases with a calendar (``still_open``: whose web registration has not closed)."""
    now = campaign.clock()
    return [p for p in PHASES if (c := campaign.find(PhaseCalendar, PhaseCalendar.id_for(p)))
            and (c.deadline > now or not still_open)]


def free_places(campaign: Any, district: str, in_phases: list[int]) -> list[dict[str, Any]]:
    """Each registered puskesmas of the district with the days of ``in_phases`` that still have room."""
    places = []
    for kecamatan in kecamatan_of().get(district, []):
        for facility in campaign.facilities_in_kecamatan(kecamatan):
            days = sorted({d for p in in_phases for d in campaign.bookable_days(facility.code, p)})
            if days:
                places.append({"code": facility.code, "name": facility.name, "days": days})
    return places


def page(request: Request, district: str | None, status: int = 200, **context: Any) -> HTMLResponse:
    campaign = request.app.state.campaign
    districts = sorted(district_names().items())
    places = free_places(campaign, district, phases(campaign)) if district else []
    return render(request, "public/register.html", None, status=status, districts=districts, district=district,
                  places=places, **context)


@router.get("/daftar", response_class=HTMLResponse)
def registration_page(request: Request, kabupaten: District = None) -> HTMLResponse:
    """The form; with ``kabupaten``, the free places of that district."""
    _limit_address(request)
    return page(request, kabupaten)


@router.post("/daftar", response_class=HTMLResponse)
def register(request: Request,
             nik: Annotated[str, Form(max_length=32)],
             phone_last_four: Annotated[str, Form(max_length=4, pattern=r"^\d{4}$")],
             place: Annotated[str, Form(max_length=40, pattern=r"^[A-Za-z0-9.]+/\d{4}-\d{2}-\d{2}$")],
             kabupaten: Annotated[str | None, Form(max_length=5, pattern=r"^\d{2}\.\d{2}$")] = None,
             move: Annotated[str, Form(max_length=10)] = "") -> HTMLResponse:
    """Register (or, with ``move``, move a booking): the ticket's QR code on the screen, or why not."""
    campaign = request.app.state.campaign
    facility, day_text = place.split("/")
    day = date.fromisoformat(day_text)
    attempt = campaign.move_booking if move else (lambda n, p, f, d: campaign.register(n, p, Channel.WEB, f, d))
    try:
        outcome = _guarded(request, nik, lambda: attempt(nik, phone_last_four, facility, day))
    except TooManyAttempts:
        return page(request, kabupaten, 429, refused="pub.busy")
    except (RuleBroken, ApplicationError) as error:
        return page(request, kabupaten, 409, refused_text=str(error))
    ticket = outcome.result["ticket"]
    card = labels.ticket_card(campaign, ticket)
    qr = drawing.svg(labels.ticket_label(card))
    return render(request, "public/ticket.html", None, ticket=ticket, card=card, qr=qr,
                  facility=campaign.get_facility(outcome.result["facility"]))


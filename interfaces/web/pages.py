"""What every staff page shares: the templates, who is logged in, the language, and how numbers and times read.

Pages only translate: they find the session's ``Caller`` exactly as the JSON
routes do and call the same application use cases. Writes go from the page's
script to the JSON API (with the session's CSRF token), so a command made
offline can be queued and sent later with its idempotency key and scan time.

Bahasa Indonesia is the default; English is a switch remembered in a cookie.
Numbers read as Indonesians read them (71.000), times as ``13 Jan 2021 18.30
WIB`` in the facility's own zone. Another module adds its words with
``add_words`` and its menu entries with ``NAV``.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from application.access import Caller
from application.errors import NotAuthenticated, NotFound
from domain.calendar import WIB, WIT, WITA, zone
from domain.user import Role
from interfaces.api.security import SESSION_COOKIE, csrf_token

TEMPLATES = Path(__file__).resolve().parent / "templates"
LANG_COOKIE = "rantai_lang"
LANGUAGES = ("id", "en")
ZONE_NAMES = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}
MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}

# Where each role starts after logging in (pages of other modules included).
HOME: dict[Role, str] = {
    Role.WAREHOUSE: "/gudang",
    Role.VACCINATOR: "/meja",
    Role.DISTRICT_OFFICER: "/distrik",
    Role.ADMIN: "/admin",
    Role.AUDITOR: "/",
}

# The menu of each role: (url, word key). Modules append their own entries.
NAV: dict[Role, list[tuple[str, str]]] = {
    Role.WAREHOUSE: [("/gudang", "nav.stock"), ("/gudang/kemas", "nav.pack"), ("/gudang/kiriman", "nav.shipments"),
                     ("/pindai/kirim", "nav.dispatch"), ("/pindai/terima", "nav.receive"),
                     ("/pindai/serah", "nav.handover"), ("/gudang/hitung", "nav.count")],
    Role.VACCINATOR: [("/meja", "nav.desks"), ("/pindai/terima", "nav.receive"), ("/gudang", "nav.stock"),
                      ("/gudang/hitung", "nav.count")],
    Role.DISTRICT_OFFICER: [("/distrik", "nav.worklist")],
    Role.ADMIN: [("/admin", "nav.admin"), ("/", "nav.dashboard")],
    Role.AUDITOR: [("/", "nav.dashboard")],
}

# key -> (Bahasa Indonesia, English)
WORDS: dict[str, tuple[str, str]] = {
    "app.tagline": ("Pelacakan vaksin dan sasaran vaksinasi", "Vaccine and vaccination tracking"),
    "login.title": ("Masuk", "Log in"),
    "login.intro": ("Pelacakan vaksin dan sasaran vaksinasi. Masuk dengan akun petugas Anda.",
                    "Vaccine and vaccination tracking. Log in with your staff account."),
    "login.username": ("Nama pengguna", "User name"),
    "login.password": ("Kata sandi", "Password"),
    "login.submit": ("Masuk", "Log in"),
    "login.wrong": ("Nama pengguna atau kata sandi salah.", "Wrong user name or password."),
    "login.locked": ("Terlalu banyak percobaan gagal. Coba lagi dalam {minutes} menit, atau minta admin membuka akun Anda.",
                     "Too many failed attempts. Try again in {minutes} minutes, or ask an admin to unlock your account."),
    "logout": ("Keluar", "Log out"),
    "lang.switch": ("English", "Bahasa Indonesia"),
    "nav.menu": ("Menu", "Menu"),
    "nav.stock": ("Kartu stok", "Stock card"),
    "nav.pack": ("Kemas kiriman", "Pack a shipment"),
    "nav.shipments": ("Kiriman", "Shipments"),
    "nav.dispatch": ("Pindai kirim", "Scan to dispatch"),
    "nav.receive": ("Pindai terima", "Scan to receive"),
    "nav.handover": ("Serah terima kurir", "Courier hand-over"),
    "nav.count": ("Hitung & limbah", "Count & wastage"),
    "nav.desks": ("Meja layanan", "Desks"),
    "nav.worklist": ("Daftar kunjungan", "Visit worklist"),
    "nav.admin": ("Admin", "Admin"),
    "nav.dashboard": ("Dasbor", "Dashboard"),
    "queue.waiting": ("menunggu dikirim", "waiting to send"),
    "queue.offline": ("Luring — perintah disimpan dan dikirim saat tersambung",
                      "Offline — commands are kept and sent when back online"),
    "role.admin": ("Admin", "Admin"),
    "role.warehouse": ("Petugas gudang", "Warehouse"),
    "role.vaccinator": ("Vaksinator", "Vaccinator"),
    "role.district_officer": ("Petugas kabupaten/kota", "District officer"),
    "role.auditor": ("Auditor", "Auditor"),
    "refused.title": ("Tidak dapat dibuka", "Cannot be shown"),
    "refused.home": ("Kembali ke halaman awal", "Back to your home page"),
    # the warehouse
    "stock.title": ("Kartu stok", "Stock card"),
    "stock.lot": ("Lot", "Lot"),
    "stock.expiry": ("Kedaluwarsa", "Expiry"),
    "stock.vials": ("Vial", "Vials"),
    "stock.doses": ("dosis", "doses"),
    "stock.band": ("Ketahanan stok", "Days of stock"),
    "stock.quarantined": ("dikarantina", "quarantined"),
    "stock.days": ("hari", "days"),
    "stock.empty": ("Tidak ada stok.", "No stock."),
    "band.band-lt7": ("< 7 hari", "< 7 days"),
    "band.band-7-10": ("7–10 hari", "7–10 days"),
    "band.band-10-14": ("10–14 hari", "10–14 days"),
    "band.band-gt14": ("> 14 hari", "> 14 days"),
    "band.band-none": ("belum dipakai", "no use yet"),
    "pick.title": ("Daftar ambil", "Pick list"),
    "pick.product": ("Produk (GTIN)", "Product (GTIN)"),
    "pick.show": ("Tampilkan lot yang diambil", "Show the lots to pick"),
    "pick.none": ("Tidak ada lot yang bisa diambil.", "No lot can be picked."),
    "pack.title": ("Kemas kiriman", "Pack a shipment"),
    "pack.destination": ("Tujuan (kode fasilitas)", "Destination (facility code)"),
    "pack.propose": ("Usulkan lot (kedaluwarsa paling awal dulu)", "Propose lots (earliest expiry first)"),
    "pack.submit": ("Kemas", "Pack"),
    "shipments.clock": ("Lama di perjalanan diukur dengan jam server.", "Time in transit is measured on the server's clock."),
    "shipments.overdue": ("terlambat", "overdue"),
    "shipments.in": ("Masuk dari", "In from"),
    "shipments.out": ("Keluar ke", "Out to"),
    "shipments.transit": ("Di perjalanan", "In transit"),
    "shipments.hours": ("jam", "hours"),
    "shipments.holder": ("Dibawa oleh", "Held by"),
    "shipments.none": ("Belum ada kiriman.", "No shipments yet."),
    "status.packed": ("dikemas", "packed"),
    "status.dispatched": ("dikirim", "dispatched"),
    "status.received": ("diterima", "received"),
    "status.cancelled": ("dibatalkan", "cancelled"),
    "shipment.title": ("Kiriman", "Shipment"),
    "shipment.dispatched": ("Dikirim", "Dispatched"),
    "shipment.received": ("Diterima", "Received"),
    "shipment.sent": ("Dikirim", "Sent"),
    "shipment.label": ("Label", "Label"),
    "shipment.print": ("Cetak lembar label (PDF)", "Print the label sheet (PDF)"),
    "receive.accepted": ("Diterima", "Accepted"),
    "receive.rejected": ("Ditolak", "Rejected"),
    "receive.reason": ("Alasan tolak", "Reason rejected"),
    "receive.celsius": ("Suhu saat tiba (°C)", "Arrival temperature (°C)"),
    "receive.split": ("+ Bagian lain lot ini (VVM berbeda)", "+ Another part of this lot (another VVM stage)"),
    "correct.title": ("Koreksi penerimaan", "Correct the receipt"),
    "correct.reason": ("Alasan koreksi", "Reason for the correction"),
    "correct.submit": ("Simpan koreksi", "Record the correction"),
    "count.title": ("Hitung fisik", "Physical count"),
    "count.vials": ("Vial utuh", "Whole vials"),
    "count.loose": ("Dosis lepas", "Loose doses"),
    "count.submit": ("Catat hitungan", "Record the count"),
    "waste.title": ("Limbah vaksin", "Wastage"),
    "waste.reason": ("Alasan", "Reason"),
    "waste.note": ("Catatan", "Note"),
    "waste.submit": ("Catat limbah", "Record wastage"),
    "waste.recorded": ("Limbah tercatat", "Wastage recorded"),
    "reason.broken": ("pecah", "broken"),
    "reason.expired": ("kedaluwarsa", "expired"),
    "reason.vvm": ("VVM", "VVM"),
    "reason.cold_chain_failure": ("rantai dingin gagal", "cold chain failure"),
    "reason.open_vial_time_limit": ("batas waktu vial terbuka", "open-vial time limit"),
    "reason.lost": ("hilang", "lost"),
    "reason.stolen": ("dicuri", "stolen"),
    "reason.recalled": ("ditarik", "recalled"),
    "scan.dispatch": ("Pindai untuk mengirim", "Scan to dispatch"),
    "scan.receive": ("Pindai untuk menerima", "Scan to receive"),
    "scan.handover": ("Serah terima di perjalanan", "Hand-over on the way"),
    "scan.camera": ("Pindai dengan kamera", "Scan with the camera"),
    "scan.field": ("Atau pindai/ketik kodenya", "Or scan/type the code"),
    "scan.photo": ("Atau foto labelnya", "Or take a photo of the label"),
    "scan.confirm.dispatch": ("Kirim", "Dispatch"),
    "scan.confirm.receive": ("Terima", "Receive"),
    "scan.confirm.handover": ("Ambil alih", "Take over"),
    "handover.carrier": ("Pembawa (perusahaan atau nama)", "Carrier (company or person)"),
    "handover.vehicle": ("Kendaraan (nomor polisi)", "Vehicle (plate)"),
    "handover.place": ("Tempat", "Place"),
}


def add_words(table: dict[str, tuple[str, str]]) -> None:
    """Another page module's words (its keys prefixed with its name, so none collide)."""
    clash = set(table) & set(WORDS)
    if clash:
        msg = f"words defined twice: {sorted(clash)}"
        raise ValueError(msg)
    WORDS.update(table)


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGUAGES else "id"


def translate(key: str, lang: str) -> str:
    """The word in that language; an unknown key shows itself, so a missing word is seen, not hidden."""
    words = WORDS.get(key)
    if words is None:
        return key
    return words[LANGUAGES.index(lang)]


def number(value: int | float | None, lang: str = "id") -> str:
    """71000 -> '71.000' (Indonesian) or '71,000' (English); a fraction keeps one decimal (12,5)."""
    if value is None:
        return "—"
    whole = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    if lang == "id":
        return whole.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return whole


def zone_name(zone_id: str) -> str:
    return ZONE_NAMES.get(zone_id, zone_id)


def moment(value: datetime | str | None, zone_id: str = WIB, lang: str = "id") -> str:
    """An instant in the facility's zone: '13 Jan 2021 18.30 WIB' (English: '13 Jan 2021 18:30 WIB');
    aggregates and read models keep instants as ISO text, which is read here."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    local = value.astimezone(zone(zone_id))
    clock = f"{local.hour:02d}.{local.minute:02d}" if lang == "id" else f"{local.hour:02d}:{local.minute:02d}"
    return f"{day(local.date(), lang)} {clock} {zone_name(zone_id)}"


def day(value: date | None, lang: str = "id") -> str:
    """A calendar day: '13 Jan 2021'."""
    if value is None:
        return "—"
    return f"{value.day} {MONTHS[lang][value.month - 1]} {value.year}"


@pass_context
def _number(context: Any, value: int | float | None) -> str:
    return number(value, context.get("lang", "id"))


@pass_context
def _moment(context: Any, value: datetime | str | None, zone_id: str | None = None) -> str:
    return moment(value, zone_id or context.get("zone", WIB), context.get("lang", "id"))


@pass_context
def _day(context: Any, value: date | None) -> str:
    return day(value, context.get("lang", "id"))


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.filters.update(number=_number, moment=_moment, day=_day)


@dataclass(frozen=True)
class Staff:
    """The logged-in person a page is for: the application's ``Caller`` and what the page needs to write."""

    caller: Caller
    csrf: str

    @property
    def role(self) -> Role:
        return self.caller.role or Role.ADMIN

    @property
    def scope(self) -> str:
        return self.caller.scope

    @property
    def home(self) -> str:
        return HOME[self.role]

    @property
    def nav(self) -> list[tuple[str, str]]:
        return NAV[self.role]


class LoginRequired(Exception):
    """A page asked for without a valid session: the browser goes to the login page (303), then back."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def current_staff(request: Request) -> Staff:
    session = request.cookies.get(SESSION_COOKIE, "")
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not session:
        raise LoginRequired(target)
    try:
        caller = request.app.state.campaign.authenticate(session, "browser")
    except NotAuthenticated:
        raise LoginRequired(target) from None
    return Staff(caller, csrf_token(request, session))


StaffDep = Annotated[Staff, Depends(current_staff)]


def render(request: Request, template: str, staff: Staff | None = None, status: int = 200,
           keep_offline: bool = True, **context: Any) -> HTMLResponse:
    """A page in the chosen language, with the helpers every template uses (``t``, the user, the menu).

    ``keep_offline=False`` for a page showing unmasked personal data: sent with
    ``Cache-Control: no-store``, so neither the browser nor the service worker keeps a copy."""
    lang = language(request)
    context.setdefault("zone", WIB)
    base = {"lang": lang, "t": lambda key: translate(key, lang), "staff": staff, "path": request.url.path}
    response = templates.TemplateResponse(request, template, {**base, **context}, status_code=status)
    if not keep_offline:
        response.headers["Cache-Control"] = "no-store"
    return response


class PageRefused(Exception):
    """A page the application refused (another scope, nothing there): shown as a page, with the reason."""

    def __init__(self, staff: Staff, error: Exception) -> None:
        super().__init__(str(error))
        self.staff = staff
        self.status = 404 if isinstance(error, NotFound) else 403


def _refused(request: Request, error: PageRefused) -> HTMLResponse:
    return render(request, "refused.html", error.staff, status=error.status, message=str(error))


def _to_login(request: Request, error: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(error.path, safe='/')}", status_code=303)


def register(api: FastAPI) -> None:
    """The page-side exception handler (a missing session goes to the login page); ``.wasm`` served as such."""
    mimetypes.add_type("application/wasm", ".wasm")
    api.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]
    api.add_exception_handler(PageRefused, _refused)  # type: ignore[arg-type]

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
from application.errors import NotAuthenticated
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
                     ("/gudang/hitung", "nav.count")],
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


def moment(value: datetime | None, zone_id: str = WIB, lang: str = "id") -> str:
    """An instant in the facility's zone: '13 Jan 2021 18.30 WIB' (English: '13 Jan 2021 18:30 WIB')."""
    if value is None:
        return "—"
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
def _moment(context: Any, value: datetime | None, zone_id: str | None = None) -> str:
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
           **context: Any) -> HTMLResponse:
    """A page in the chosen language, with the helpers every template uses (``t``, the user, the menu)."""
    lang = language(request)
    context.setdefault("zone", WIB)
    base = {"lang": lang, "t": lambda key: translate(key, lang), "staff": staff, "path": request.url.path}
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def _to_login(request: Request, error: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"/login?next={quote(error.path, safe='/')}", status_code=303)


def register(api: FastAPI) -> None:
    """The page-side exception handler (a missing session goes to the login page)."""
    api.add_exception_handler(LoginRequired, _to_login)  # type: ignore[arg-type]

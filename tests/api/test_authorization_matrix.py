"""Every route x every account, on the real app with a real store (both backends).

For each route a case builds what the request needs (a shipment to receive, a
ticket to screen...) and declares who must get through (2xx), who is refused
for the right role with a scope that does not cover the facility (403, "only
at ... and below"), and, by elimination, who is refused for the role (403,
"Your account (role) may not..." or "...does not work at a ..."). Anonymous
and forged credentials get 401. Every refusal leaves the log where it was.

The app's routes are enumerated: a route without a case here (and not on the
public list) fails ``test_every_route_has_a_case``, so a route added later has
to say who may call it. The auditor runs no command anywhere: every write
case refuses both auditors for their role, and reads are open to them only
inside their scope.

One store per group of routes (plus one per known bug), both backends.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from itertools import count
from typing import Any

import pytest
from fastapi.testclient import TestClient

from application.access import AUDITOR, POLICY, WORKS_AT
from application.jobs import start_job
from application.logistics import NATIONAL_WAREHOUSE
from domain.facility import FacilityKind
from domain.recipient import Channel, ScreeningResult
from domain.stock_ledger import WastageReason
from domain.user import Role
from interfaces.api.main import create_app
from interfaces.api.security import CSRF_HEADER, SESSION_COOKIE
from interfaces.scanner.digital_link import lot_uri, shipment_uri
from tests.api.conftest import ACCOUNTS, GATEWAY, Accounts
from tests.application.test_recipients import JAN_14, import_rows, open_phase
from tests.scenario import reflect_the_whole_log, CORONAVAC, ColdChain, last_position, nik, target_row

PUSKESMAS = "P327301"  # Puskesmas Sukasari, Kota Bandung
OTHER_PUSKESMAS = "P327302"  # registered here: a second puskesmas in Kota Bandung
JAN_15 = date(2021, 1, 15)

# Two accounts beyond conftest's, so that admin-only and vaccinator-only
# routes also have a caller of the right role whose scope misses the facility.
EXTRA = {
    "admin.dki": (Role.ADMIN, "31"),
    "vaksinator.sukajadi": (Role.VACCINATOR, OTHER_PUSKESMAS),
}
ROLES: dict[str, tuple[Role, str]] = {**ACCOUNTS, **EXTRA}
EVERYONE = tuple(ROLES)
ADMINS = ("admin", "admin.dki")
AUDITORS = ("auditor", "auditor.dki")
WAREHOUSES = ("gudang.biofarma", "gudang.jabar", "gudang.bandung", "gudang.dki")
VACCINATORS = ("vaksinator", "vaksinator.sukajadi")
OFFICERS = ("petugas", "petugas.jaksel")
ANONYMOUS = "anonymous"  # no credentials at all
FORGED = "forged"  # a well-formed token this store never issued
NOBODY = (ANONYMOUS, FORGED)
FORGED_TOKEN = "rt_" + "0" * 32 + "_not-a-token-this-store-issued"

# Open to anyone (the login page, the docs, self-registration); the gateway's
# callbacks and /logout have their own checks below.
PUBLIC = {
    ("GET", "/health"), ("GET", "/login"), ("POST", "/login"),
    ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"), ("GET", "/openapi.json"),
    ("MOUNT", "/static"),
    ("POST", "/registrations"), ("POST", "/registrations/booking"),
}


@dataclass(frozen=True)
class Req:
    url: str
    json: Any = None
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class Case:
    """One route and one thing it acts on: who gets through, who is refused."""

    method: str
    route: str  # the path as the app declares it
    what: str  # what this case shows
    permission: str | None  # its name in application.access.POLICY
    make: Callable[[World], Req]  # a fresh request target (called again for each further success)
    allowed: tuple[str, ...]
    out_of_scope: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()  # accounts checked by another case of the same route
    writes: bool | None = None  # None: POST writes, GET does not
    cookie: bool = False  # the dashboard page reads the browser's session cookie only
    check: Callable[[World, str, Any], str | None] | None = None
    bug: str | None = None  # a known bug in the app: the case runs as a strict xfail

    @property
    def id(self) -> str:
        return f"{self.method} {self.route} ({self.what})"

    @property
    def is_write(self) -> bool:
        return self.method != "GET" if self.writes is None else self.writes

    @property
    def wrong_role(self) -> tuple[str, ...]:
        listed = set(self.allowed) | set(self.out_of_scope) | set(self.elsewhere)
        return tuple(name for name in EVERYONE if name not in listed)


@dataclass(frozen=True)
class Custom:
    """Routes with their own kind of caller (the SMS gateway, the browser's logout)."""

    routes: tuple[tuple[str, str], ...]
    what: str
    run: Callable[[World], list[str]]

    @property
    def id(self) -> str:
        return f"{' + '.join(f'{m} {r}' for m, r in self.routes)} ({self.what})"


class World:
    """The store, the app and every account; builds what the cases act on."""

    def __init__(self, chain: ColdChain, client: TestClient, tokens: dict[str, str]) -> None:
        self.chain, self.client, self.tokens = chain, client, tokens
        self.serial = count(1)
        self.fresh = count(1)
        self.checks = 0
        self._stock = self._recipients = False

    # credentials

    def headers(self, who: str, cookie: bool = False) -> dict[str, str]:
        if who == ANONYMOUS:
            return {}
        token = FORGED_TOKEN if who == FORGED else self.tokens[who]
        if cookie:
            return {"Cookie": f"{SESSION_COOKIE}={token}"}
        return {"Authorization": f"Bearer {token}", "X-Device": f"hp-{who}"}

    def position(self) -> int:
        return last_position(self.chain.app)

    # logistics: Bio Farma -> 32 -> 32.73 -> P327301 hold lot CV001

    def stocked(self) -> None:
        if not self._stock:
            chain = self.chain
            chain.release(vials=300)
            chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 150)))
            chain.receive_all(chain.ship("32", "32.73", ("CV001", 80)))
            chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 40)))
            self._stock = True

    def packed(self, origin: str = "32.73", destination: str = PUSKESMAS) -> str:
        self.stocked()
        return self.chain.pack(origin, destination, ("CV001", 1))

    def dispatched(self, origin: str = "32.73", destination: str = PUSKESMAS) -> str:
        sscc = self.packed(origin, destination)
        self.chain.app.dispatch(sscc, self.chain.by(origin))
        return sscc

    # recipients: health workers of Kota Bandung, phase 1 open (doses 14-16 January)

    def targeted(self) -> int:
        """The serial of a person on the target list, not registered yet."""
        if not self._recipients:
            self.stocked()  # the desk gives doses from P327301's stock
            import_rows(self.chain.app, [target_row(i) for i in range(1, 31)], self.chain.by("KEMENKES"))
            open_phase(self.chain)
            self._recipients = True
        return next(self.serial)

    def recipient_id(self) -> str:
        return self.chain.app.recipient_id(nik(serial=self.targeted())).hex

    def ticket(self) -> str:
        serial = self.targeted()
        outcome = self.chain.app.register(nik(serial=serial), f"{serial:04d}", Channel.WEB, PUSKESMAS, JAN_14)
        return outcome.result["ticket"]

    def screened(self) -> str:
        ticket = self.ticket()
        self.chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, self.chain.by(PUSKESMAS))
        return ticket

    def vaccinated(self) -> str:
        """The ticket (for dose 2) of someone who had dose 1 at P327301."""
        ticket = self.screened()
        outcome = self.chain.app.vaccinate(ticket, CORONAVAC, "CV001", "vaksinator", self.chain.by(PUSKESMAS))
        return outcome.result["next_ticket"]

    # accounts

    def new_username(self) -> str:
        return f"baru{next(self.fresh)}"

    def throwaway(self, scope: str = "32") -> str:
        """An account to revoke or deactivate (not one the matrix calls with)."""
        username = self.new_username()
        self.chain.app.add_user(username, Role.WAREHOUSE, scope, self.chain.by(actor="cli:test"))
        return username


# Checks on a successful answer

def masked_unless(*unmasked: str) -> Callable[[World, str, Any], str | None]:
    def check(world: World, who: str, answer: Any) -> str | None:
        masked = answer.json()["masked"]
        if masked is (who in unmasked):
            return f"personal data {'masked' if masked else 'unmasked'} for {who}"
        return None

    return check


def lists_only_accounts_in_scope(world: World, who: str, answer: Any) -> str | None:
    listed = {user["username"] for user in answer.json()}
    scope = ROLES[who][1]
    seen_elsewhere = {u for u in listed if u in ROLES and not world.chain.app.within(scope, ROLES[u][1])}
    if seen_elsewhere or "gudang.dki" not in listed:
        return f"{who} (scope {scope}) listed {sorted(listed)}"
    return None


def is_png(world: World, who: str, answer: Any) -> str | None:
    return None if answer.content.startswith(b"\x89PNG") else "not a PNG"


def is_html(world: World, who: str, answer: Any) -> str | None:
    return None if "text/html" in answer.headers["content-type"] else "not the dashboard page"


# The cases

ACCOUNT_CASES = [
    Case("POST", "/users", "an account scoped to 32", "manage_users",
         lambda w: Req("/users", {"username": w.new_username(), "role": "warehouse", "scope": "32"}),
         allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/users", "an account scoped to 31.71", "manage_users",
         lambda w: Req("/users", {"username": w.new_username(), "role": "district_officer", "scope": "31.71"}),
         allowed=ADMINS),
    Case("GET", "/users", "the accounts in the caller's scope", "read_users",
         lambda w: Req("/users"), allowed=ADMINS + AUDITORS, check=lists_only_accounts_in_scope),
    Case("POST", "/users/{username}/tokens", "gudang.jabar, scoped to 32", "manage_users",
         lambda w: Req("/users/gudang.jabar/tokens"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/users/{username}/revoke", "an account scoped to 32", "manage_users",
         lambda w: Req(f"/users/{w.throwaway()}/revoke"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/users/{username}/deactivate", "an account scoped to 32", "manage_users",
         lambda w: Req(f"/users/{w.throwaway()}/deactivate"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/users/{username}/deactivate", "an account scoped to 31", "manage_users",
         lambda w: Req(f"/users/{w.throwaway('31')}/deactivate"), allowed=ADMINS),
    Case("POST", "/users/{username}/unlock", "gudang.jabar, scoped to 32", "manage_users",
         lambda w: Req("/users/gudang.jabar/unlock"), allowed=("admin",), out_of_scope=("admin.dki",)),
]


def stock_of(code: str) -> Callable[[World], Req]:
    def make(world: World) -> Req:
        world.stocked()
        return Req(f"/facilities/{code}/stock")

    return make


def received_at_district(world: World) -> Req:
    sscc = world.dispatched("32", "32.73")
    world.chain.receive_all(sscc)
    return Req(f"/shipments/{sscc}/receipt/correction", RECEIPT | {"reason": "recount"})


def wastage_entry(code: str) -> Callable[[World], Req]:
    def make(world: World) -> Req:
        world.stocked()
        world.chain.app.record_wastage(code, CORONAVAC, "CV001", 1, WastageReason.BROKEN, "", world.chain.by())
        version = world.chain.app.get_stock(code).version
        return Req(f"/facilities/{code}/wastage/{version}/correction", {"doses": 1, "reason": "recount"})

    return make


def wastage(code: str) -> Callable[[World], Req]:
    def make(world: World) -> Req:
        world.stocked()
        return Req(f"/facilities/{code}/wastage",
                   {"gtin": CORONAVAC, "lot_number": "CV001", "doses": 1, "reason": "broken"})

    return make


def count_at(code: str) -> Callable[[World], Req]:
    def make(world: World) -> Req:
        world.stocked()
        return Req(f"/facilities/{code}/counts", {"gtin": CORONAVAC, "lot_number": "CV001", "vials": 7})

    return make


def new_lot(world: World) -> Req:
    return Req("/lots", {"gtin": CORONAVAC, "lot_number": f"M{next(world.fresh)}", "expiry": "2021-12-31",
                         "product": "CoronaVac", "doses_per_vial": 1, "manufacturer": "Sinovac", "vials": 10})


def lot_status(change: str) -> Any:
    """A fresh lot (released just for this case) whose status ``change`` changes."""
    def build(world: World) -> Req:
        lot = f"S{next(world.fresh)}"
        world.chain.release(lot=lot, vials=5)
        if change == "lift-quarantine":
            world.chain.app.quarantine_lot(CORONAVAC, lot, "check", world.chain.by())
        body = {"reason": "BPOM notice", "reference": "BPOM-1"} if change != "lift-quarantine" else {"reason": "ok"}
        return Req(f"/lots/{CORONAVAC}/{lot}/{change}", body)

    return build


def traced(suffix: str) -> Callable[[World], Req]:
    """The recall trace of lot CV001, its read model brought to the log's head."""
    def build(world: World) -> Req:
        world.stocked()
        reflect_the_whole_log(world.client, world.chain)
        return Req(f"/lots/{CORONAVAC}/CV001/{suffix}")

    return build


def with_lot(world: World) -> Req:
    world.stocked()
    return Req(f"/lots/{CORONAVAC}/CV001")


def pick_list(world: World) -> Req:
    world.stocked()
    return Req("/facilities/32.73/pick-list", params={"gtin": CORONAVAC, "vials": 1})


STOCK_CASES = [
    Case("POST", "/lots", "released into Bio Farma's stock", "release_lot", new_lot,
         allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/lots/{gtin}/{lot_number}/quarantine", "a lot, at Bio Farma", "change_lot",
         lot_status("quarantine"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/lots/{gtin}/{lot_number}/lift-quarantine", "a lot, at Bio Farma", "change_lot",
         lot_status("lift-quarantine"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("POST", "/lots/{gtin}/{lot_number}/recall", "a lot, at Bio Farma", "change_lot",
         lot_status("recall"), allowed=("admin",), out_of_scope=("admin.dki",)),
    Case("GET", "/lots/{gtin}/{lot_number}/trace", "a lot's recall trace (counts, no facility)", "read_trace",
         traced("trace"), allowed=EVERYONE),
    Case("GET", "/lots/{gtin}/{lot_number}/trace/recipients", "those vaccinated from a lot (masked)",
         "read_trace", traced("trace/recipients"), allowed=EVERYONE),
    Case("GET", "/lots/{gtin}/{lot_number}", "a lot (no facility)", "read_logistics", with_lot,
         allowed=ADMINS + WAREHOUSES + VACCINATORS + AUDITORS),
    # lot labels (issue 10): printed by warehouses and admins, wherever they are
    Case("GET", "/lots/{gtin}/{lot_number}/label.png", "a lot's vial label", "print_lot_labels",
         lambda w: Req(with_lot(w).url + "/label.png"), check=is_png, allowed=ADMINS + WAREHOUSES),
    Case("GET", "/lots/{gtin}/{lot_number}/label.svg", "a lot's vial label", "print_lot_labels",
         lambda w: Req(with_lot(w).url + "/label.svg"), allowed=ADMINS + WAREHOUSES),
    Case("GET", "/lots/{gtin}/{lot_number}/labels.pdf", "a sheet of a lot's box labels", "print_lot_labels",
         lambda w: Req(with_lot(w).url + "/labels.pdf", params={"count": 3, "serial": "false"}),
         allowed=ADMINS + WAREHOUSES),
    Case("GET", "/facilities/{code}/stock", "DKI Jakarta (31)", "read_logistics", stock_of("31"),
         allowed=("admin", "admin.dki", "gudang.dki") + AUDITORS,
         out_of_scope=("gudang.biofarma", "gudang.jabar", "gudang.bandung") + VACCINATORS),
    Case("GET", "/facilities/{code}/stock", "Jawa Barat (32)", "read_logistics", stock_of("32"),
         allowed=("admin", "gudang.jabar", "auditor"),
         out_of_scope=("admin.dki", "gudang.biofarma", "gudang.bandung", "gudang.dki") + VACCINATORS
         + ("auditor.dki",)),
    Case("GET", "/facilities/{code}/stock", "Puskesmas Sukasari (P327301)", "read_logistics", stock_of(PUSKESMAS),
         allowed=("admin", "gudang.jabar", "gudang.bandung", "vaksinator", "auditor"),
         out_of_scope=("admin.dki", "gudang.biofarma", "gudang.dki", "vaksinator.sukajadi", "auditor.dki")),
    Case("GET", "/facilities/{code}/stock", "Bio Farma", "read_logistics", stock_of(NATIONAL_WAREHOUSE),
         allowed=("admin", "gudang.biofarma", "auditor"),
         out_of_scope=("admin.dki", "gudang.jabar", "gudang.bandung", "gudang.dki") + VACCINATORS
         + ("auditor.dki",)),
    Case("GET", "/facilities/{code}/pick-list", "Kota Bandung (32.73)", "read_logistics", pick_list,
         allowed=("admin", "gudang.jabar", "gudang.bandung", "auditor"),
         out_of_scope=("admin.dki", "gudang.biofarma", "gudang.dki") + VACCINATORS + ("auditor.dki",)),
    Case("POST", "/facilities/{code}/wastage", "at Kota Bandung's store (32.73)", "record_wastage",
         wastage("32.73"), allowed=("gudang.jabar", "gudang.bandung"),
         out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/facilities/{code}/wastage", "at Puskesmas Sukasari", "record_wastage",
         wastage(PUSKESMAS), allowed=("vaksinator",), out_of_scope=("vaksinator.sukajadi",)),
    Case("POST", "/facilities/{code}/wastage/{version}/correction", "an entry at Kota Bandung's store",
         "record_wastage", wastage_entry("32.73"), allowed=("gudang.jabar", "gudang.bandung"),
         out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/facilities/{code}/sessions/{day}/close", "Puskesmas Sukasari's session", "vaccinate",
         lambda w: Req(f"/facilities/{PUSKESMAS}/sessions/2021-01-{next(w.fresh) % 20 + 10:02d}/close",
                       {"discarded_vials": 1}),
         allowed=("vaksinator",), out_of_scope=("vaksinator.sukajadi",)),
    Case("POST", "/facilities/{code}/counts", "at Kota Bandung's store (32.73)", "record_count",
         count_at("32.73"), allowed=("gudang.jabar", "gudang.bandung"),
         out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/facilities/{code}/counts", "at Puskesmas Sukasari", "record_count",
         count_at(PUSKESMAS), allowed=("vaksinator",), out_of_scope=("vaksinator.sukajadi",)),
]

RECEIPT = {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 1}], "arrival_celsius": "5.0"}
KOTA_BANDUNG_STORE = ("gudang.jabar", "gudang.bandung")  # 32.73's store and the province above it
SEES_32_TO_3273 = dict(allowed=("admin",) + KOTA_BANDUNG_STORE + ("auditor",),
                       out_of_scope=("admin.dki", "gudang.biofarma", "gudang.dki") + VACCINATORS + ("auditor.dki",))

SHIPMENT_CASES = [
    Case("POST", "/shipments", "packed at Kota Bandung (32.73) for P327301", "pack",
         lambda w: (w.stocked(), Req("/shipments", {
             "origin": "32.73", "destination": PUSKESMAS,
             "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 1}]}))[1],
         allowed=KOTA_BANDUNG_STORE, out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/shipments", "packed at Bio Farma for DKI Jakarta", "pack",
         lambda w: (w.stocked(), Req("/shipments", {
             "origin": NATIONAL_WAREHOUSE, "destination": "31",
             "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 1}]}))[1],
         allowed=("gudang.biofarma",), out_of_scope=("gudang.jabar", "gudang.bandung", "gudang.dki")),
    Case("GET", "/shipments/{sscc}", "32 -> 32.73, in transit", "read_logistics",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}"), **SEES_32_TO_3273),
    Case("GET", "/shipments/{sscc}/label.png", "32 -> 32.73, in transit", "read_logistics",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/label.png"), check=is_png, **SEES_32_TO_3273),
    Case("GET", "/shipments/{sscc}/label.svg", "32 -> 32.73, in transit", "read_logistics",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/label.svg"), **SEES_32_TO_3273),
    Case("GET", "/shipments/{sscc}/label.pdf", "32 -> 32.73, in transit", "read_logistics",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/label.pdf"), **SEES_32_TO_3273),
    Case("POST", "/scans", "a shipment's label, 32 -> 32.73 (a query)", "read_logistics",
         lambda w: Req("/scans", {"payload": shipment_uri(w.dispatched("32", "32.73"))}), writes=False,
         **SEES_32_TO_3273),
    Case("POST", "/scans", "a vial's lot label (a query)", "read_logistics",
         lambda w: (w.stocked(), Req("/scans", {"payload": lot_uri(CORONAVAC, "CV001", date(2021, 12, 31))}))[1],
         writes=False, allowed=ADMINS + WAREHOUSES + VACCINATORS + AUDITORS),
    Case("POST", "/shipments/{sscc}/dispatch", "packed at 32.73 for P327301", "dispatch",
         lambda w: Req(f"/shipments/{w.packed()}/dispatch"),
         allowed=KOTA_BANDUNG_STORE, out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/shipments/{sscc}/receipt", "32 -> 32.73, received at the district store", "receive",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/receipt", RECEIPT),
         allowed=KOTA_BANDUNG_STORE, out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/shipments/{sscc}/receipt", "32.73 -> P327301, received at the puskesmas", "receive",
         lambda w: Req(f"/shipments/{w.dispatched()}/receipt", RECEIPT),
         allowed=("vaksinator",), out_of_scope=("vaksinator.sukajadi",)),
    Case("POST", "/shipments/{sscc}/handover", "32 -> 32.73, taken over by a store on the way", "hand_over",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/handover", {"carrier": "PT Kurir"}),
         allowed=WAREHOUSES),
    Case("POST", "/shipments/{sscc}/receipt/correction", "32 -> 32.73, received at the district store",
         "correct_receipt", received_at_district, allowed=KOTA_BANDUNG_STORE,
         out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/shipments/{sscc}/temperatures", "32 -> 32.73, by sender or receiver", "record_temperature",
         lambda w: Req(f"/shipments/{w.dispatched('32', '32.73')}/temperatures", {"celsius": "6.5"}),
         allowed=KOTA_BANDUNG_STORE, out_of_scope=("gudang.biofarma", "gudang.dki")),
    Case("POST", "/shipments/{sscc}/temperatures", "32.73 -> P327301, by the receiving puskesmas",
         "record_temperature",
         lambda w: Req(f"/shipments/{w.dispatched()}/temperatures", {"celsius": "6.5"}),
         # vaksinator.sukajadi: neither end is in its scope, so the reading would act at the
         # origin, a district store, where a vaccinator does not work (refused for the role)
         allowed=("vaksinator",), out_of_scope=("gudang.biofarma", "gudang.dki"), elsewhere=KOTA_BANDUNG_STORE),
    Case("POST", "/shipments/{sscc}/temperatures", "32.73 -> P327301, by the sending district store",
         "record_temperature",
         lambda w: Req(f"/shipments/{w.dispatched()}/temperatures", {"celsius": "6.5"}),
         allowed=KOTA_BANDUNG_STORE, elsewhere=tuple(n for n in EVERYONE if n not in KOTA_BANDUNG_STORE)),
    Case("POST", "/shipments/{sscc}/cancel", "packed at 32.73 for P327301", "cancel",
         lambda w: Req(f"/shipments/{w.packed()}/cancel", {"reason": "salah alamat"}),
         allowed=KOTA_BANDUNG_STORE, out_of_scope=("gudang.biofarma", "gudang.dki")),
]

AT_THE_DESK = dict(allowed=("vaksinator",), out_of_scope=("vaksinator.sukajadi",))

DESK_CASES = [
    Case("GET", "/tickets/{ticket}", "booked at P327301", "read_ticket",
         lambda w: Req(f"/tickets/{w.ticket()}"),
         allowed=("admin", "vaksinator", "auditor"), out_of_scope=("admin.dki", "vaksinator.sukajadi", "auditor.dki"),
         check=masked_unless("vaksinator")),
    # the ticket reprinted (issue 10): the code, the puskesmas and the day, never the NIK
    Case("GET", "/tickets/{ticket}/label.png", "booked at P327301", "read_ticket",
         lambda w: Req(f"/tickets/{w.ticket()}/label.png"), check=is_png,
         allowed=("admin", "vaksinator", "auditor"), out_of_scope=("admin.dki", "vaksinator.sukajadi", "auditor.dki")),
    Case("GET", "/tickets/{ticket}/label.svg", "booked at P327301", "read_ticket",
         lambda w: Req(f"/tickets/{w.ticket()}/label.svg"),
         allowed=("admin", "vaksinator", "auditor"), out_of_scope=("admin.dki", "vaksinator.sukajadi", "auditor.dki")),
    Case("POST", "/tickets/{ticket}/screening", "booked at P327301", "screen",
         lambda w: Req(f"/tickets/{w.ticket()}/screening", {"result": "eligible"}), **AT_THE_DESK),
    Case("POST", "/tickets/{ticket}/dose", "screened at P327301", "vaccinate",
         lambda w: Req(f"/tickets/{w.screened()}/dose", {"gtin": CORONAVAC, "lot_number": "CV001"}),
         **AT_THE_DESK),
    Case("POST", "/tickets/{ticket}/aefi", "dose 1 given at P327301", "report_aefi",
         lambda w: Req(f"/tickets/{w.vaccinated()}/aefi", {"severity": "mild", "description": "demam"}),
         **AT_THE_DESK),
    Case("POST", "/tickets/{ticket}/void-dose", "dose 1 given at P327301, on the wrong ticket", "void_dose",
         lambda w: Req(f"/tickets/{w.vaccinated()}/void-dose", {"reason": "wrong ticket"}), **AT_THE_DESK),
    Case("POST", "/tickets/{ticket}/booking", "booked at P327301, moved a day", "move_booking",
         lambda w: Req(f"/tickets/{w.ticket()}/booking", {"facility": PUSKESMAS, "day": JAN_15.isoformat()}),
         **AT_THE_DESK),
]

IN_THE_FIELD = dict(allowed=("petugas",), out_of_scope=("petugas.jaksel",))
WORKLIST_3273 = dict(allowed=("admin", "petugas", "auditor"), out_of_scope=("admin.dki", "petugas.jaksel", "auditor.dki"))

FIELD_CASES = [
    Case("POST", "/registrations/field", "a Kota Bandung health worker", "register_field",
         lambda w: Req("/registrations/field",
                       {"nik": nik(serial=w.targeted()), "facility": PUSKESMAS, "day": JAN_14.isoformat()}),
         **IN_THE_FIELD),
    Case("POST", "/recipients/{recipient_id}/visits", "a Kota Bandung health worker", "visit",
         lambda w: Req(f"/recipients/{w.recipient_id()}/visits", {"unit": "babinsa", "officer": "Serka Budi"}),
         **IN_THE_FIELD),
    Case("POST", "/recipients/{recipient_id}/visit-report", "a Kota Bandung health worker", "visit",
         lambda w: Req(f"/recipients/{w.recipient_id()}/visit-report", {"outcome": "no_phone"}), **IN_THE_FIELD),
    Case("GET", "/recipients/{recipient_id}", "a Kota Bandung health worker", "read_worklist",
         lambda w: Req(f"/recipients/{w.recipient_id()}"), check=masked_unless("petugas"), **WORKLIST_3273),
    Case("GET", "/districts/{code}/worklist", "Kota Bandung (32.73)", "read_worklist",
         lambda w: (w.targeted(), Req("/districts/32.73/worklist"))[1], **WORKLIST_3273),
    Case("GET", "/districts/{code}/worklist", "Kota Jakarta Selatan (31.71)", "read_worklist",
         lambda w: Req("/districts/31.71/worklist"),
         allowed=ADMINS + ("petugas.jaksel",) + AUDITORS, out_of_scope=("petugas",)),
]

REPORT_CASES = [
    Case("GET", "/reports", "the list (no facility)", "read_reports", lambda w: Req("/reports"), allowed=EVERYONE),
    Case("GET", "/reports/{name}", "stock, all rows in the caller's scope", "read_reports",
         lambda w: Req("/reports/stock"), allowed=EVERYONE),
    Case("GET", "/reports/{name}", "stock at DKI Jakarta (31)", "read_reports",
         lambda w: Req("/reports/stock", params={"facility": "31"}),
         allowed=("admin", "admin.dki", "gudang.dki") + AUDITORS,
         out_of_scope=("gudang.biofarma", "gudang.jabar", "gudang.bandung") + VACCINATORS + OFFICERS),
    Case("GET", "/reports/{name}", "shipments at Kota Bandung (32.73)", "read_reports",
         lambda w: Req("/reports/shipments", params={"facility": "32.73", "format": "csv"}),
         allowed=("admin",) + KOTA_BANDUNG_STORE + ("petugas", "auditor"),
         out_of_scope=("admin.dki", "gudang.biofarma", "gudang.dki") + VACCINATORS + ("petugas.jaksel", "auditor.dki")),
    Case("GET", "/dashboard/data", "national figures, no personal data", "read_reports",
         lambda w: Req("/dashboard/data"), allowed=EVERYONE),
    Case("GET", "/", "the dashboard page, by the session cookie", "read_reports",
         lambda w: Req("/"), allowed=EVERYONE, cookie=True, check=is_html),
]


def gateway_callbacks(world: World) -> list[str]:
    """The provider's callbacks take its shared secret, not a user's token: everyone else gets 401."""
    problems = []
    ussd = {"sessionId": "ATUid_1", "serviceCode": "*119#", "phoneNumber": "+6281200000001", "text": ""}
    report = {"id": "abcdef123456-" + "0" * 32, "status": "Sent"}  # intermediate: acknowledged, not recorded
    for url, form in (("/ussd", ussd), ("/sms/delivery-reports", report)):
        callers = [(ANONYMOUS, {}), ("a guessed secret", {"X-Gateway-Secret": "guess"})]
        callers += [(who, world.headers(who)) for who in EVERYONE]
        for who, headers in callers:
            before = world.position()
            answer = world.client.post(url, data=form, headers=headers)
            world.checks += 1
            if answer.status_code != 401:
                problems.append(f"POST {url} as {who}: {answer.status_code} {answer.text[:200]}, expected 401")
            if world.position() != before:
                problems.append(f"POST {url} as {who}: refused, yet the log moved")
        answer = world.client.post(url, data=form, headers=GATEWAY)
        world.checks += 1
        if answer.status_code != 200:
            problems.append(f"POST {url} with the gateway's secret: {answer.status_code} {answer.text[:200]}")
    return problems


def logout(world: World) -> list[str]:
    """Logout needs the browser's session and the page's CSRF token; without them it writes nothing."""
    problems = []
    leaving = world.new_username()
    _, session, _ = world.chain.app.add_user(leaving, Role.WAREHOUSE, "32", world.chain.by(actor="cli:test"))
    csrf = hmac.new(world.client.app.state.csrf_secret, session.encode(), hashlib.sha256).hexdigest()
    attempts = [(ANONYMOUS, {}), (FORGED, world.headers(FORGED, cookie=True))]
    attempts += [(who, world.headers(who)) for who in EVERYONE]  # a bearer token is not a browser session
    attempts += [("a session without its CSRF token", {"Cookie": f"{SESSION_COOKIE}={session}"})]
    for who, headers in attempts:
        before = world.position()
        answer = world.client.post("/logout", headers=headers, follow_redirects=False)
        world.checks += 1
        if answer.status_code != 303 or world.position() != before:
            problems.append(f"POST /logout as {who}: {answer.status_code}, wrote {world.position() - before}")
        world.client.cookies.clear()
    before = world.position()
    answer = world.client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False,
                               headers={"Cookie": f"{SESSION_COOKIE}={session}", CSRF_HEADER: csrf})
    world.checks += 1
    world.client.cookies.clear()
    if answer.status_code != 303 or world.position() == before:
        problems.append(f"POST /logout with session and CSRF token: {answer.status_code}, wrote nothing")
    still = world.client.get("/reports", headers={"Authorization": f"Bearer {session}"})
    if still.status_code != 401:
        problems.append(f"the logged-out session still works: {still.status_code}")
    for who in EVERYONE:  # nobody else was logged out
        if world.client.get("/reports", headers=world.headers(who)).status_code != 200:
            problems.append(f"POST /logout logged {who} out")
    return problems


def public_routes(world: World) -> list[str]:
    """The public routes answer without credentials (registration with its own proofs)."""
    problems = []
    for url in ("/health", "/login", "/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect", "/static/rantai.css"):
        answer = world.client.get(url)
        world.checks += 1
        if answer.status_code != 200:
            problems.append(f"GET {url} anonymously: {answer.status_code}")
    serial = world.targeted()
    body = {"nik": nik(serial=serial), "phone_last_four": f"{serial:04d}", "facility": PUSKESMAS,
            "day": JAN_14.isoformat()}
    for url, expected in (("/registrations", 201), ("/registrations/booking", 200)):
        answer = world.client.post(url, json=body | ({"day": JAN_15.isoformat()} if "booking" in url else {}))
        world.checks += 1
        if answer.status_code != expected:
            problems.append(f"POST {url} anonymously: {answer.status_code} {answer.text[:200]}")
    return problems


CUSTOM_CASES = [
    Custom((("POST", "/ussd"), ("POST", "/sms/delivery-reports")), "the gateway's shared secret only",
           gateway_callbacks),
    Custom((("POST", "/logout"),), "the browser's session and CSRF token only", logout),
]

# Staff app, the puskesmas desks (issue 11, helper H2): pages read by the browser's session.
# Without one a page goes to the login page (303); a role or scope it is not for gets a 403
# page; desk 1's NIK search answers 404 alike for "unknown" and "booked elsewhere".
def page_answers(world: World, method: str, url: str, expected: dict[str, int],
                 form: Callable[[str], dict[str, str]] | None = None, files: dict[str, Any] | None = None) -> list[str]:
    problems = []
    for who in (ANONYMOUS, FORGED, *EVERYONE):
        want = 303 if who in NOBODY else expected.get(who, 403)
        before = world.position()
        data = form(who) if form and who not in NOBODY else None
        answer = world.client.request(method, url, data=data, files=files, headers=world.headers(who, cookie=True),
                                      follow_redirects=False)
        world.checks += 1
        world.client.cookies.clear()
        if answer.status_code != want:
            problems.append(f"{method} {url} as {who}: {answer.status_code}, expected {want}")
        elif want == 303 and who in NOBODY and not answer.headers["location"].startswith("/login"):
            problems.append(f"{method} {url} as {who}: sent to {answer.headers['location']}, not the login page")
        if want != 200 and world.position() != before:  # (an unmasked read is recorded: a 200 may write)
            problems.append(f"{method} {url} as {who}: refused, yet the log moved {world.position() - before}")
    return problems


def desk_pages(world: World) -> list[str]:
    serial = world.targeted()
    ticket = world.chain.app.register(nik(serial=serial), f"{serial:04d}", Channel.WEB, PUSKESMAS,
                                      JAN_14).result["ticket"]  # booked at P327301

    def search(who: str) -> dict[str, str]:
        csrf = hmac.new(world.client.app.state.csrf_secret, world.tokens[who].encode(), hashlib.sha256).hexdigest()
        return {"code": nik(serial=serial), "csrf_token": csrf}

    return (page_answers(world, "GET", "/meja", dict.fromkeys(VACCINATORS, 200))
            + page_answers(world, "GET", f"/meja/tiket/{ticket}", dict.fromkeys(("admin", "vaksinator", "auditor"), 200))
            + page_answers(world, "POST", "/meja/cari", {"vaksinator": 303, "vaksinator.sukajadi": 404}, search))


# The public registration page (H2): open to anyone, with the API's proofs and throttles
# (tests/web/test_public.py checks them).
PUBLIC |= {("GET", "/daftar"), ("POST", "/daftar")}

def district_pages(world: World) -> list[str]:
    person = world.recipient_id()  # a target of Kota Bandung (32.73)
    return (page_answers(world, "GET", "/distrik", dict.fromkeys(OFFICERS, 200))
            + page_answers(world, "GET", f"/distrik/orang/{person}", {"petugas": 200}))


# Staff app, the warehouse pages (issue 11, helper H1): read by the browser's session, each
# showing a facility the account's scope covers (Kota Bandung here) or a 403 page; the scan
# screens are for the roles that run their command. The language switch and the service
# worker are open to anyone; /home sends each account to its own home page.
PUBLIC |= {("GET", "/bahasa"), ("GET", "/sw.js")}
BANDUNG_READERS = dict.fromkeys(("admin", "gudang.jabar", "gudang.bandung", "auditor"), 200)


def warehouse_pages(world: World) -> list[str]:
    sscc = world.dispatched()  # 32.73 -> P327301
    problems = []
    for page in ("/gudang", "/gudang/kemas", "/gudang/kiriman", "/gudang/hitung"):
        problems += page_answers(world, "GET", f"{page}?f=32.73", BANDUNG_READERS)
    problems += page_answers(world, "GET", f"/gudang/kiriman/{sscc}", {**BANDUNG_READERS, "vaksinator": 200})
    problems += page_answers(world, "GET", "/pindai/terima", dict.fromkeys(WAREHOUSES + VACCINATORS, 200))
    problems += page_answers(world, "GET", "/pindai/kirim", dict.fromkeys(WAREHOUSES, 200))
    problems += page_answers(world, "GET", "/home", dict.fromkeys(EVERYONE, 303))
    return problems


WAREHOUSE_PAGES = [
    Custom((("GET", "/gudang"), ("GET", "/gudang/kemas"), ("GET", "/gudang/kiriman"), ("GET", "/gudang/hitung"),
            ("GET", "/gudang/kiriman/{sscc}"), ("GET", "/pindai/{action}"), ("GET", "/home")),
           "the warehouse's pages", warehouse_pages),
    Case("GET", "/session", "who the browser is, and its CSRF token", None, lambda w: Req("/session"),
         allowed=EVERYONE, cookie=True),
]


def admin_pages(world: World) -> list[str]:
    """Admins read these pages; without the page's CSRF token nobody (admins included) starts a job."""
    world.stocked()
    job = start_job(world.chain.app, "import_targets", "import", "a finished list", 0, world.chain.by(actor="admin"))
    forged = {"csrf_token": "forged", "phase": "1", "source": "x", "districts": "32.73", "deadline": "2021-01-13",
              "days": "2021-01-14"}
    target_list = {"file": ("s.csv", b"nik,name,phone,category,district,workplace\n", "text/csv")}
    return (page_answers(world, "GET", "/admin", dict.fromkeys(ADMINS, 200))
            + page_answers(world, "GET", f"/admin/lot?gtin={CORONAVAC}&lot=CV001", dict.fromkeys(ADMINS, 200))
            + page_answers(world, "GET", f"/admin/tugas/{job.id.hex}", dict.fromkeys(ADMINS, 200))
            + page_answers(world, "POST", "/admin/impor", {}, lambda who: forged, target_list)
            + page_answers(world, "POST", "/admin/blast", {}, lambda who: forged)
            + page_answers(world, "GET", "/admin/fasilitas?kode=32.73", dict.fromkeys(ADMINS, 200))
            + page_answers(world, "POST", "/admin/fasilitas", {},
                           lambda who: forged | {"code": "P327388", "name": "Puskesmas X", "kind": "puskesmas"}))


DESK_PAGES = [Custom((("GET", "/meja"), ("GET", "/meja/tiket/{ticket}"), ("POST", "/meja/cari")),
                     "the puskesmas desks' pages", desk_pages),
              Custom((("GET", "/distrik"), ("GET", "/distrik/orang/{recipient_id}")),
                     "the district officer's pages", district_pages),
              Custom((("GET", "/admin"), ("GET", "/admin/lot"), ("GET", "/admin/tugas/{job_id}"),
                      ("POST", "/admin/impor"), ("POST", "/admin/blast"), ("GET", "/admin/fasilitas"),
                      ("POST", "/admin/fasilitas")), "the campaign admin's pages", admin_pages)]


# Audit (issue 12, history and as-of): auditors and admins read histories, past states and past
# figures inside their scope; nobody else does, and nothing is written.

AUDIT_READERS = dict(allowed=("admin", "auditor"), out_of_scope=("admin.dki", "auditor.dki"))

HISTORY_CASES = [
    Case("GET", "/audit/history/{kind}/{key}", "a shipment 32.73 -> P327301", "read_history",
         lambda w: Req(f"/audit/history/shipment/{w.dispatched()}"), **AUDIT_READERS),
    Case("GET", "/audit/history/{kind}/{key}", "DKI's stock card (31)", "read_history",
         lambda w: Req("/audit/history/stock/31"), allowed=ADMINS + AUDITORS),
    Case("GET", "/audit/state/{kind}/{key}", "a shipment 32.73 -> P327301 at version 1", "read_history",
         lambda w: Req(f"/audit/state/shipment/{w.dispatched()}", params={"version": 1}), **AUDIT_READERS),
    Case("GET", "/audit/dashboard", "the dashboard as of the log's position", "read_history",
         lambda w: Req("/audit/dashboard", params={"position": w.position()}), allowed=ADMINS + AUDITORS),
    Case("GET", "/audit/reports/{name}", "shipments as of 3 January 2021", "read_history",
         lambda w: Req("/audit/reports/shipments", params={"at": "2021-01-03T23:00:00+07:00"}),
         allowed=ADMINS + AUDITORS),
]

# Audit (issue 12, exports): an EPCIS document of a shipment and a FHIR bundle of a puskesmas's doses
# (NIKs inside: each export recorded as a read of personal data), for admins and auditors in scope.


def is_media(kind: str) -> Callable[[World, str, Any], str | None]:
    def check(world: World, who: str, answer: Any) -> str | None:
        return None if answer.headers["content-type"].startswith(kind) else f"not {kind}"

    return check


def doses_at_sukasari(world: World) -> Req:
    world.vaccinated()
    return Req("/audit/export/fhir", params={"facility": PUSKESMAS})


EXPORT_CASES = [
    Case("GET", "/audit/export/epcis", "a shipment 32.73 -> P327301", "export_epcis",
         lambda w: Req("/audit/export/epcis", params={"shipment": w.dispatched()}), **AUDIT_READERS,
         check=is_media("application/ld+json")),
    Case("GET", "/audit/export/fhir", "the doses given at P327301", "export_fhir", doses_at_sukasari,
         **AUDIT_READERS, check=is_media("application/fhir+json")),
]

# Audit (issue 12, the tamper-evident log): the latest signed checkpoint (of the whole log: any
# admin or auditor) and an inclusion proof of one event of what the caller may see the history of.


def sealed_and_signed(world: World) -> str:
    """A dispatched shipment (32.73 -> P327301), the log sealed and a checkpoint signed (a throwaway key)."""
    from projections.checkpoints import checkpoint_signer, new_signing_key, signing_key
    from projections.seal import Sealer, open_seal

    sscc = world.dispatched()
    store = open_seal(dict(world.chain.app.env))
    try:
        Sealer(store, signer=checkpoint_signer("test/log", signing_key(new_signing_key()))).checkpoint()
    finally:
        store.close()
    return sscc


SEAL_CASES = [
    Case("GET", "/audit/checkpoint", "the latest checkpoint", "read_history",
         lambda w: (sealed_and_signed(w), Req("/audit/checkpoint"))[1], allowed=ADMINS + AUDITORS,
         check=is_media("text/plain")),
    Case("GET", "/audit/proof/{kind}/{key}", "the dispatch of a shipment 32.73 -> P327301", "read_history",
         lambda w: Req(f"/audit/proof/shipment/{sealed_and_signed(w)}", params={"version": 2}), **AUDIT_READERS),
]

GROUPS: dict[str, list[Case | Custom]] = {
    "accounts": ACCOUNT_CASES,
    "stock": STOCK_CASES,
    "shipments": SHIPMENT_CASES,
    "desk": DESK_CASES,
    "field": FIELD_CASES + [Custom((), "public routes answer anonymously", public_routes)],
    "reports": REPORT_CASES + CUSTOM_CASES,
    "audit-history": HISTORY_CASES,
    "audit-exports": EXPORT_CASES,
    "audit-seal": SEAL_CASES,
    "desk-pages": DESK_PAGES,
    "warehouse-pages": WAREHOUSE_PAGES,
}
ALL_CASES = [case for cases in GROUPS.values() for case in cases]


def group_params() -> list[Any]:
    """A store per group; a case with a known bug gets its own store, as a strict xfail."""
    params = []
    for name, cases in GROUPS.items():
        params.append(pytest.param([c for c in cases if not getattr(c, "bug", None)], id=name))
        for case in cases:
            if getattr(case, "bug", None):
                params.append(pytest.param([case], id=f"{name}-bug:{case.route}",
                                           marks=pytest.mark.xfail(reason=case.bug, strict=True)))
    return params


# Running a case

def route_pattern(route: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route)) + "$")


def role_refusal(who: str) -> str:
    return rf"^Your account \({ROLES[who][0].value}\) (may not |does not work at )"


def scope_refusal(who: str) -> str:
    return rf"^Your account may .+ only at {re.escape(ROLES[who][1])} and below"


def send(world: World, case: Case, req: Req, who: str) -> Any:
    world.checks += 1
    return world.client.request(case.method, req.url, json=req.json, params=req.params,
                                headers=world.headers(who, case.cookie), follow_redirects=False)


def run_case(world: World, case: Case) -> list[str]:
    problems = []
    req = case.make(world)
    if not route_pattern(case.route).match(req.url):
        return [f"{case.id}: the request {req.url} is not the route {case.route}"]
    refused = [(who, 401) for who in NOBODY]
    refused += [(who, 403) for who in case.wrong_role + case.out_of_scope]
    for who, expected in refused:
        where = f"{case.method} {req.url} [{case.what}] as {who}"
        before = world.position()
        answer = send(world, case, req, who)
        if world.position() != before:
            problems.append(f"{where}: refused or not, the log moved {world.position() - before} events")
        if answer.status_code != expected:
            problems.append(f"{where}: {answer.status_code} {answer.text[:300]}; expected {expected}")
            continue
        if expected == 401:
            if answer.headers.get("WWW-Authenticate") != "Bearer":
                problems.append(f"{where}: 401 without 'WWW-Authenticate: Bearer'")
            continue
        message = answer.json().get("message", "")
        why = role_refusal(who) if who in case.wrong_role else scope_refusal(who)
        if "Your account" not in message or not re.search(why, message):
            kind = "role" if who in case.wrong_role else "scope"
            problems.append(f"{where}: 403 does not give the {kind} as the reason: {message!r}")
    for i, who in enumerate(case.allowed):
        this = req if i == 0 else case.make(world)  # the first success on what the refusals left untouched
        where = f"{case.method} {this.url} [{case.what}] as {who}"
        before = world.position()
        answer = send(world, case, this, who)
        if not 200 <= answer.status_code < 300:
            problems.append(f"{where}: {answer.status_code} {answer.text[:300]}; expected 2xx")
            continue
        moved = world.position() != before
        if case.is_write and not moved:
            problems.append(f"{where}: {answer.status_code}, yet nothing was written")
        if not case.is_write and case.method != "GET" and moved:
            problems.append(f"{where}: a query wrote {world.position() - before} events")
        if case.check and (problem := case.check(world, who, answer)):
            problems.append(f"{where}: {problem}")
    return problems


# The tests

@pytest.fixture
def world(chain: ColdChain, api: TestClient, accounts: Accounts) -> World:
    chain.app.register_facility(OTHER_PUSKESMAS, "Puskesmas Sukajadi", FacilityKind.PUSKESMAS, "32.73",
                                chain.by(actor="admin"))
    tokens = dict(accounts.tokens)
    for name, (role, scope) in EXTRA.items():
        _, tokens[name], _ = chain.app.add_user(name, role, scope, chain.by(actor="cli:test"))
    return World(chain, api, tokens)


@pytest.mark.parametrize("cases", group_params())
def test_every_route_answers_every_account_as_declared(world: World, cases: list[Case | Custom]) -> None:
    problems = []
    for case in cases:
        problems += run_case(world, case) if isinstance(case, Case) else case.run(world)
    assert not problems, f"{len(problems)} of {world.checks} checks went wrong:\n" + "\n".join(problems)


def app_routes() -> set[tuple[str, str]]:
    """(method, path) of every route the app serves, from its router and its OpenAPI description."""
    app = create_app()
    try:
        from fastapi.routing import iter_route_contexts

        declared = [(c.path, c.methods) for c in iter_route_contexts(app.routes)]
    except ImportError:  # older FastAPI: the routes are flat
        declared = [(r.path, getattr(r, "methods", None)) for r in app.routes]
    routes = set()
    for path, methods in declared:
        path = path.replace(":path}", "}")  # a converter in the route, not in the OpenAPI path
        routes |= {(m, path) for m in methods - {"HEAD"}} if methods else {("MOUNT", path)}
    for path, operations in app.openapi()["paths"].items():
        routes |= {(method.upper(), path) for method in operations}
    return routes


def covered() -> set[tuple[str, str]]:
    routes = set()
    for case in ALL_CASES:
        routes |= {(case.method, case.route)} if isinstance(case, Case) else set(case.routes)
    return routes


def test_every_route_has_a_case() -> None:
    routes = app_routes()
    assert len(routes) > 40, f"the route listing looks broken: {sorted(routes)}"
    missing = routes - PUBLIC - covered()
    assert not missing, f"routes without a case in the authorization matrix: {sorted(missing)}"
    stale = (covered() | PUBLIC) - routes
    assert not stale, f"cases for routes the app no longer has: {sorted(stale)}"


def test_every_case_places_every_account_once() -> None:
    for case in ALL_CASES:
        if not isinstance(case, Case):
            continue
        listed = list(case.allowed) + list(case.out_of_scope) + list(case.elsewhere) + list(case.wrong_role)
        assert sorted(listed) == sorted(EVERYONE), case.id
        if case.permission is None:
            continue
        permission = POLICY[case.permission]
        for who in case.allowed + case.out_of_scope:  # refused by scope alone: the role may do it
            assert ROLES[who][0] in permission.roles, f"{case.id}: {who}'s role may not {permission.doing}"
        assert permission.writes == case.is_write, case.id
    for route in {(c.method, c.route) for c in ALL_CASES if isinstance(c, Case)}:
        checked = [c for c in ALL_CASES if isinstance(c, Case) and (c.method, c.route) == route]
        for who in {w for c in checked for w in c.elsewhere}:
            assert any(who in c.allowed + c.out_of_scope + c.wrong_role for c in checked), (route, who)


def test_the_auditor_runs_no_command_anywhere() -> None:
    assert WORKS_AT[AUDITOR] == frozenset()
    assert all(not p.writes for p in POLICY.values() if AUDITOR in p.roles)
    writes = [case for case in ALL_CASES if isinstance(case, Case) and case.is_write]
    for case in writes:
        assert not set(AUDITORS) & set(case.allowed + case.out_of_scope), f"{case.id}: an auditor may write"
    for route in {(case.method, case.route) for case in writes}:
        refused = {who for case in writes if (case.method, case.route) == route for who in case.wrong_role}
        assert set(AUDITORS) <= refused, f"{route}: no case refuses the auditors for their role"
    # ...and reads only inside its scope: DKI's auditor sees DKI's stock and not Jawa Barat's
    stock = {case.what: case for case in STOCK_CASES if case.route == "/facilities/{code}/stock"}
    assert "auditor.dki" in stock["DKI Jakarta (31)"].allowed
    assert "auditor.dki" in stock["Jawa Barat (32)"].out_of_scope

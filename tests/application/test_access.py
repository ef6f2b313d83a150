"""Who may do what, where and when: the one check in application/access.py, on both backends."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from application.access import POLICY, Caller
from application.errors import Forbidden, OutsideTimeWindow
from application.logistics import NATIONAL_WAREHOUSE
from domain.facility import FacilityKind
from domain.idempotency import KeyReused
from domain.recipient import Channel, NotScreenedEligible, ScreeningResult
from domain.shipment import ReceiptLine
from domain.user import Role
from tests.application.test_recipients import import_rows
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, refused, target_row

WITA = timezone(timedelta(hours=8))
MAKASSAR_PUSKESMAS = "P737101"


def test_scopes_follow_the_facility_tree(chain: ColdChain) -> None:
    app = chain.app
    assert app.within("national", "P327301")
    assert app.within("32", "32") and app.within("32", "32.73") and app.within("32", "P327301")
    assert app.within("32.73", "P327301") and not app.within("32.73", "32")
    assert not app.within("32", "31.71") and not app.within("P327301", "32.73")
    # Bio Farma's staff act at Bio Farma alone, although the provinces sit under it on the routes
    assert app.within("BIOFARMA", "BIOFARMA") and not app.within("BIOFARMA", "32")
    assert not app.within("32", "BIOFARMA") and not app.within("32", "nowhere")


def test_the_auditor_runs_no_command_anywhere(chain: ColdChain) -> None:
    auditor = chain.user(Role.AUDITOR, "national", "bpk")
    for command, permission in POLICY.items():
        if permission.writes:
            with pytest.raises(Forbidden, match="auditor"):
                chain.app.check_permission(command, auditor, "32")


def test_a_role_acts_only_at_the_kind_of_facility_it_works_at(chain: ColdChain) -> None:
    chain.release()
    # a provincial warehouse user may not receive at a puskesmas below the province
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.receive_all(sscc)
    sscc = chain.ship("32", "32.73", ("CV001", 5))
    chain.receive_all(sscc)
    sscc = chain.ship("32.73", "P327301", ("CV001", 5))
    with refused(chain.app, Forbidden, "does not work at a puskesmas"):
        chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.user(Role.WAREHOUSE, "32"))
    # while the puskesmas's own vaccinator may
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.user(Role.VACCINATOR, "P327301"))
    assert chain.on_hand("P327301") == 5


def test_a_devices_time_is_accepted_only_inside_the_window(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    user = chain.user(Role.WAREHOUSE, NATIONAL_WAREHOUSE)
    with refused(chain.app, OutsideTimeWindow, "in the future"):
        chain.app.dispatch(sscc, user.at(chain.now + timedelta(minutes=10)))
    with refused(chain.app, OutsideTimeWindow, "72 hours"):
        chain.app.dispatch(sscc, user.at(chain.now - timedelta(days=4)))
    an_hour_ago = chain.now - timedelta(hours=1)
    chain.app.dispatch(sscc, user.at(an_hour_ago))
    assert chain.app.get_shipment(sscc).dispatched_at == an_hour_ago.isoformat()


def test_idempotency_keys_belong_to_their_user_and_request(chain: ColdChain) -> None:
    chain.release()
    a = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    b = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    sari, budi = chain.user(Role.WAREHOUSE, NATIONAL_WAREHOUSE, "sari"), chain.user(Role.WAREHOUSE, NATIONAL_WAREHOUSE, "budi")
    chain.app.dispatch(a, sari, key="1")
    with refused(chain.app, KeyReused, "another request"):
        chain.app.dispatch(b, sari, key="1")
    assert chain.app.dispatch(a, sari, key="1").repeated  # the same request: the first answer
    chain.app.dispatch(b, budi, key="1")  # budi's key "1" is not sari's
    assert chain.app.get_shipment(b).status.value == "dispatched"


@pytest.fixture
def makassar(chain: ColdChain) -> ColdChain:
    """A puskesmas in Kota Makassar (WITA, UTC+8) with vaccine and a targeted nurse."""
    admin = chain.by(actor="admin")
    for code, name, kind, parent in (("73", "SULAWESI SELATAN", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE),
                                     ("73.71", "KOTA MAKASSAR", FacilityKind.DISTRICT_OFFICE, "73"),
                                     (MAKASSAR_PUSKESMAS, "Puskesmas Mariso", FacilityKind.PUSKESMAS, "73.71")):
        chain.app.register_facility(code, name, kind, parent, admin)
    chain.release()
    for origin, destination in ((NATIONAL_WAREHOUSE, "73"), ("73", "73.71"), ("73.71", MAKASSAR_PUSKESMAS)):
        chain.receive_all(chain.ship(origin, destination, ("CV001", 5)))
    import_rows(chain.app, [target_row(1, nik=nik(kecamatan="737101", serial=1), district="73.71",
                                       workplace=MAKASSAR_PUSKESMAS)], admin)
    from tests.application.test_recipients import open_phase

    open_phase(chain)
    return chain


def test_a_wita_puskesmas_counts_its_day_in_wita(makassar: ColdChain) -> None:
    app = makassar.app
    ticket = app.register(nik(kecamatan="737101", serial=1), "0001", Channel.WEB, MAKASSAR_PUSKESMAS,
                          datetime(2021, 1, 14).date()).result["ticket"]
    vaccinator = makassar.user(Role.VACCINATOR, MAKASSAR_PUSKESMAS, "wulan")
    # Screened at 00:30 WITA on 14 January (23:30 WIB on the 13th) ...
    makassar.now = datetime(2021, 1, 14, 0, 30, tzinfo=WITA)
    app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, vaccinator)
    # ... the dose at 01:30 WITA is the same day in Makassar (although WIB has changed day meanwhile)
    makassar.now = datetime(2021, 1, 14, 1, 30, tzinfo=WITA)
    assert app.vaccinate(ticket, CORONAVAC, "CV001", "wulan", vaccinator).result["dose"] == "1"
    # while a screening at 23:50 WITA does not count for a dose after midnight WITA
    second = app.find_by_nik(nik(kecamatan="737101", serial=1)).ticket
    makassar.now = datetime(2021, 1, 28, 23, 50, tzinfo=WITA)
    app.screen(second, ScreeningResult.ELIGIBLE, "", None, vaccinator)
    makassar.now = datetime(2021, 1, 29, 0, 10, tzinfo=WITA)
    with refused(app, NotScreenedEligible):
        app.vaccinate(second, CORONAVAC, "CV001", "wulan", vaccinator)
    events = list(app.repository.event_store.get(app.recipient_id(nik(kecamatan="737101", serial=1))))
    assert {e.by.zone for e in events if type(e).__name__ in ("Screened", "Vaccinated")} == {"Asia/Makassar"}


def test_vaccinators_act_only_for_people_booked_at_their_own_puskesmas(makassar: ColdChain) -> None:
    app = makassar.app
    ticket = app.register(nik(kecamatan="737101", serial=1), "0001", Channel.WEB, MAKASSAR_PUSKESMAS,
                          datetime(2021, 1, 14).date()).result["ticket"]
    makassar.now = datetime(2021, 1, 14, 9, tzinfo=WITA)
    before = last_position(app)
    with refused(app, Forbidden, "booked at P737101"):
        app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, makassar.user(Role.VACCINATOR, "P327301"))
    assert last_position(app) == before
    with pytest.raises(Forbidden):
        app.ticket_for(ticket, makassar.user(Role.VACCINATOR, "P327301"))
    assert app.ticket_for(ticket, makassar.user(Role.VACCINATOR, MAKASSAR_PUSKESMAS)).facility == MAKASSAR_PUSKESMAS


def test_the_operator_is_recorded_as_itself(chain: ColdChain) -> None:
    chain.release()
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    chain.app.dispatch(sscc, Caller.operator("cli:root"))
    last = list(chain.app.repository.event_store.get(chain.app.get_shipment(sscc).id))[-1]
    assert (last.by.actor, last.by.role, last.by.facility) == ("cli:root", "operator", NATIONAL_WAREHOUSE)

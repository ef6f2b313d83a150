"""The puskesmas desks (issue 11, item 4): over HTTP on both backends (who sees what; the NIK
never in a URL), and in headless Chromium: a dose confirmed from the ticket's and the vial's scans."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from domain.calendar import WIB, local_day
from domain.recipient import ScreeningResult
from domain.user import Role
from interfaces.scanner.digital_link import lot_uri
from tests.api.conftest import accounts, api  # noqa: F401 - fixtures
from tests.scenario import ColdChain, nik, reflect_the_whole_log
from tests.web.clinic_world import CORONAVAC, PUSKESMAS, clinic_today, register_today


@pytest.fixture
def desk(chain: ColdChain, api: TestClient, accounts) -> TestClient:  # noqa: F811
    chain.release(vials=100)
    clinic_today(chain)
    return api


def session_as(api: TestClient, chain: ColdChain, name: str) -> str:  # noqa: F811
    """Log ``name`` in with a password (added here) and answer the page's CSRF token."""
    roles = {"vaksinator.web": (Role.VACCINATOR, PUSKESMAS), "petugas.web": (Role.DISTRICT_OFFICER, "32.73"),
             "vaksinator.dki": (Role.VACCINATOR, "31.71")}
    role, scope = roles[name]
    chain.app.add_user(name, role, scope, chain.by(actor="cli:test"), password="rahasia-" + name)
    api.cookies.clear()
    answer = api.post("/login", data={"username": name, "password": "rahasia-" + name}, follow_redirects=False)
    assert answer.status_code == 303
    return api.get("/session").json()["csrf"]


def test_desk_1_finds_a_booking_by_nik_from_the_forms_body_and_never_puts_it_in_a_url(
        chain: ColdChain, desk: TestClient) -> None:
    ticket = register_today(chain)
    csrf = session_as(desk, chain, "vaksinator.web")
    found = desk.post("/meja/cari", data={"code": nik(serial=1), "csrf_token": csrf}, follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"] == f"/meja/tiket/{ticket}"
    page = desk.get(found.headers["location"])
    assert page.status_code == 200
    assert "Siti Aminah 1" in page.text and nik(serial=1) in page.text  # unmasked at the person's own puskesmas
    assert page.headers["cache-control"] == "no-store"  # so no copy of it is kept offline
    assert "Meja 2 · Skrining" in page.text
    # typed with spaces or as the ticket's code: the same page
    assert desk.post("/meja/cari", data={"code": ticket.lower(), "csrf_token": csrf},
                     follow_redirects=False).headers["location"] == f"/meja/tiket/{ticket}"


def test_desk_1_answers_the_same_for_an_unknown_nik_and_one_booked_elsewhere(
        chain: ColdChain, desk: TestClient) -> None:
    register_today(chain)
    csrf = session_as(desk, chain, "vaksinator.dki")
    elsewhere = desk.post("/meja/cari", data={"code": nik(serial=1), "csrf_token": csrf})
    unknown = desk.post("/meja/cari", data={"code": nik(serial=9), "csrf_token": csrf})
    assert elsewhere.status_code == unknown.status_code == 404
    assert "Tidak ada pendaftaran dengan kode itu" in elsewhere.text
    assert elsewhere.text.replace(nik(serial=1), "") == unknown.text.replace(nik(serial=9), "")
    assert nik(serial=1) not in elsewhere.text and "Siti" not in elsewhere.text
    assert desk.post("/meja/cari", data={"code": nik(serial=1), "csrf_token": "forged"}).status_code == 403


def test_the_desks_are_for_vaccinators_and_show_todays_session(chain: ColdChain, desk: TestClient) -> None:
    ticket = register_today(chain)
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, chain.by(PUSKESMAS))
    chain.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", chain.by(PUSKESMAS))
    reflect_the_whole_log(desk, chain)
    session_as(desk, chain, "vaksinator.web")
    home = desk.get("/meja").text
    counts = {key: home.split(f'data-count="{key}">')[1].split("<")[0] for key in
              ("booked", "screened", "vaccinated", "vials_opened")}
    assert counts == {"booked": "1", "screened": "1", "vaccinated": "1", "vials_opened": "1"}
    after = desk.get(f"/meja/tiket/{ticket}").text
    assert "Observasi 30 menit" in after and 'data-stage="observe"' in after
    session_as(desk, chain, "petugas.web")
    assert desk.get("/meja").status_code == 403
    assert desk.get(f"/meja/tiket/{ticket}").status_code == 403


# In the browser ------------------------------------------------------------------------------

def test_a_dose_is_confirmed_from_the_tickets_and_the_vials_scans(site, phone, shot) -> None:
    # Given a puskesmas with vaccine and a person booked for today
    chain = site.chain
    clinic_today(chain)
    ticket = register_today(chain)
    page = phone.new_page()
    site.login(page, "vaksinator", "/meja")
    assert page.url.endswith("/meja")
    shot(page, "desk-1")
    # When desk 1 scans the ticket (a handheld scanner types it and presses Enter)
    page.fill("#ticket-scan-text", ticket)
    page.press("#ticket-scan-text", "Enter")
    page.wait_for_url(f"**/meja/tiket/{ticket}")
    assert "Siti Aminah 1" in page.inner_text("#booking")
    # and desk 2 screens: every answer no, vaccinate
    shot(page, "desk-2")
    page.click("#screening button[type=submit]")
    page.wait_for_selector("#vial-scan")
    # and desk 3 scans the vial and confirms the dose
    page.fill("#vial-scan-text", lot_uri(CORONAVAC, "CV001", chain.app.get_lot(CORONAVAC, "CV001").expiry))
    page.press("#vial-scan-text", "Enter")
    page.wait_for_selector("#dose-form:not([hidden])")
    assert "CV001" in page.inner_text("#vial-text")
    shot(page, "desk-3")
    page.click("#confirm-dose")
    page.wait_for_selector("#observe:not([hidden])")
    shot(page, "desk-4")
    # Then the dose is recorded once, from that lot, and the observation timer runs
    recipient = chain.app.find_by_nik(nik(serial=1))
    assert [(d.number, d.lot_number, d.facility) for d in recipient.doses] == [(1, "CV001", PUSKESMAS)]
    assert page.inner_text("#timer").startswith(("30:00", "29:"))
    assert chain.app.get_stock(PUSKESMAS).doses_of(f"{CORONAVAC}/CV001") == 19
    # and desk 4 reports an AEFI seen during the observation
    page.select_option("#severity", "mild")
    page.fill("#description", "demam ringan, pusing")
    with page.expect_response(lambda r: r.url.endswith(f"/tickets/{ticket}/aefi")) as reported:
        page.click("#aefi-form button[type=submit]")  # (#outcome still says "good" from the dose: wait for the answer)
    assert reported.value.ok
    assert chain.app.find_by_nik(nik(serial=1)).aefi == ["mild"]


def test_a_yes_at_desk_2_proposes_postponing_and_the_person_is_not_vaccinated_today(site, phone) -> None:
    chain = site.chain
    clinic_today(chain)
    ticket = register_today(chain, 2)
    page = phone.new_page()
    site.login(page, "vaksinator", f"/meja/tiket/{ticket}")
    page.check('input[name="q-fever"][value="yes"]')
    assert page.is_visible("#suggest") and page.input_value("#result") == "postponed"
    back = local_day(chain.app.clock(), WIB) + timedelta(days=14)
    page.fill("#until", back.isoformat())
    page.click("#screening button[type=submit]")
    page.wait_for_selector("text=tidak divaksin hari ini")  # after the reload: screened out today, no vial scan
    assert not page.is_visible("#vial-scan")
    screening = chain.app.find_by_nik(nik(serial=2)).screening
    assert screening is not None and screening[1] is ScreeningResult.POSTPONED


def test_a_dose_confirmed_offline_is_recorded_once_at_its_scan_time(site, phone) -> None:
    # Given a person screened at desk 2, and the vial scanned at desk 3 while the network was up
    chain = site.chain
    clinic_today(chain)
    ticket = register_today(chain)
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, chain.by(PUSKESMAS))
    page = phone.new_page()
    site.login(page, "vaksinator", f"/meja/tiket/{ticket}")
    page.wait_for_selector("#vial-scan")
    page.fill("#vial-scan-text", lot_uri(CORONAVAC, "CV001", chain.app.get_lot(CORONAVAC, "CV001").expiry))
    page.press("#vial-scan-text", "Enter")
    page.wait_for_selector("#dose-form:not([hidden])")
    # When the network drops (for the page and its service worker alike) and the dose is confirmed
    phone.route("**/*", lambda route: route.abort())
    page.click("#confirm-dose")
    page.wait_for_selector("#observe:not([hidden])")  # the observation starts at once
    assert "Tidak ada jaringan" in page.inner_text("#outcome")
    waiting = page.evaluate("Rantai.pending()")
    assert [c["url"] for c in waiting] == [f"/tickets/{ticket}/dose"]
    recipient_id = chain.app.recipient_id(nik(serial=1))
    assert chain.app.get_recipient(recipient_id).doses == []
    # Then, back online, it is sent and recorded once, at the vial's scan time
    phone.unroute("**/*")
    page.evaluate("Rantai.sync()")
    page.wait_for_selector("#queue", state="hidden")
    page.evaluate("Rantai.sync()")  # nothing left to send twice
    doses = [e for e in chain.app.events.get(recipient_id) if type(e).__name__ == "Vaccinated"]
    assert len(doses) == 1
    assert doses[0].by.occurred_at == datetime.fromisoformat(waiting[0]["occurredAt"])
    assert chain.app.get_stock(PUSKESMAS).doses_of(f"{CORONAVAC}/CV001") == 19

"""The district officer's pages (issue 11, item 5): the worklist masked and in scope, a person's
record unmasked for the district's own officer (and the read recorded), and in Chromium: a visit
assigned, its outcome recorded, the person registered in the field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from domain.recipient import Channel
from domain.user import Role
from tests.api.conftest import api  # noqa: F401 - fixture
from tests.application.test_recipients import import_rows
from tests.scenario import ColdChain, nik, reflect_the_whole_log, target_row
from tests.web.clinic_world import PUSKESMAS, clinic_today


def without_phone(chain: ColdChain) -> str:
    """Target 4 has no phone: on the worklist at once. Their recipient id (hex)."""
    import_rows(chain.app, [target_row(4, phone="")], chain.by("KEMENKES", "admin"))
    return chain.app.recipient_id(nik(serial=4)).hex


def logged_in(api: TestClient, chain: ColdChain, role: Role, scope: str) -> TestClient:  # noqa: F811
    name = f"{role.value}.{scope}".replace(".", "-").lower()
    chain.app.add_user(name, role, scope, chain.by(actor="cli:test"), password="rahasia-" + name)
    api.cookies.clear()
    assert api.post("/login", data={"username": name, "password": "rahasia-" + name},
                    follow_redirects=False).status_code == 303
    return api


@pytest.fixture
def field(chain: ColdChain, api: TestClient) -> tuple[ColdChain, TestClient, str]:  # noqa: F811
    chain.release(vials=100)
    clinic_today(chain)
    person = without_phone(chain)
    reflect_the_whole_log(api, chain)
    return chain, api, person


def test_the_worklist_is_masked_and_inside_the_officers_district(field) -> None:
    chain, client, person = field
    page = logged_in(client, chain, Role.DISTRICT_OFFICER, "32.73").get("/distrik")
    assert page.status_code == 200 and f"/distrik/orang/{person}" in page.text
    assert "tanpa nomor ponsel" in page.text and "Siti Aminah 4" not in page.text  # masked
    assert nik(serial=4) not in page.text
    elsewhere = logged_in(client, chain, Role.DISTRICT_OFFICER, "31.71").get("/distrik")
    assert elsewhere.status_code == 200 and person not in elsewhere.text
    assert logged_in(client, chain, Role.VACCINATOR, PUSKESMAS).get("/distrik").status_code == 403


def test_the_person_is_unmasked_for_the_districts_officer_and_the_read_is_recorded(field) -> None:
    chain, client, person = field
    officer = logged_in(client, chain, Role.DISTRICT_OFFICER, "32.73")
    before = chain.app.recorder.max_notification_id()
    page = officer.get(f"/distrik/orang/{person}")
    assert page.status_code == 200 and "Siti Aminah 4" in page.text
    assert page.headers["cache-control"] == "no-store"  # neither the browser nor the service worker keeps it
    assert chain.app.recorder.max_notification_id() == before + 1  # who looked at whose record
    assert 'data-post="/registrations/field"' in page.text and f"{PUSKESMAS}/" in page.text
    other = logged_in(client, chain, Role.DISTRICT_OFFICER, "31.71").get(f"/distrik/orang/{person}")
    assert other.status_code == 403 and "Siti" not in other.text
    assert client.get("/distrik/orang/not-a-hex-id").status_code == 422


def test_visit_outcome_and_field_registration_in_the_browser(site, phone, shot) -> None:
    chain = site.chain
    clinic_today(chain)
    person = without_phone(chain)
    page = phone.new_page()
    site.login(page, "petugas", "/distrik")
    page.wait_for_selector(f'a[href="/distrik/orang/{person}"]', timeout=20_000)
    shot(page, "district-worklist")
    page.click(f'a[href="/distrik/orang/{person}"]')
    page.wait_for_selector("#visit-form")
    page.select_option("#unit", "babinsa")
    page.fill("#officer", "Serka Budi")
    with page.expect_navigation():  # recorded: the page reloads with the new state
        page.click("#visit-form button[type=submit]")
    page.select_option("#outcome", "registered")
    with page.expect_navigation():
        page.click("#outcome-form button[type=submit]")
    shot(page, "district-person")
    page.fill("#field-nik", nik(serial=4))
    with page.expect_navigation():
        page.click("#field-form button[type=submit]")
    page.wait_for_selector("text=Sudah terdaftar")
    recipient = chain.app.find_by_nik(nik(serial=4))
    assert recipient.is_registered and recipient.facility == PUSKESMAS
    assert recipient.visits == [("babinsa", ""), ("babinsa", "registered")]
    assert recipient.channel is Channel.FIELD

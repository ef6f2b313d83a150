"""The public registration page (issue 11, item 7): on both backends over HTTP, and in headless
Chromium. The NIK goes in the body, the ticket comes back as a QR code, a booking can be
moved, and nothing tells whether a NIK is on the list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from domain.calendar import WIB, local_day
from interfaces.scanner.decoding import decode
from tests.api.conftest import api  # noqa: F401 - fixture
from tests.scenario import ColdChain, nik
from tests.web.clinic_world import PUSKESMAS, clinic_today


@pytest.fixture
def open_registration(chain: ColdChain, api: TestClient) -> TestClient:  # noqa: F811
    chain.release(vials=100)
    clinic_today(chain)
    return api


def form(chain: ColdChain, serial: int = 1, digits: str | None = None, days_ahead: int = 0, **extra: str) -> dict:
    day = local_day(chain.app.clock(), WIB) + timedelta(days=days_ahead)
    return {"nik": nik(serial=serial), "phone_last_four": digits or f"{serial:04d}",
            "place": f"{PUSKESMAS}/{day.isoformat()}", "kabupaten": "32.73", **extra}


def test_the_free_places_of_a_district_are_offered(chain: ColdChain, open_registration: TestClient) -> None:
    page = open_registration.get("/daftar", params={"kabupaten": "32.73"})
    assert page.status_code == 200 and '<html lang="id">' in page.text
    assert "Puskesmas Sukasari" in page.text
    today = local_day(chain.app.clock(), WIB)
    for ahead in range(3):
        assert f'value="{PUSKESMAS}/{(today + timedelta(days=ahead)).isoformat()}"' in page.text
    assert "Kota Bandung" in open_registration.get("/daftar").text  # the districts to choose from


def test_registering_shows_the_ticket_as_a_qr_code(chain: ColdChain, open_registration: TestClient) -> None:
    answer = open_registration.post("/daftar", data=form(chain))
    assert answer.status_code == 200, answer.text[:500]
    recipient = chain.app.find_by_nik(nik(serial=1))
    assert recipient.ticket and recipient.ticket in answer.text and recipient.facility == PUSKESMAS
    assert "<svg" in answer.text and nik(serial=1) not in answer.text
    # the QR code on the screen holds the ticket
    from interfaces.scanner import drawing, labels

    png = drawing.png(labels.ticket_label(labels.ticket_card(chain.app, recipient.ticket)))
    assert [code.text for code in decode(png)] == [recipient.ticket]


def test_a_booking_is_moved_with_the_same_proofs(chain: ColdChain, open_registration: TestClient) -> None:
    open_registration.post("/daftar", data=form(chain))
    moved = open_registration.post("/daftar", data=form(chain, days_ahead=2, move="yes"))
    assert moved.status_code == 200
    recipient = chain.app.find_by_nik(nik(serial=1))
    assert recipient.day == local_day(chain.app.clock(), WIB) + timedelta(days=2)
    wrong = open_registration.post("/daftar", data=form(chain, digits="9999", days_ahead=1, move="yes"))
    assert wrong.status_code == 409
    assert chain.app.find_by_nik(nik(serial=1)).day == recipient.day


def test_the_page_does_not_tell_whether_a_nik_is_on_the_list(chain: ColdChain, open_registration: TestClient) -> None:
    wrong_digits = open_registration.post("/daftar", data=form(chain, serial=2, digits="9999"))
    not_listed = open_registration.post("/daftar", data=form(chain, serial=77, digits="0077"))
    assert wrong_digits.status_code == not_listed.status_code == 409
    assert wrong_digits.text == not_listed.text
    assert nik(serial=2) not in wrong_digits.text


def test_failed_proofs_for_one_nik_are_throttled(chain: ColdChain, open_registration: TestClient) -> None:
    for _ in range(5):
        assert open_registration.post("/daftar", data=form(chain, serial=3, digits="9999")).status_code == 409
    busy = open_registration.post("/daftar", data=form(chain, serial=3))  # even the right digits now wait
    assert busy.status_code == 429 and "Terlalu banyak percobaan" in busy.text
    assert chain.app.find_by_nik(nik(serial=3)).ticket is None


def test_malformed_input_is_refused_without_500(open_registration: TestClient) -> None:
    for data in ({"nik": "x"}, {"nik": "1" * 16, "phone_last_four": "12", "place": "P1/2021-01-01"},
                 {"nik": "1" * 16, "phone_last_four": "1234", "place": "<script>/2021-13-45"}):
        assert open_registration.post("/daftar", data=data).status_code == 422
    assert open_registration.get("/daftar", params={"kabupaten": "../etc"}).status_code == 422


# In the browser ------------------------------------------------------------------------------

def test_register_through_the_public_page(site, phone, shot) -> None:
    chain = site.chain
    clinic_today(chain)
    page = phone.new_page()
    page.goto(f"{site.url}/daftar")
    page.select_option("#kabupaten", "32.73")
    page.click("#district-form button")
    page.wait_for_selector("#register-form")
    shot(page, "public-register")
    page.check(f'input[name=place][value^="{PUSKESMAS}/"] >> nth=0')
    page.fill("#nik", nik(serial=1))
    page.fill("#phone_last_four", "0001")
    page.click("#register")
    page.wait_for_selector("#ticket-qr svg")
    shot(page, "public-ticket")
    recipient = chain.app.find_by_nik(nik(serial=1))
    assert page.inner_text("#ticket-code").strip() == recipient.ticket
    assert nik(serial=1) not in page.url and nik(serial=1) not in page.content()

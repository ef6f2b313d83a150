"""What every page relies on: the language, the login redirect, each role's home, the service worker."""

from __future__ import annotations

from datetime import UTC, date, datetime

from interfaces.web.pages import day, moment, number
from tests.web.live import wait_until


def test_numbers_read_as_indonesians_read_them() -> None:
    assert number(71000) == "71.000"
    assert number(1234567, "en") == "1,234,567"
    assert number(12.5) == "12,5"


def test_times_are_shown_in_the_facilitys_zone() -> None:
    evening = datetime(2021, 1, 13, 11, 30, tzinfo=UTC)
    assert moment(evening) == "13 Jan 2021 18.30 WIB"
    assert moment(evening, "Asia/Makassar") == "13 Jan 2021 19.30 WITA"
    assert moment(evening, "Asia/Jayapura", "en") == "13 Jan 2021 20:30 WIT"
    assert day(date(2021, 5, 2)) == "2 Mei 2021"


def test_login_page_is_bahasa_until_english_is_chosen(site, phone) -> None:
    page = phone.new_page()
    page.goto(f"{site.url}/login")
    assert page.get_attribute("html", "lang") == "id"
    assert page.inner_text("h1") == "Rantai — Masuk"
    page.click("a.lang")
    assert page.get_attribute("html", "lang") == "en"
    assert "Log in" in page.inner_text("h1")
    page.goto(f"{site.url}/login")  # remembered
    assert page.get_attribute("html", "lang") == "en"


def test_a_page_without_a_session_goes_to_the_login_page(site, phone) -> None:
    page = phone.new_page()
    page.goto(f"{site.url}/gudang")
    assert page.url == f"{site.url}/login?next=/gudang"


def test_the_service_worker_controls_the_whole_app(site, phone) -> None:
    response = phone.request.get(f"{site.url}/sw.js")
    assert response.ok
    assert response.headers["service-worker-allowed"] == "/"
    assert response.headers["content-type"].startswith("text/javascript")


def test_a_wrong_password_is_told_in_the_chosen_language(site, phone) -> None:
    page = phone.new_page()
    page.goto(f"{site.url}/bahasa?to=en&next=/login")
    page.fill("#username", "gudang.jabar")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    assert page.inner_text(".error") == "Wrong user name or password."
    assert page.get_attribute("html", "lang") == "en"


def test_a_page_in_english_reads_in_english(site, phone) -> None:
    page = phone.new_page()
    site.login(page, "gudang.jabar")
    page.click("a.lang")
    assert page.url == f"{site.url}/gudang"
    assert page.inner_text("h1") == "Stock card — JAWA BARAT"
    assert "Scan to receive" in page.inner_text("nav.menu")


KEPT = "caches.open('rantai-v1').then((c) => c.keys()).then((ks) => ks.map((r) => new URL(r.url).pathname))"


def test_the_service_worker_keeps_pages_until_logging_out(site, phone) -> None:
    page = phone.new_page()
    site.login(page, "gudang.jabar")
    page.evaluate("navigator.serviceWorker.ready")
    page.goto(f"{site.url}/gudang/kiriman")  # now through the service worker
    wait_until(page, f"{KEPT}.then((paths) => paths.includes('/gudang/kiriman'))")
    page.click("nav.menu form button")
    page.wait_for_url(f"{site.url}/login")
    assert "/gudang/kiriman" not in page.evaluate(KEPT)

"""The monitoring dashboard and the reconciliation reports over HTTP, on both
backends, with the hand-worked figures of the read-model scenarios."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.reports import as_text
from tests.worked_scenarios import JAN
from tests.scenario import ColdChain, nik, reflect_the_whole_log, target_row

PUSKESMAS = "P327301"


@pytest.fixture
def client(api: TestClient, accounts) -> TestClient:
    """Logged in as a national auditor, who reads everything and writes nothing."""
    api.headers.update(accounts("auditor"))
    return api


def csv_table(content: bytes) -> tuple[list[str], list[list[str]]]:
    lines = content.decode("utf-8-sig").splitlines()
    header = [line for line in lines if line.startswith("# ")]
    return header, list(csv.reader(line for line in lines if not line.startswith("# ")))


def test_dashboard_data_shows_the_national_funnel_per_hour_and_district(
        vaccinations: ColdChain, client: TestClient) -> None:
    # Given three targets, two registered, two with dose 1, one with dose 2, one mild AEFI
    head = reflect_the_whole_log(client, vaccinations)
    # When the dashboard asks for its data
    data = client.get("/dashboard/data").json()
    # Then the funnel has the worked figures
    totals = data["funnel"]["totals"]
    assert {k: totals[k] for k in ("targeted", "sms_sent", "failed", "registered", "screened", "dose1", "dose2")} == {
        "targeted": 3, "sms_sent": 3, "failed": 1, "registered": 2, "screened": 3, "dose1": 2, "dose2": 1}
    assert (totals["drop_out_rate"], totals["coverage"]) == (0.5, round(2 / 3, 4))
    # registrations happened at 08:00 UTC on 3 January: 15:00 WIB
    assert data["registrations_per_hour"]["hours"] == [{
        "hour": "2021-01-03T08:00:00+00:00", "wib": "03 Jan 15:00", "web": 1, "ussd": 1, "field": 0,
        "registered": 2, "cumulative": 2}]
    [district] = data["districts"]["rows"]
    assert (district["district"], district["name"], district["dose1"]) == ("32.73", "Kota Bandung", 2)
    assert data["aefi"]["total"] == 1
    assert {s["severity"]: s["reports"] for s in data["aefi"]["by_severity"]} == {"mild": 1, "moderate": 0, "severe": 0}
    # and every panel states the log position it reflects
    assert data["log_head"] == head
    for panel in ("funnel", "registrations_per_hour", "districts", "stock", "shipments", "aefi"):
        assert data[panel]["position"]["notification_id"] == head, panel
        assert data[panel]["position"]["recorded_at"], panel
    # and nothing personal is in it
    text = json.dumps(data)
    for personal in (nik(serial=1), target_row(1)["name"], target_row(1)["phone"], "Siti"):
        assert personal not in text


def test_dashboard_counts_stock_bands_and_shipments_in_transit(logistics: ColdChain, client: TestClient) -> None:
    # Given the logistics scenario and a shipment that left Jawa Barat on 7 January and never arrived
    logistics.now = JAN(7)
    moving = logistics.ship("32", "32.73", ("CV001", 10))
    reflect_the_whole_log(client, logistics)
    assert client.get("/dashboard/data").json()["shipments"]["overdue"] == 0  # on the server's clock: 7 January
    logistics.now = JAN(11)  # four days later: past the three days a leg may take
    data = client.get("/dashboard/data").json()
    shipments = data["shipments"]
    assert (shipments["in_transit"], shipments["overdue"], shipments["vials"]) == (1, 1, 10)
    assert shipments["longest"][0]["sscc"] == moving and shipments["longest"][0]["overdue"] is True
    stock = data["stock"]
    assert stock["rows"] == 2  # Bio Farma and Jawa Barat hold lot CV001
    assert sum(b["rows"] for b in stock["bands"]) + stock["stock_outs"] == stock["rows"]
    assert stock["as_of"] == JAN(7).isoformat()


def test_dashboard_needs_a_login(vaccinations: ColdChain, api: TestClient) -> None:
    browser = api.get("/", headers={"Accept": "text/html"}, follow_redirects=False)
    assert browser.status_code == 303 and browser.headers["location"].startswith("/login")
    assert api.get("/", headers={"Accept": "application/json"}).status_code == 401
    assert api.get("/dashboard/data").status_code == 401


def test_dashboard_page_is_rendered_in_bahasa_from_the_feed_without_outside_resources(
        vaccinations: ColdChain, api: TestClient, accounts) -> None:
    reflect_the_whole_log(api, vaccinations)
    logged_in = api.post("/login", data={"username": "auditor", "password": "rahasia-auditor"}, follow_redirects=False)
    assert logged_in.status_code == 303
    page = api.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="id">' in html
    assert "https://" not in html and "http://" not in html  # no CDN: scripts and styles come from /static/
    for label in ("Alur sasaran", "Pendaftaran per jam (WIB)", "Provinsi", "Stok (hari persediaan)",
                  "Kiriman dalam perjalanan", "KIPI", "Posisi log", "Umur diukur dengan jam"):
        assert label in html, label
    assert 'data-figure="dose1">2<' in html and 'data-figure="drop_out_rate">50 %<' in html
    for personal in (nik(serial=1), "Siti", target_row(1)["phone"]):
        assert personal not in html
    api.cookies.set("rantai_lang", "en")
    english = api.get("/").text
    assert '<html lang="en">' in english and "Registrations per hour (WIB)" in english


def test_reports_are_listed_with_their_options(client: TestClient) -> None:
    listed = {r["name"]: r for r in client.get("/reports").json()}
    assert list(listed) == ["shipments", "stock", "doses", "recipients"]
    assert listed["stock"]["options"] == ["from", "to", "facility"]
    assert listed["recipients"]["options"] == ["phase"]


def test_report_json_states_its_position_and_the_worked_figures(vaccinations: ColdChain, client: TestClient) -> None:
    head = reflect_the_whole_log(client, vaccinations)
    recipients = client.get("/reports/recipients", params={"phase": 1}).json()
    assert recipients["position"]["notification_id"] == head and recipients["position"]["recorded_at"]
    assert recipients["options"] == {"phase": 1}
    [row] = recipients["rows"]
    assert (row["district"], row["targeted"], row["sent"], row["registered"], row["vaccinated_dose1"]) == (
        "32.73", 3, 3, 2, 2)
    doses = client.get("/reports/doses", params={"facility": PUSKESMAS}).json()
    rates = {row["lot_key"].split("/")[1]: row["open_vial_wastage_rate"] for row in doses["rows"]}
    assert rates == {"BF001": 0.8, "CV001": 0.0}


def test_stock_report_downloads_as_csv_and_xlsx_with_the_same_cells(logistics: ColdChain, client: TestClient) -> None:
    head = reflect_the_whole_log(client, logistics)
    query = {"from": "2021-01-05", "to": "2021-01-06", "facility": NATIONAL_WAREHOUSE}
    as_csv = client.get("/reports/stock", params=query | {"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f'rantai-stock-at-{head}.csv' in as_csv.headers["content-disposition"]
    header, table = csv_table(as_csv.content)
    assert f"# Log position (notification id): {head}" in header
    assert "# Period from: 2021-01-05" in header and f"# Facility: {NATIONAL_WAREHOUSE}" in header
    titles, row = table
    cells = dict(zip(titles, row, strict=True))
    assert (cells["Opening"], cells["Wasted"], cells["Count adjustments"], cells["Closing"]) == ("60", "2", "-1", "57")

    as_xlsx = client.get("/reports/stock", params=query | {"format": "xlsx"})
    book = load_workbook(io.BytesIO(as_xlsx.content))
    about, sheet = book.worksheets
    assert dict(about.iter_rows(values_only=True))["Log position (notification id)"] == head
    assert [[as_text(v) for v in r] for r in sheet.iter_rows(values_only=True)] == table


def test_unknown_report_or_option_is_refused_with_a_clear_message(client: TestClient) -> None:
    missing = client.get("/reports/stok")
    assert missing.status_code == 404
    assert missing.json()["message"] == ("There is no report by that name. "  # (a refusal does not echo the input)
                                         "The reports are: shipments, stock, doses, recipients.")
    wrong = client.get("/reports/recipients", params={"facility": "32"})
    assert wrong.status_code == 400
    assert wrong.json()["message"] == "The recipients report does not take facility (it takes phase)."
    backwards = client.get("/reports/stock", params={"from": "2021-01-10", "to": "2021-01-01"})
    assert backwards.status_code == 400 and "after it ends" in backwards.json()["message"]
    assert client.get("/reports/stock", params={"format": "pdf"}).status_code == 422


def test_the_dashboard_shows_a_provincial_account_its_own_province(
        vaccinations: ColdChain, api: TestClient, accounts) -> None:
    # Given the vaccinations scenario, all of it in Jawa Barat (32)
    reflect_the_whole_log(api, vaccinations)
    national = api.get("/dashboard/data", headers=accounts("auditor")).json()
    jakarta = api.get("/dashboard/data", headers=accounts("auditor.dki")).json()
    bandung = api.get("/dashboard/data", headers=accounts("petugas")).json()
    # Then DKI Jakarta's inspectorate sees none of it, Kota Bandung's officer all of it
    assert national["funnel"]["totals"]["dose1"] == 2
    assert jakarta["funnel"]["totals"]["dose1"] == 0 and jakarta["districts"]["rows"] == []
    assert jakarta["stock"]["rows"] == 0 and jakarta["registrations_per_hour"]["hours"] == []
    assert bandung["funnel"]["totals"]["dose1"] == 2
    assert [row["district"] for row in bandung["districts"]["rows"]] == ["32.73"]


def without_positions(panel: object) -> object:
    """A panel without the log positions it states (a scratch read model stands where its replay
    stopped: the last event it handled, not the live follower's last position)."""
    if isinstance(panel, dict):
        return {k: without_positions(v) for k, v in panel.items() if k != "position"}
    if isinstance(panel, list):
        return [without_positions(v) for v in panel]
    return panel


def test_every_dashboard_panel_as_of_a_past_moment(logistics: ColdChain, client: TestClient) -> None:
    # Given the logistics scenario, then a shipment that left Jawa Barat on 7 January
    before = logistics.app.recorder.max_notification_id()
    logistics.now = JAN(7)
    moving = logistics.ship("32", "32.73", ("CV001", 10))
    head = reflect_the_whole_log(client, logistics)
    live = client.get("/dashboard/data").json()
    # When an auditor asks for the dashboard as of the log's head
    answer = client.get("/audit/dashboard", params={"position": head})
    assert answer.status_code == 200, answer.text
    replayed = answer.json()
    # Then every panel equals the live one's
    assert replayed["as_of"] == {"position": head, "occurred": None} and replayed["log_head"] == head
    for panel in ("funnel", "registrations_per_hour", "districts", "area", "stock", "shipments", "aefi"):
        assert without_positions(replayed[panel]) == without_positions(live[panel]), panel
    assert replayed["clock"]["at"] == live["clock"]["at"]  # ages measured at the same instant (7 January)
    assert replayed["shipments"]["longest"][0]["sscc"] == moving
    # and as of the position before the dispatch, or of 6 January, nothing was in transit and the card was fuller
    for moment in ({"position": before}, {"at": JAN(6).isoformat()}):
        past = client.get("/audit/dashboard", params=moment).json()
        assert past["shipments"]["in_transit"] == 0, moment
        assert past["stock"]["as_of"] < live["stock"]["as_of"], moment
    # and four days later the live dashboard calls it overdue; as of its dispatch it was not
    logistics.now = JAN(11)
    assert client.get("/dashboard/data").json()["shipments"]["overdue"] == 1
    assert client.get("/audit/dashboard", params={"position": head}).json()["shipments"]["overdue"] == 0
    # and an area outside the caller's scope is refused before anything is replayed
    refused = client.get("/audit/dashboard", params={"position": head, "area": "99"})
    assert refused.status_code == 404

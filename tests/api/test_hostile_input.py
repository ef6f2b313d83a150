"""What a hostile caller sends is refused with a short 4xx that does not echo it, and
writes nothing; what is stored exports safely (both backends)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from application.logistics import NATIONAL_WAREHOUSE
from tests.api.conftest import Accounts
from tests.scenario import CORONAVAC, ColdChain, last_position, reflect_the_whole_log

LOT = {"gtin": CORONAVAC, "lot_number": "HX1", "expiry": "2021-12-31", "product": "CoronaVac",
       "doses_per_vial": 1, "manufacturer": "Sinovac", "vials": 10}


@pytest.fixture
def client(chain: ColdChain, api: TestClient, accounts: Accounts) -> TestClient:
    chain.release(vials=50)
    return api


def refused(client: TestClient, chain: ColdChain, status: int, method: str, url: str, hostile: str = "",
            **kwargs: object) -> dict[str, str]:
    before = last_position(chain.app)
    answer = client.request(method, url, **kwargs)
    assert answer.status_code == status, answer.text[:300]
    assert last_position(chain.app) == before, "a refused request wrote an event"
    body = answer.json()
    assert set(body) >= {"error", "message"} and len(body["message"]) < 600
    if hostile:
        assert hostile not in answer.text, "the refusal echoes the input"
    return body


IMPLAUSIBLE_LOTS = [
    {"vials": 9223372036854775808}, {"vials": 10**30}, {"vials": -5}, {"vials": 0},
    {"doses_per_vial": 10**6}, {"expiry": "9999-12-31"}, {"expiry": "0001-01-01"}, {"expiry": "2040-01-01"},
    {"lot_number": "LOT#1"}, {"lot_number": "LOT\U0001F489"}, {"lot_number": "X" * 21}, {"lot_number": ""},
    {"product": "P" * 121}, {"gtin": "06992806000016"},
]


def test_implausible_lots_are_refused(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    for change in IMPLAUSIBLE_LOTS:
        refused(client, chain, 422, "POST", "/lots", headers=accounts("admin"), json=LOT | change)


def test_a_scan_time_from_year_one_is_refused(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    headers = accounts("admin", **{"X-Occurred-At": "0001-01-01T00:00:00+14:00"})
    refused(client, chain, 422, "POST", "/lots", headers=headers, json=LOT)
    refused(client, chain, 422, "POST", "/lots", headers=accounts("admin", **{"X-Occurred-At": "yesterday"}), json=LOT)


def test_huge_bodies_and_headers_are_refused_before_they_are_read(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    refused(client, chain, 413, "POST", "/lots", headers=accounts("admin"), json=LOT | {"product": "P" * 20_000_000})
    refused(client, chain, 431, "GET", "/facilities/BIOFARMA/stock",
            headers=accounts("admin", **{"X-Padding": "p" * 60_000}))
    refused(client, chain, 400, "POST", "/lots", headers=accounts("admin") | {"content-type": "application/json"},
            content=b"{not json")


def test_implausible_temperatures_are_refused(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    for celsius in ("-300", "1e308", "9" * 5000, "NaN", "Infinity", "5.123", -300, 1e308):
        body = {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 5}], "arrival_celsius": celsius}
        refused(client, chain, 422, "POST", f"/shipments/{sscc}/receipt", headers=accounts("gudang.jabar"), json=body,
                hostile="9" * 50)
        refused(client, chain, 422, "POST", f"/shipments/{sscc}/temperatures", headers=accounts("gudang.jabar"),
                json={"celsius": celsius}, hostile="9" * 50)


def test_implausible_counts_are_refused(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    for vials in (10**30, -1, 10**8):
        refused(client, chain, 422, "POST", f"/facilities/{NATIONAL_WAREHOUSE}/counts",
                headers=accounts("gudang.biofarma"), json={"gtin": CORONAVAC, "lot_number": "CV001", "vials": vials})


def test_worklist_queries_are_bounded(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    for query in ({"offset": "100000000000000000000"}, {"limit": "0"}, {"limit": "100000"},
                  {"phase": "99999999999999999999"}, {"as_of": "0001-01-01T00:00:00"}, {"as_of": "0.5"},
                  {"as_of": "2021-01-14T00:00:00"}, {"as_of": "x" * 100}):
        refused(client, chain, 422, "GET", "/districts/32.73/worklist", headers=accounts("petugas"), params=query,
                hostile=query.get("as_of", "x" * 100) if len(query.get("as_of", "")) > 10 else "")


def test_report_queries_are_bounded(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    refused(client, chain, 422, "GET", "/reports/recipients", headers=accounts("auditor"),
            params={"phase": "99999999999999999999"})
    refused(client, chain, 422, "GET", "/reports/shipments", headers=accounts("auditor"),
            params={"format": "xlsx", "facility": "\x01"})


def test_lot_numbers_with_gs1_punctuation_stay_reachable_by_url(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    for lot_number in ("A/B?1", "50%&X"):
        assert client.post("/lots", headers=accounts("admin"), json=LOT | {"lot_number": lot_number}).status_code == 201
        from urllib.parse import quote

        shown = client.get(f"/lots/{CORONAVAC}/{quote(lot_number, safe='')}", headers=accounts("admin"))
        assert shown.status_code == 200 and shown.json()["lot_number"] == lot_number


def test_stored_text_exports_safely_to_csv_and_xlsx(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    # Given a receipt whose reason holds a control character and one that looks like a formula
    formula = '=HYPERLINK("http://evil.example/x","click")'
    for reason in ("broken\u0001", formula):
        sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
        body = {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 4, "rejected": 1, "reason": reason}],
                "arrival_celsius": "5"}
        assert client.post(f"/shipments/{sscc}/receipt", headers=accounts("gudang.jabar"), json=body).status_code == 200
    reflect_the_whole_log(client, chain)
    # When the shipments report is exported
    as_csv = client.get("/reports/shipments", headers=accounts("auditor"), params={"format": "csv"})
    as_xlsx = client.get("/reports/shipments", headers=accounts("auditor"), params={"format": "xlsx"})
    # Then no control character reaches either file and the formula stays text
    assert as_csv.status_code == as_xlsx.status_code == 200
    text = as_csv.content.decode("utf-8-sig")
    assert "\u0001" not in text and "broken" in text
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text and '"=HYPERLINK' not in text
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["shipments"]
    cells = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str) and "HYPERLINK" in cell.value]
    assert cells and all(cell.data_type == "s" and cell.value.startswith("'=") for cell in cells)


def test_a_screening_dated_before_dose_1_and_a_booking_in_9999_are_refused(
        client: TestClient, chain: ColdChain) -> None:
    from datetime import datetime, timedelta

    from domain.recipient import Channel, ScreeningResult
    from domain.recipient import ScreeningIncomplete
    from domain.phase import NotAVaccinationDay
    from tests.application.test_recipients import JAN_14, WIB, at, import_rows, open_phase
    from tests.scenario import nik, refused as refused_by_app, target_row

    import_rows(chain.app, [target_row(1)], chain.by())
    open_phase(chain)
    with refused_by_app(chain.app, NotAVaccinationDay):
        chain.app.register(nik(serial=1), "0001", Channel.WEB, "P327301", date(9999, 12, 31))
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 5)))
    chain.receive_all(chain.ship("32.73", "P327301", ("CV001", 5)))
    ticket = chain.app.register(nik(serial=1), "0001", Channel.WEB, "P327301", JAN_14).result["ticket"]
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, JAN_14))
    next_ticket = chain.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(chain, JAN_14)).result["next_ticket"]
    backdated = chain.by(actor="ani")
    backdated = backdated.at(datetime.combine(JAN_14 - timedelta(days=1), datetime.min.time(), tzinfo=WIB))
    with refused_by_app(chain.app, ScreeningIncomplete, "before dose 1"):
        chain.app.screen(next_ticket, ScreeningResult.ELIGIBLE, "", None, backdated)

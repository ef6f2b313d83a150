"""The HTTP API end to end through the ASGI app, on both backends."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.api.main import create_app
from interfaces.scanner.digital_link import shipment_uri
from interfaces.scanner.labels import decode_image
from tests.scenario import CORONAVAC, ColdChain, last_position


def headers(facility: str, **extra: str) -> dict[str, str]:
    # the scenario's lots expire end of 2021, so scans carry 2021 scan times
    return {"X-Actor": "sari", "X-Facility": facility, "X-Device": "hh-1",
            "X-Occurred-At": "2021-01-03T10:00:00+07:00", **extra}


@pytest.fixture
def client(chain: ColdChain, settings) -> TestClient:
    chain.release(vials=50)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_pack_dispatch_receive_over_http(client: TestClient) -> None:
    # Given a packed shipment
    packed = client.post("/shipments", headers=headers(NATIONAL_WAREHOUSE), json={
        "origin": NATIONAL_WAREHOUSE, "destination": "32",
        "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 10}]})
    assert packed.status_code == 201, packed.text
    sscc = packed.json()["result"]["sscc"]
    # When it is scanned out and scanned in
    out = client.post(f"/shipments/{sscc}/dispatch", headers=headers(NATIONAL_WAREHOUSE,
                      **{"X-Occurred-At": "2021-01-04T08:00:00+07:00"}))
    assert out.status_code == 200, out.text
    received = client.post(f"/shipments/{sscc}/receipt", headers=headers("32"), json={
        "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 10}], "arrival_celsius": "5.5"})
    assert received.status_code == 200, received.text
    # Then the shipment and the stock cards show it
    shown = client.get(f"/shipments/{sscc}").json()
    assert shown["status"] == "received" and shown["dispatched_at"].startswith("2021-01-04T08:00")
    stock = client.get("/facilities/32/stock").json()
    assert [(l["lot_number"], l["vials"]) for l in stock["lines"]] == [("CV001", 10)]
    # and the label's QR code names the shipment
    assert decode_image(client.get(f"/shipments/{sscc}/label.png").content) == [shipment_uri(sscc)]
    scanned = client.post("/scans", json={"payload": shipment_uri(sscc)}).json()
    assert scanned["kind"] == "shipment" and scanned["shipment"]["sscc"] == sscc


def test_errors_are_mapped_once_with_words_a_worker_can_act_on(client: TestClient, chain: ColdChain) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    before = last_position(chain.app)
    wrong_place = client.post(f"/shipments/{sscc}/receipt", headers=headers("31"), json={
        "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 5}], "arrival_celsius": "5"})
    assert wrong_place.status_code == 409
    assert wrong_place.json() == {"error": "WrongDestination", "message": wrong_place.json()["message"]}
    assert "addressed to 32" in wrong_place.json()["message"]
    assert client.get("/shipments/089928060000000006").status_code == 404
    bad_check = client.get(f"/shipments/{sscc[:-1]}{(int(sscc[-1]) + 1) % 10}")
    assert bad_check.status_code == 422 and "check digit" in bad_check.json()["message"]
    missing = client.post(f"/shipments/{sscc}/receipt", headers=headers("32"), json={"lines": []})
    assert missing.status_code == 422 and "arrival_celsius" in missing.json()["message"]
    no_headers = client.post(f"/shipments/{sscc}/dispatch")
    assert no_headers.status_code == 422 and "x-actor" in no_headers.json()["message"]
    assert client.post("/scans", json={"payload": "hello"}).status_code == 422
    assert last_position(chain.app) == before


def test_retried_request_with_idempotency_key_is_answered_once(client: TestClient, chain: ColdChain) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    body = {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": 5}], "arrival_celsius": "5"}
    first = client.post(f"/shipments/{sscc}/receipt", headers=headers("32", **{"Idempotency-Key": "r1"}), json=body)
    again = client.post(f"/shipments/{sscc}/receipt", headers=headers("32", **{"Idempotency-Key": "r1"}), json=body)
    assert first.status_code == again.status_code == 200
    assert again.json()["repeated"] is True
    assert chain.on_hand("32") == 5


def test_pick_list_suggests_earliest_expiry_first(client: TestClient, chain: ColdChain) -> None:
    from datetime import date

    chain.release(lot="SOON", vials=3, expiry=date(2021, 6, 30))
    picks = client.get(f"/facilities/{NATIONAL_WAREHOUSE}/pick-list",
                       params={"gtin": CORONAVAC, "vials": 5, "on": "2021-01-04"}).json()
    assert picks == [{"gtin": CORONAVAC, "lot_number": "SOON", "vials": 3},
                     {"gtin": CORONAVAC, "lot_number": "CV001", "vials": 2}]

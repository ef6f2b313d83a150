"""The HTTP API end to end through the ASGI app, on both backends."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.scanner.digital_link import shipment_uri
from interfaces.scanner.labels import decode_image
from tests.api.conftest import Accounts
from tests.scenario import CORONAVAC, ColdChain, last_position


@pytest.fixture
def client(chain: ColdChain, api: TestClient) -> TestClient:
    chain.release(vials=50)
    return api


def receipt(vials: int) -> dict[str, object]:
    return {"lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "accepted": vials}], "arrival_celsius": "5.5"}


def test_pack_dispatch_receive_over_http(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    # Given a packed shipment
    packed = client.post("/shipments", headers=accounts("gudang.biofarma"), json={
        "origin": NATIONAL_WAREHOUSE, "destination": "32",
        "lines": [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 10}]})
    assert packed.status_code == 201, packed.text
    sscc = packed.json()["result"]["sscc"]
    # When it is scanned out (offline, an hour ago) and scanned in
    scanned_at = (chain.now - timedelta(hours=1)).isoformat()
    out = client.post(f"/shipments/{sscc}/dispatch", headers=accounts("gudang.biofarma", **{"X-Occurred-At": scanned_at}))
    assert out.status_code == 200, out.text
    received = client.post(f"/shipments/{sscc}/receipt", headers=accounts("gudang.jabar"), json=receipt(10))
    assert received.status_code == 200, received.text
    # Then the shipment and the stock cards show it, with the scan's own time
    shown = client.get(f"/shipments/{sscc}", headers=accounts("gudang.jabar")).json()
    assert shown["status"] == "received" and shown["dispatched_at"] == scanned_at
    stock = client.get("/facilities/32/stock", headers=accounts("gudang.jabar")).json()
    assert [(l["lot_number"], l["vials"]) for l in stock["lines"]] == [("CV001", 10)]
    # and the label's QR code names the shipment
    label = client.get(f"/shipments/{sscc}/label.png", headers=accounts("gudang.jabar"))
    assert decode_image(label.content) == [shipment_uri(sscc)]
    scanned = client.post("/scans", headers=accounts("gudang.jabar"), json={"payload": shipment_uri(sscc)}).json()
    assert scanned["kind"] == "shipment" and scanned["shipment"]["sscc"] == sscc
    # and the events name the authenticated users, where the commands acted, and their roles
    shipment = chain.app.get_shipment(sscc)
    events = chain.app.repository.event_store.get(shipment.id)
    by = [(e.by.actor, e.by.facility, e.by.role, e.by.device) for e in events]
    assert by == [("gudang.biofarma", NATIONAL_WAREHOUSE, "warehouse", "hp-gudang.biofarma"),
                  ("gudang.biofarma", NATIONAL_WAREHOUSE, "warehouse", "hp-gudang.biofarma"),
                  ("gudang.jabar", "32", "warehouse", "hp-gudang.jabar")]


def test_errors_are_mapped_once_with_words_a_worker_can_act_on(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    before = last_position(chain.app)
    wrong_place = client.post(f"/shipments/{sscc}/receipt", headers=accounts("gudang.dki"), json=receipt(5))
    assert wrong_place.status_code == 403
    assert wrong_place.json() == {
        "error": "Forbidden",
        "message": "Your account may receive only at 31 and below; this shipment is addressed to 32."}
    assert client.get("/shipments/089928060000000006", headers=accounts("admin")).status_code == 404
    bad_check = client.get(f"/shipments/{sscc[:-1]}{(int(sscc[-1]) + 1) % 10}", headers=accounts("admin"))
    assert bad_check.status_code == 422 and "check digit" in bad_check.json()["message"]
    missing = client.post(f"/shipments/{sscc}/receipt", headers=accounts("gudang.jabar"), json={"lines": []})
    assert missing.status_code == 422 and "arrival_celsius" in missing.json()["message"]
    anonymous = client.post(f"/shipments/{sscc}/dispatch")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
    forged = client.post(f"/shipments/{sscc}/receipt", json=receipt(5),
                         headers={"X-Actor": "gudang.jabar", "X-Facility": "32"})
    assert forged.status_code == 401
    assert client.post("/scans", headers=accounts("admin"), json={"payload": "hello"}).status_code == 422
    assert last_position(chain.app) == before


def test_retried_request_with_idempotency_key_is_answered_once(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    key = accounts("gudang.jabar", **{"Idempotency-Key": "r1"})
    first = client.post(f"/shipments/{sscc}/receipt", headers=key, json=receipt(5))
    again = client.post(f"/shipments/{sscc}/receipt", headers=key, json=receipt(5))
    assert first.status_code == again.status_code == 200
    assert again.json()["repeated"] is True
    assert chain.on_hand("32") == 5


def test_the_same_key_for_another_shipment_is_refused_and_that_shipment_stays_packed(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    # Given two packed shipments
    a = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    b = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    key = accounts("gudang.biofarma", **{"Idempotency-Key": "1"})
    assert client.post(f"/shipments/{a}/dispatch", headers=key).status_code == 200
    before = last_position(chain.app)
    # When the key "1" is sent again to dispatch B
    reused = client.post(f"/shipments/{b}/dispatch", headers=key)
    # Then it is refused, nothing is written, and B is still packed
    assert reused.status_code == 422 and reused.json()["error"] == "KeyReused"
    assert "1" not in reused.json()["message"].replace("Idempotency", "")
    assert last_position(chain.app) == before
    assert chain.app.get_shipment(b).status.value == "packed"
    # while another user's key "1" is their own
    other = client.post(f"/shipments/{b}/dispatch", headers=accounts("admin", **{"Idempotency-Key": "1"}))
    assert other.status_code == 403  # an admin does not dispatch: refused for its role, not for the key


@pytest.mark.parametrize(("shift", "status"), [
    (timedelta(minutes=10), 422), (timedelta(days=-4), 422), (timedelta(minutes=1), 200), (timedelta(hours=-71), 200)])
def test_a_devices_scan_time_is_accepted_only_inside_the_offline_window(
        client: TestClient, chain: ColdChain, accounts: Accounts, shift: timedelta, status: int) -> None:
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    before = last_position(chain.app)
    sent = client.post(f"/shipments/{sscc}/dispatch",
                       headers=accounts("gudang.biofarma", **{"X-Occurred-At": (chain.now + shift).isoformat()}))
    assert sent.status_code == status, sent.text
    if status == 422:
        assert last_position(chain.app) == before


def test_a_naive_scan_time_is_refused(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    naive = client.post(f"/shipments/{sscc}/dispatch",
                        headers=accounts("gudang.biofarma", **{"X-Occurred-At": "2021-01-03T08:00:00"}))
    assert naive.status_code == 422 and "offset" in naive.json()["message"]


def test_pick_list_suggests_earliest_expiry_first(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    from datetime import date

    chain.release(lot="SOON", vials=3, expiry=date(2021, 6, 30))
    picks = client.get(f"/facilities/{NATIONAL_WAREHOUSE}/pick-list", headers=accounts("gudang.biofarma"),
                       params={"gtin": CORONAVAC, "vials": 5, "on": "2021-01-04"}).json()
    assert picks == [{"gtin": CORONAVAC, "lot_number": "SOON", "vials": 3},
                     {"gtin": CORONAVAC, "lot_number": "CV001", "vials": 2}]

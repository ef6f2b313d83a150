"""Web and USSD registration, delivery reports and the dose, end to end through the ASGI app."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from application.sms import SmsMessage
from interfaces.api.main import create_app
from tests.application.test_recipients import import_rows
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, reflect_the_whole_log, target_row

PUSKESMAS = "P327301"
TODAY = datetime.now(UTC).date()
TOMORROW = TODAY + timedelta(days=1)


@pytest.fixture
def client(chain: ColdChain, settings) -> TestClient:
    chain.release(vials=50, expiry=date(2099, 12, 31))
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 10)))
    chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 5)))
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], chain.by("KEMENKES"))
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def ussd(client: TestClient, text: str, phone: str = "+6281200000001") -> str:
    response = client.post("/ussd", data={"sessionId": "ATUid_1", "serviceCode": "*119#",
                                          "phoneNumber": phone, "text": text})
    assert response.status_code == 200, response.text
    assert response.text.startswith(("CON ", "END ")), response.text
    return response.text


def test_web_registration_then_screening_and_dose_over_http(client: TestClient, chain: ColdChain) -> None:
    # Given a targeted health worker, When she registers on the web
    registered = client.post("/registrations", json={
        "nik": nik(serial=1), "phone_last_four": "0001", "facility": PUSKESMAS, "day": TOMORROW.isoformat()})
    assert registered.status_code == 201, registered.text
    ticket = registered.json()["ticket"]
    # Then desk 1 sees her masked, and desks 2-4 screen and vaccinate her
    seen = client.get(f"/tickets/{ticket}").json()
    assert seen["nik"] == "3273********0001" and "Siti" not in seen["name"]
    desk = {"X-Actor": "ani", "X-Facility": PUSKESMAS, "X-Device": "tab-1"}
    screened = client.post(f"/tickets/{ticket}/screening", headers=desk, json={"result": "eligible"})
    assert screened.status_code == 200, screened.text
    dose = client.post(f"/tickets/{ticket}/dose", headers=desk,
                       json={"gtin": CORONAVAC, "lot_number": "CV001", "vaccinator": "ani"})
    assert dose.status_code == 200, dose.text
    assert dose.json()["result"]["dose"] == "1"
    assert chain.on_hand(PUSKESMAS) == 4
    replay = client.post(f"/tickets/{ticket}/dose", headers=desk,
                         json={"gtin": CORONAVAC, "lot_number": "CV001", "vaccinator": "ani"})
    assert replay.status_code == 409 and "already used" in replay.json()["message"]


def test_web_registration_refusals_write_nothing(client: TestClient, chain: ColdChain) -> None:
    before = last_position(chain.app)
    body = {"nik": nik(serial=1), "phone_last_four": "9999", "facility": PUSKESMAS, "day": TOMORROW.isoformat()}
    assert client.post("/registrations", json=body).status_code == 409
    assert client.post("/registrations", json=body | {"nik": nik(serial=42), "phone_last_four": "0042"}).status_code == 404
    assert client.post("/registrations", json=body | {"nik": "12345"}).status_code == 422
    assert client.post("/registrations", json=body | {"phone_last_four": "12"}).status_code == 422
    assert last_position(chain.app) == before


def test_full_day_answers_409_with_free_dates(client: TestClient, chain: ColdChain) -> None:
    chain.app.env["DAILY_CAPACITY"] = "1"
    client.app.state.campaign.env["DAILY_CAPACITY"] = "1"
    body = {"nik": nik(serial=1), "phone_last_four": "0001", "facility": PUSKESMAS, "day": TOMORROW.isoformat()}
    assert client.post("/registrations", json=body).status_code == 201
    full = client.post("/registrations", json=body | {"nik": nik(serial=2), "phone_last_four": "0002"})
    assert full.status_code == 409
    assert full.json()["free_days"][0] == (TOMORROW + timedelta(days=1)).isoformat()


def test_ussd_registration_end_to_end(client: TestClient, chain: ColdChain) -> None:
    assert "1. Daftar ulang" in ussd(client, "")
    assert "NIK" in ussd(client, "1")
    assert "Sukasari" in ussd(client, f"1*{nik(serial=1)}")
    assert "1. Puskesmas Sukasari" in ussd(client, f"1*{nik(serial=1)}*1")
    assert "Pilih tanggal" in ussd(client, f"1*{nik(serial=1)}*1*1")
    assert "1. Ya" in ussd(client, f"1*{nik(serial=1)}*1*1*1")
    done = ussd(client, f"1*{nik(serial=1)}*1*1*1*1")
    assert done.startswith("END Terima kasih") and "Tiket:" in done
    ticket = done.split("Tiket: ")[1].split(".")[0]
    assert chain.app.find_by_ticket(ticket).channel.value == "ussd"
    assert ussd(client, f"2*{nik(serial=1)}").startswith("END Jadwal Anda")


def test_ussd_garbage_reprompts_or_ends_politely(client: TestClient, chain: ColdChain) -> None:
    assert ussd(client, "9").startswith("CON Pilih 1 atau 2.")
    assert ussd(client, "1*abc").startswith("CON NIK harus 16 angka")
    assert ussd(client, "1*abc*def*ghi").startswith("END Maaf, jawaban tidak dikenali")
    assert ussd(client, f"1*{nik(serial=77)}").startswith("END NIK Anda tidak ada")
    assert ussd(client, f"1*{nik(serial=1)}", phone="+6281299999999").startswith("END Nomor HP ini tidak sesuai")
    assert ussd(client, "1", phone="+14155550100").startswith("END Layanan ini hanya")
    assert ussd(client, f"1*{nik(serial=1)}*1*1*1*7").startswith("CON Pilih 1 untuk Ya")
    before = last_position(chain.app)
    rng = random.Random(119)
    alphabet = "0123456789*#abc \n%&"
    for _ in range(150):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        ussd(client, text)
        ussd(client, f"1*{nik(serial=2)}*" + text, phone="+6281200000002")
    assert last_position(chain.app) - before <= 3, "fuzzing may register serial 2 at most once (3 events)"


def test_delivery_reports_are_recorded_on_the_recipient(client: TestClient, chain: ColdChain) -> None:
    recipient = chain.app.find_by_nik(nik(serial=1))
    message_id = f"abcdef123456-{recipient.id.hex}"
    client.app.state.sms.send([SmsMessage(message_id, recipient.phone, "Daftar ulang")])
    report = {"id": message_id, "status": "Failed", "failureReason": "AbsentSubscriber"}
    assert client.post("/sms/delivery-reports", data=report).status_code == 200
    assert client.post("/sms/delivery-reports", data=report).json()["repeated"] is True
    assert client.post("/sms/delivery-reports", data=report | {"status": "Buffered"}).status_code == 200
    assert chain.app.find_by_nik(nik(serial=1)).delivery == {
        "message_id": message_id, "status": "failed", "reason": "AbsentSubscriber"}
    assert client.post("/sms/delivery-reports", data=report | {"id": "nonsense"}).status_code == 404


def test_worklist_shows_masked_non_responders_and_takes_visit_reports(client: TestClient, chain: ColdChain) -> None:
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", datetime(2021, 1, 13, 17, tzinfo=UTC), by)
    list(chain.app.send_blast(blast.id, client.app.state.sms, by))
    officer = {"X-Actor": "serka.budi", "X-Facility": "32.73", "X-Device": "phone-9"}
    first = chain.app.recipient_id(nik(serial=1)).hex
    assert client.post(f"/recipients/{first}/visits", headers=officer,
                       json={"unit": "babinsa", "officer": "Serka Budi"}).status_code == 200
    assert client.post(f"/recipients/{first}/visit-report", headers=officer,
                       json={"outcome": "no_phone"}).status_code == 200
    reflect_the_whole_log(client, chain)
    listed = client.get("/districts/32.73/worklist", params={"as_of": "2021-01-14T00:00:00+07:00"}).json()
    assert len(listed["entries"]) == 3
    assert all("*" in e["name"] and "Siti Aminah" not in e["name"] for e in listed["entries"])
    assert listed["outcomes"] == {"": 2, "no_phone": 1}
    assert listed["position"] == chain.app.recorder.max_notification_id()

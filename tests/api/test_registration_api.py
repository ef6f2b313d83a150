"""Web and USSD registration, delivery reports and the desks, end to end through the ASGI app,
on the January 2021 calendar (registration closes at midnight WIB on 13 January)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from application.sms import SmsMessage
from tests.api.conftest import GATEWAY, Accounts
from tests.application.test_recipients import DEADLINE, JAN_14, WIB, import_rows, open_phase
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, reflect_the_whole_log, target_row

PUSKESMAS = "P327301"
JAN_15 = JAN_14 + timedelta(days=1)


@pytest.fixture
def client(chain: ColdChain, api: TestClient) -> TestClient:
    """Vaccine at Puskesmas Sukasari, three targets, phase 1 open; it is the evening of 12 January."""
    chain.release(vials=50, expiry=date(2021, 12, 31))
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 10)))
    chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 5)))
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], chain.by("KEMENKES"))
    open_phase(chain)
    chain.now = datetime(2021, 1, 12, 20, tzinfo=WIB)
    return api


def body(serial: int = 1, **changes: str) -> dict[str, str]:
    return {"nik": nik(serial=serial), "phone_last_four": f"{serial:04d}", "facility": PUSKESMAS,
            "day": JAN_14.isoformat()} | changes


def ussd(client: TestClient, text: str, phone: str = "+6281200000001") -> str:
    response = client.post("/ussd", headers=GATEWAY, data={"sessionId": "ATUid_1", "serviceCode": "*119#",
                                                           "phoneNumber": phone, "text": text})
    assert response.status_code == 200, response.text
    assert response.text.startswith(("CON ", "END ")), response.text
    return response.text


def test_web_registration_then_screening_and_dose_over_http(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    # Given a targeted health worker, When she registers on the web
    registered = client.post("/registrations", json=body())
    assert registered.status_code == 201, registered.text
    ticket = registered.json()["ticket"]
    # Then the ticket is sent to her phone by SMS
    outbox = client.app.state.sms.message(f"ticket-{ticket}")
    assert outbox.phone == "+6281200000001" and ticket in outbox.text
    # And desk 1 of her puskesmas sees her in full (the read is recorded), anyone else masked
    chain.now = datetime(2021, 1, 14, 6, 50, tzinfo=WIB)
    seen = client.get(f"/tickets/{ticket}", headers=accounts("vaksinator")).json()
    assert seen["nik"] == nik(serial=1) and seen["name"] == "Siti Aminah 1" and seen["masked"] is False
    reads = [e for e in chain.app.repository.event_store.get(chain.app.recipient_id(nik(serial=1)))
             if type(e).__name__ == "PersonalDataRead"]
    assert [(e.by.actor, e.purpose) for e in reads] == [("vaksinator", "desk 1")]
    masked = client.get(f"/tickets/{ticket}", headers=accounts("auditor")).json()
    assert masked["nik"] == "3273********0001" and "Siti" not in masked["name"] and masked["masked"] is True
    assert client.get(f"/tickets/{ticket}", headers=accounts("auditor.dki")).status_code == 403
    # When desk 2 screens her at 06:50 WIB (23:50 UTC the day before) and desk 3 doses her at 07:10 WIB
    screened = client.post(f"/tickets/{ticket}/screening", headers=accounts("vaksinator"), json={"result": "eligible"})
    assert screened.status_code == 200, screened.text
    chain.now = datetime(2021, 1, 14, 7, 10, tzinfo=WIB)
    dose = client.post(f"/tickets/{ticket}/dose", headers=accounts("vaksinator"),
                       json={"gtin": CORONAVAC, "lot_number": "CV001"})
    # Then it is the same morning in the puskesmas's zone: the dose is given
    assert dose.status_code == 200, dose.text
    assert dose.json()["result"]["dose"] == "1" and dose.json()["result"]["dose2_due"] == "2021-01-28"
    assert chain.on_hand(PUSKESMAS) == 4
    replay = client.post(f"/tickets/{ticket}/dose", headers=accounts("vaksinator"),
                         json={"gtin": CORONAVAC, "lot_number": "CV001"})
    assert replay.status_code == 409 and "already used" in replay.json()["message"]
    # and the new ticket with the day of dose 2 goes out by SMS
    next_ticket = dose.json()["result"]["next_ticket"]
    assert "2021-01-28" in client.app.state.sms.message(f"ticket-{next_ticket}").text


def test_the_answer_does_not_tell_whether_a_nik_is_on_the_list(client: TestClient, chain: ColdChain) -> None:
    before = last_position(chain.app)
    wrong_digits = client.post("/registrations", json=body(phone_last_four="9999"))
    not_listed = client.post("/registrations", json=body(42))
    assert wrong_digits.status_code == not_listed.status_code == 409
    assert wrong_digits.json() == not_listed.json()
    assert client.post("/registrations", json=body(nik="12345")).status_code == 422
    assert client.post("/registrations", json=body(phone_last_four="12")).status_code == 422
    assert last_position(chain.app) == before


def test_guessing_the_phone_digits_of_one_nik_is_stopped(client: TestClient, chain: ColdChain) -> None:
    answers = [client.post("/registrations", json=body(phone_last_four=f"{guess:04d}")).status_code
               for guess in range(5000, 5008)]
    assert answers[:5] == [409] * 5 and set(answers[5:]) == {429}
    locked = client.post("/registrations", json=body())  # even the right digits wait now
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert client.post("/registrations", json=body(2)).status_code == 201  # another NIK is not held up


def test_registration_closes_at_the_deadline(client: TestClient, chain: ColdChain) -> None:
    chain.now = DEADLINE + timedelta(seconds=1)
    before = last_position(chain.app)
    late = client.post("/registrations", json=body(day=JAN_15.isoformat()))
    assert late.status_code == 409 and "field officer will visit" in late.json()["message"]
    assert ussd(client, f"1*{nik(serial=1)}").startswith("END Pendaftaran sudah ditutup")
    assert last_position(chain.app) == before


@pytest.mark.parametrize(("facility", "day", "why"), [
    (NATIONAL_WAREHOUSE, "2021-01-14", "does not give doses"),
    ("32.73", "2021-01-14", "does not give doses"),
    (PUSKESMAS, "2019-01-14", "Doses of this phase are given on"),
    (PUSKESMAS, "2021-01-20", "Doses of this phase are given on"),
])
def test_a_booking_must_be_at_a_puskesmas_of_the_district_on_a_vaccination_day(
        client: TestClient, chain: ColdChain, facility: str, day: str, why: str) -> None:
    before = last_position(chain.app)
    refused = client.post("/registrations", json=body(facility=facility, day=day))
    assert refused.status_code == 409 and why in refused.json()["message"]
    assert last_position(chain.app) == before


def test_a_registered_person_moves_the_booking_by_the_same_proofs(client: TestClient, chain: ColdChain) -> None:
    assert client.post("/registrations", json=body()).status_code == 201
    moved = client.post("/registrations/booking", json=body(day=JAN_15.isoformat()))
    assert moved.status_code == 200, moved.text
    person = chain.app.find_by_nik(nik(serial=1))
    assert person.day == JAN_15
    assert client.post("/registrations/booking", json=body(phone_last_four="9999")).status_code == 409


def test_full_day_answers_409_with_free_dates(client: TestClient, chain: ColdChain) -> None:
    chain.app.env["DAILY_CAPACITY"] = "1"
    client.app.state.campaign.env["DAILY_CAPACITY"] = "1"
    assert client.post("/registrations", json=body()).status_code == 201
    full = client.post("/registrations", json=body(2))
    assert full.status_code == 409
    assert full.json()["free_days"][0] == JAN_15.isoformat()


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
    unknown = ussd(client, f"1*{nik(serial=77)}")
    wrong_phone = ussd(client, f"1*{nik(serial=1)}", phone="+6281299999999")
    assert unknown == wrong_phone and unknown.startswith("END NIK dan nomor HP ini tidak cocok")
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


def test_forged_gateway_callbacks_are_refused_and_write_nothing(client: TestClient, chain: ColdChain) -> None:
    recipient = chain.app.find_by_nik(nik(serial=1))
    message_id = f"abcdef123456-{recipient.id.hex}"
    client.app.state.sms.send([SmsMessage(message_id, recipient.phone, "Daftar ulang")])
    before = last_position(chain.app)
    report = {"id": message_id, "status": "Success"}
    ussd_form = {"sessionId": "x", "serviceCode": "*119#", "phoneNumber": "+6281200000001",
                 "text": f"1*{nik(serial=1)}*1*1*1*1"}
    for headers in ({}, {"X-Gateway-Secret": "guess"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        assert client.post("/sms/delivery-reports", data=report, headers=headers).status_code == 401
        assert client.post("/ussd", data=ussd_form, headers=headers).status_code == 401
    # a report for a message Rantai never sent, even naming a real recipient, is refused
    never_sent = {"id": f"000000000000-{recipient.id.hex}", "status": "Success"}
    assert client.post("/sms/delivery-reports", data=never_sent, headers=GATEWAY).status_code == 404
    assert last_position(chain.app) == before
    # while HTTP Basic with the secret as password is the provider's other way in
    basic = {"Authorization": "Basic " + __import__("base64").b64encode(b"provider:test-gateway-secret").decode()}
    assert client.post("/sms/delivery-reports", data=report, headers=basic).status_code == 200


def test_delivery_reports_are_recorded_on_the_recipient(client: TestClient, chain: ColdChain) -> None:
    recipient = chain.app.find_by_nik(nik(serial=1))
    message_id = f"abcdef123456-{recipient.id.hex}"
    client.app.state.sms.send([SmsMessage(message_id, recipient.phone, "Daftar ulang")])
    report = {"id": message_id, "status": "Failed", "failureReason": "AbsentSubscriber"}
    assert client.post("/sms/delivery-reports", data=report, headers=GATEWAY).status_code == 200
    assert client.post("/sms/delivery-reports", data=report, headers=GATEWAY).json()["repeated"] is True
    assert client.post("/sms/delivery-reports", data=report | {"status": "Buffered"}, headers=GATEWAY).status_code == 200
    assert chain.app.find_by_nik(nik(serial=1)).delivery == {
        "message_id": message_id, "status": "failed", "reason": "AbsentSubscriber"}
    assert client.post("/sms/delivery-reports", data=report | {"id": "nonsense"}, headers=GATEWAY).status_code == 404


def test_worklist_shows_masked_non_responders_and_takes_visit_reports(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", datetime(2021, 1, 13, 17, tzinfo=UTC), by)
    list(chain.app.send_blast(blast.id, client.app.state.sms, by))
    chain.now = datetime(2021, 1, 14, 9, tzinfo=WIB)
    first = chain.app.recipient_id(nik(serial=1)).hex
    officer = accounts("petugas")
    assert client.post(f"/recipients/{first}/visits", headers=officer,
                       json={"unit": "babinsa", "officer": "Serka Budi"}).status_code == 200
    assert client.post(f"/recipients/{first}/visit-report", headers=officer,
                       json={"outcome": "no_phone"}).status_code == 200
    assert client.post(f"/recipients/{first}/visits", headers=accounts("petugas.jaksel"),
                       json={"unit": "babinsa", "officer": "x"}).status_code == 403
    reflect_the_whole_log(client, chain)
    listed = client.get("/districts/32.73/worklist", headers=officer,
                        params={"as_of": "2021-01-14T00:00:00+07:00"}).json()
    assert len(listed["entries"]) == 3
    assert all("*" in e["name"] and "Siti Aminah" not in e["name"] for e in listed["entries"])
    assert listed["outcomes"] == {"": 2, "no_phone": 1}
    assert listed["position"] == chain.app.recorder.max_notification_id()
    assert client.get("/districts/32.73/worklist", headers=accounts("petugas.jaksel")).status_code == 403
    # the officer opens one person's record to visit them: unmasked, and the read is recorded
    person = client.get(f"/recipients/{first}", headers=officer).json()
    assert person["name"] == "Siti Aminah 1" and person["masked"] is False
    auditor_view = client.get(f"/recipients/{first}", headers=accounts("auditor")).json()
    assert auditor_view["masked"] is True and "Siti Aminah" not in auditor_view["name"]


def test_an_officer_registers_in_the_field_after_the_deadline(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    chain.now = datetime(2021, 1, 14, 9, tzinfo=WIB)
    field = {"nik": nik(serial=3), "facility": PUSKESMAS, "day": JAN_15.isoformat()}
    assert client.post("/registrations/field", headers=accounts("vaksinator"), json=field).status_code == 403
    assert client.post("/registrations/field", headers=accounts("petugas.jaksel"), json=field).status_code == 403
    registered = client.post("/registrations/field", headers=accounts("petugas"), json=field)
    assert registered.status_code == 201, registered.text
    assert chain.app.find_by_nik(nik(serial=3)).channel.value == "field"

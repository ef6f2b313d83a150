"""POST /scans: a code's text or a photo in; what it names and whether the handoff may happen now.

Every payload form a scanner sends, every hostile upload, and the action
checks (the same answer the command would give, with nothing written), on
both backends. The label routes are here too: PNG, SVG and an A4 PDF.
"""

from __future__ import annotations

import io
from datetime import date

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from application.logistics import NATIONAL_WAREHOUSE
from domain.recipient import Channel, ScreeningResult
from interfaces.scanner.digital_link import lot_uri, shipment_uri
from interfaces.scanner.labels import human_sscc, qr_png
from tests.api.conftest import Accounts
from tests.application.test_recipients import JAN_14, import_rows, open_phase
from tests.scanner import hostile
from tests.scanner.test_decoding import jpeg, photo_of, symbol
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, target_row

PUSKESMAS = "P327301"
GS = "\x1d"


@pytest.fixture
def client(chain: ColdChain, api: TestClient) -> TestClient:
    chain.release(vials=200)
    return api


def scan(client: TestClient, who: Accounts, account: str, text: str, action: str | None = None,
         **extra: str) -> dict[str, object]:
    body = {"text": text, **({"action": action} if action else {}), **extra}
    answer = client.post("/scans", headers=who(account), json=body)
    return {"status": answer.status_code, **answer.json()}


def upload(client: TestClient, who: Accounts, account: str, data: bytes, action: str | None = None,
           name: str = "photo.jpg") -> dict[str, object]:
    answer = client.post("/scans", headers=who(account), files={"photo": (name, data, "image/jpeg")},
                         data={"action": action} if action else {})
    return {"status": answer.status_code, **answer.json()}


# What a code says, in every form a scanner sends it

def test_a_shipment_label_in_every_form_names_the_shipment_with_its_lines_and_status(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    forms = [shipment_uri(sscc), sscc, f"00{sscc}", f"]C100{sscc}", human_sscc(sscc),
             f"https://resolver.kemkes.go.id/00/{sscc}"]
    for text in forms:
        answer = scan(client, accounts, "gudang.jabar", text)
        assert answer["status"] == 200, (text, answer)
        assert answer["kind"] == "shipment" and answer["read"] == [{"text": text, "symbology": None, "position": None}]
        shipment = answer["shipment"]
        assert (shipment["sscc"], shipment["status"], shipment["origin"], shipment["destination"]) == (
            sscc, "dispatched", NATIONAL_WAREHOUSE, "32")
        assert shipment["lines"] == [{"gtin": CORONAVAC, "lot_number": "CV001", "vials": 5}]
    # and the first version's field name is still understood
    old = client.post("/scans", headers=accounts("gudang.jabar"), json={"payload": shipment_uri(sscc)})
    assert old.status_code == 200 and old.json()["shipment"]["sscc"] == sscc


def test_a_vial_code_in_every_form_names_the_lot_with_its_expiry_and_status(
        client: TestClient, accounts: Accounts) -> None:
    forms = {
        lot_uri(CORONAVAC, "CV001", date(2021, 12, 31), "S1"): "S1",
        f"]d201{CORONAVAC}17211231" + f"10CV001{GS}21S2": "S2",
        f"]d201{CORONAVAC}1721123110CV001<GS>21S3": "S3",
        f"(01){CORONAVAC}(17)211231(10)CV001(21)S4": "S4",
        f"01{CORONAVAC}10CV001": None,
    }
    for text, serial in forms.items():
        answer = scan(client, accounts, "gudang.biofarma", text, symbology="datamatrix")
        assert answer["status"] == 200, (text, answer)
        assert answer["kind"] == "lot" and answer["read"][0]["symbology"] == "datamatrix"
        assert answer["lot"] == {"gtin": CORONAVAC, "lot_number": "CV001", "product": "CoronaVac",
                                 "expiry": "2021-12-31", "status": "released",
                                 "label_expiry": None if serial is None else "2021-12-31", "serial": serial}


def test_a_ticket_names_the_booking_with_personal_data_masked(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    ticket = book(chain)
    before = last_position(chain.app)
    answer = scan(client, accounts, "vaksinator", ticket.lower())
    assert answer["status"] == 200 and answer["kind"] == "ticket"
    shown = answer["ticket"]
    assert shown["masked"] is True and shown["facility"] == PUSKESMAS and shown["day"] == JAN_14.isoformat()
    assert nik(serial=1) not in str(answer) and shown["nik"].count("*") == 8
    assert last_position(chain.app) == before  # a masked look is not a recorded read of personal data


@pytest.mark.parametrize(("text", "status", "words"), [
    (shipment_uri("089928060000000014"), 422, "wrong check digit"),
    ("089928060000000014", 422, "wrong check digit"),
    (f"]d201{CORONAVAC[:-1]}0" + "10CV001", 422, "wrong check digit"),
    (f"(01){CORONAVAC[:-1]}0(10)CV001", 422, "wrong check digit"),
    ("08992806000000001", 422, "has 18"),  # a bare SSCC cut short
    (shipment_uri("0899280600000")[:-1], 422, "incomplete"),
    (f"]d201{CORONAVAC}1721", 422, "cut short"),
    ("https://example.com/promo", 422, "not a Rantai shipment label"),
    (CORONAVAC, 422, "not its lot"),  # a bare GTIN: the product, not the lot
    ("089928060000000013", 404, "No shipment has the label 089928060000000013"),  # well formed, unknown
    (lot_uri(CORONAVAC, "NOPE1", date(2021, 12, 31)), 404, "Lot NOPE1"),
    ("ABCDEFGH23", 404, "This ticket is not known"),
])
def test_a_code_that_cannot_be_read_or_names_nothing_is_refused_with_the_reason(
        client: TestClient, chain: ColdChain, accounts: Accounts, text: str, status: int, words: str) -> None:
    before = last_position(chain.app)
    answer = scan(client, accounts, "admin", text)
    assert answer["status"] == status and words in answer["message"], answer
    assert last_position(chain.app) == before


# Whether the handoff may happen now: the command's own answer, nothing written

@pytest.mark.parametrize(("text", "action", "words"), [
    ("lot", "dispatch", "To dispatch, scan the shipment's label"),
    ("lot", "receive", "To receive, scan the shipment's label"),
    ("shipment", "dose", "To give a dose, scan the recipient's ticket or the vial"),
])
def test_a_code_of_the_wrong_kind_for_the_action_is_refused(
        client: TestClient, chain: ColdChain, accounts: Accounts, text: str, action: str, words: str) -> None:
    code = lot_uri(CORONAVAC, "CV001", date(2021, 12, 31)) if text == "lot" else \
        shipment_uri(chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5)))
    answer = scan(client, accounts, "admin", code, action)
    assert answer["status"] == 422 and words in answer["message"]


def test_dispatch_is_allowed_for_a_packed_shipment_at_its_origin_and_refused_once_gone(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    before = last_position(chain.app)
    allowed = scan(client, accounts, "gudang.biofarma", shipment_uri(sscc), "dispatch")
    assert allowed["status"] == 200 and allowed["action"] == {"name": "dispatch", "allowed": True}
    # the receiver may see it but not scan it out; nor may a vaccinator dispatch at all
    there = scan(client, accounts, "gudang.jabar", shipment_uri(sscc), "dispatch")
    assert there["status"] == 403 and "this shipment leaves from BIOFARMA" in there["message"]
    role = scan(client, accounts, "vaksinator", shipment_uri(sscc), "dispatch")
    assert role["status"] == 403 and "may not dispatch" in role["message"]
    # once it has left, scanning it out again is refused with when it left
    assert last_position(chain.app) == before
    chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))
    before = last_position(chain.app)
    again = scan(client, accounts, "gudang.biofarma", shipment_uri(sscc), "dispatch")
    assert again["status"] == 409 and "already dispatched" in again["message"]
    assert last_position(chain.app) == before


def test_receive_is_allowed_once_dispatched_at_its_destination(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    early = scan(client, accounts, "gudang.jabar", sscc, "receive")
    assert early["status"] == 409 and "not been dispatched yet" in early["message"]
    chain.app.dispatch(sscc, chain.by(NATIONAL_WAREHOUSE))
    before = last_position(chain.app)
    assert scan(client, accounts, "gudang.jabar", sscc, "receive")["status"] == 200
    elsewhere = scan(client, accounts, "gudang.biofarma", sscc, "receive")
    assert elsewhere["status"] == 403 and "addressed to 32" in elsewhere["message"]
    assert last_position(chain.app) == before
    chain.receive_all(sscc)
    late = scan(client, accounts, "gudang.jabar", sscc, "receive")
    assert late["status"] == 409 and "already received" in late["message"]


def test_a_dose_needs_a_usable_lot_and_a_ticket_screened_today(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    ticket = book(chain)
    vial = lot_uri(CORONAVAC, "CV001", date(2021, 12, 31), "S1")
    before = last_position(chain.app)
    assert scan(client, accounts, "vaksinator", vial, "dose")["status"] == 200
    unscreened = scan(client, accounts, "vaksinator", ticket, "dose")
    assert unscreened["status"] == 409 and "Screen the recipient at desk 2" in unscreened["message"]
    assert last_position(chain.app) == before
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, chain.by(PUSKESMAS))
    screened = scan(client, accounts, "vaksinator", ticket, "dose")
    assert screened["status"] == 200 and screened["action"] == {"name": "dose", "allowed": True}
    elsewhere = scan(client, accounts, "admin", ticket, "dose")
    assert elsewhere["status"] == 403  # an admin sees the booking but gives no dose
    # a lot past its expiry, or recalled, is refused
    chain.release(lot="OLD1", vials=5, expiry=date(2021, 1, 10))
    chain.later(8)
    expired = scan(client, accounts, "vaksinator", lot_uri(CORONAVAC, "OLD1", date(2021, 1, 10)), "dose")
    assert expired["status"] == 409 and "expired on 2021-01-10" in expired["message"]
    chain.app.recall_lot(CORONAVAC, "CV001", "BPOM notice", chain.by(NATIONAL_WAREHOUSE, "admin"))
    recalled = scan(client, accounts, "vaksinator", vial, "dose")
    assert recalled["status"] == 409 and "recalled" in recalled["message"]


def book(chain: ColdChain) -> str:
    """A health worker registered at the puskesmas for 14 January: their ticket."""
    import_rows(chain.app, [target_row(1)], chain.by("KEMENKES"))
    open_phase(chain)
    return chain.app.register(nik(serial=1), "0001", Channel.WEB, PUSKESMAS, JAN_14).result["ticket"]


# A photo instead of text

def test_a_photo_of_a_label_is_read_and_named(client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    label = client.get(f"/shipments/{sscc}/label.png", headers=accounts("gudang.jabar")).content
    photo = jpeg(photo_of(Image.open(io.BytesIO(label)), size=(1800, 1400)))
    answer = upload(client, accounts, "gudang.jabar", photo, "receive")
    assert answer["status"] == 200, answer
    assert answer["kind"] == "shipment" and answer["shipment"]["sscc"] == sscc
    [read] = answer["read"]
    assert read["text"] == shipment_uri(sscc) and read["symbology"] == "qr" and len(read["position"]) == 4
    assert answer["action"] == {"name": "receive", "allowed": True}


def test_a_photo_of_a_vials_datamatrix_names_the_lot(client: TestClient, accounts: Accounts) -> None:
    vial = symbol(f"(01){CORONAVAC}(17)211231(10)CV001(21)7K3MX9Q2PD", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    answer = upload(client, accounts, "vaksinator", jpeg(photo_of(vial)), "dose")
    assert answer["status"] == 200, answer
    assert answer["read"][0]["symbology"] == "datamatrix"
    assert answer["lot"]["lot_number"] == "CV001" and answer["lot"]["serial"] == "7K3MX9Q2PD"


def test_a_photo_without_a_code_or_with_two_labels_is_refused(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    empty = upload(client, accounts, "admin", jpeg(Image.new("L", (900, 700), 150)))
    assert empty["status"] == 422 and "No code was found" in empty["message"]
    a, b = (chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 1)) for _ in range(2))
    two = [Image.open(io.BytesIO(qr_png(shipment_uri(s), box_size=6))) for s in (a, b)]
    pallet = upload(client, accounts, "admin", jpeg(photo_of(*two, size=(1600, 800))))
    assert pallet["status"] == 422 and "2 different codes" in pallet["message"]


# Hostile uploads: refused with a reason, nothing written, memory bounded

@pytest.mark.parametrize(("data", "words"), [
    (hostile.NOT_AN_IMAGE, "not a photo the scanner can read"),
    (hostile.EMPTY, "empty"),
    (hostile.HEIC, "HEIC"),
])
def test_a_file_that_is_not_a_photo_is_refused(
        client: TestClient, chain: ColdChain, accounts: Accounts, data: bytes, words: str) -> None:
    before = last_position(chain.app)
    answer = upload(client, accounts, "gudang.jabar", data)
    assert answer["status"] == 422 and words in answer["message"]
    assert last_position(chain.app) == before


def test_a_truncated_jpeg_is_refused(client: TestClient, accounts: Accounts) -> None:
    answer = upload(client, accounts, "gudang.jabar", hostile.truncated_jpeg())
    assert answer["status"] == 422 and "cut short" in answer["message"]


def test_a_decompression_bomb_is_refused_before_any_pixel_is_decompressed(
        client: TestClient, chain: ColdChain, accounts: Accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 30000 x 30000 PNG of ~150 KB (900 megapixels decompressed)
    before = last_position(chain.app)
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels were decompressed"))
    # When it is uploaded, Then it is refused from its header, in words
    answer = upload(client, accounts, "gudang.jabar", hostile.bomb_png(), name="bomb.png")
    assert answer["status"] == 422 and "too many pixels" in answer["message"]
    assert last_position(chain.app) == before


def test_a_photo_of_more_than_16_megapixels_is_refused_though_its_file_is_small(
        client: TestClient, accounts: Accounts) -> None:
    buffer = io.BytesIO()
    Image.new("L", (5000, 4000), 255).save(buffer, format="PNG")  # 20 megapixels in ~20 KB
    answer = upload(client, accounts, "gudang.jabar", buffer.getvalue(), name="flat.png")
    assert answer["status"] == 422 and "(5,000 x 4,000); at most 16 megapixels" in answer["message"]


def test_a_100_mb_upload_is_refused_with_413_before_it_is_read(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    before = last_position(chain.app)
    huge = client.post("/scans", headers=accounts("gudang.jabar"),
                       files={"photo": ("huge.jpg", b"\xff" * 100_000_000, "image/jpeg")})
    assert huge.status_code == 413 and huge.json()["error"] == "BodyTooLarge"

    def chunks():  # no Content-Length: refused once the stream passes the limit
        yield b"--x\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\n"
        for _ in range(100):
            yield b"\xff" * 1_000_000

    streamed = client.post("/scans", content=chunks(),
                           headers=accounts("gudang.jabar", **{"Content-Type": "multipart/form-data; boundary=x"}))
    assert streamed.status_code == 413
    assert last_position(chain.app) == before


def test_a_body_that_is_neither_json_nor_a_form_is_refused(client: TestClient, accounts: Accounts) -> None:
    text = client.post("/scans", headers=accounts("admin", **{"Content-Type": "text/plain"}), content=b"hello")
    assert text.status_code == 400 and "multipart" in text.json()["message"]
    broken = client.post("/scans", headers=accounts("admin", **{"Content-Type": "application/json"}), content=b"{")
    assert broken.status_code == 400
    unknown = upload(client, accounts, "admin", hostile.label_jpeg(), action="sell")
    assert unknown["status"] == 422 and "Unknown action" in unknown["message"]
    assert client.post("/scans", json={"text": "ABCDEFGH23"}).status_code == 401


# Labels as PNG, SVG and an A4 PDF

def test_the_label_in_every_format_says_what_a_person_needs(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    who = accounts("gudang.jabar")
    png = client.get(f"/shipments/{sscc}/label.png", headers=who)
    assert png.headers["content-type"] == "image/png" and Image.open(io.BytesIO(png.content)).size == (1240, 877)
    svg = client.get(f"/shipments/{sscc}/label.svg", headers=who)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    for words in (human_sscc(sscc), "PT Bio Farma (BIOFARMA)", "JAWA BARAT (32)", "Packed 2021-01-03",
                  "CoronaVac · CV001 · 2021-12-31 · 5"):
        assert words in svg.text, words
    pdf = client.get(f"/shipments/{sscc}/label.pdf", headers=who)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.content.count(b"/Type /Page\n") == 1
    assert client.get(f"/shipments/{sscc}/label.svg", headers=accounts("gudang.dki")).status_code == 403
    assert client.get(f"/shipments/{sscc}/label.pdf").status_code == 401


def test_lot_labels_carry_gtin_lot_expiry_and_a_fresh_serial_each_and_fill_sheets(
        client: TestClient, accounts: Accounts) -> None:
    who = accounts("gudang.bandung")
    png = client.get(f"/lots/{CORONAVAC}/CV001/label.png", headers=who)
    assert png.headers["content-type"] == "image/png"
    read = [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))]
    assert len(read) == 1 and read[0].startswith(f"https://id.gs1.org/01/{CORONAVAC}/10/CV001/21/")
    assert read[0].endswith("?17=211231")
    svgs = [client.get(f"/lots/{CORONAVAC}/CV001/label.svg", headers=who).text for _ in range(2)]
    assert "CV001" in svgs[0] and svgs[0] != svgs[1]  # each vial its own serial
    plain = client.get(f"/lots/{CORONAVAC}/CV001/label.svg", headers=who, params={"serial": "false"}).text
    assert "/21/" not in plain
    sheets = client.get(f"/lots/{CORONAVAC}/CV001/labels.pdf", headers=who, params={"count": 30})
    assert sheets.content.startswith(b"%PDF") and sheets.content.count(b"/Type /Page\n") == 2  # 24 a page
    too_many = client.get(f"/lots/{CORONAVAC}/CV001/labels.pdf", headers=who, params={"count": 100_000})
    assert too_many.status_code == 422
    assert client.get(f"/lots/{CORONAVAC}/NOPE/label.png", headers=who).status_code == 404
    assert client.get(f"/lots/{CORONAVAC}/CV001/label.png", headers=accounts("vaksinator")).status_code == 403


def test_a_reprinted_ticket_carries_its_code_the_place_and_day_never_the_nik(
        client: TestClient, chain: ColdChain, accounts: Accounts) -> None:
    ticket = book(chain)
    svg = client.get(f"/tickets/{ticket}/label.svg", headers=accounts("vaksinator"))
    assert svg.status_code == 200 and f"{ticket[:5]} {ticket[5:]}" in svg.text and nik(serial=1) not in svg.text
    png = client.get(f"/tickets/{ticket}/label.png", headers=accounts("vaksinator"))
    assert [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))] == [ticket]
    assert client.get(f"/tickets/{ticket}/label.png", headers=accounts("petugas")).status_code == 403

"""One parser for every source: what a phone, a handheld scanner or a browser decoder sends."""

from __future__ import annotations

from datetime import date

import pytest

from interfaces.scanner.digital_link import (
    LotLabel,
    ScanNotUnderstood,
    ShipmentLabel,
    TicketCode,
    lot_uri,
    read,
    shipment_uri,
)
from interfaces.scanner.handoff import check_kind
from interfaces.scanner.labels import human_sscc

SSCC = "089928060000000013"
GTIN = "06970000000017"
GS = "\x1d"
VIAL = LotLabel(GTIN, "A202012001", date(2023, 12, 31), "X9K2")


@pytest.mark.parametrize("text", [
    SSCC,
    f"00{SSCC}",
    f"]C100{SSCC}",
    f"]Q300{SSCC}",
    f"(00){SSCC}",
    human_sscc(SSCC),  # "(00) 0 8992806 000000001 3", as printed under the code
    shipment_uri(SSCC),
    f"https://resolver.kemkes.go.id/rantai/00/{SSCC}",
    f"  {shipment_uri(SSCC)}\r\n",  # a keyboard wedge's Enter
])
def test_reads_a_shipment_label_in_every_form(text: str) -> None:
    assert read(text) == ShipmentLabel(SSCC)


@pytest.mark.parametrize("text", [
    f"]d201{GTIN}17231231" + f"10A202012001{GS}21X9K2",  # a DataMatrix: group separator as ASCII 29
    f"]d201{GTIN}1723123110A202012001<GS>21X9K2",  # a browser decoder's spelling of it
    f"]d201{GTIN}1723123110A202012001{{GS}}21X9K2",
    f"]Q301{GTIN}1723123110A202012001{GS}21X9K2",  # GS1 QR
    f"]C101{GTIN}1723123110A202012001{GS}21X9K2",  # GS1-128
    f"01{GTIN}1723123110A202012001{GS}21X9K2",  # no symbology identifier
    f"01{GTIN}17231231" + "21X9K2" + GS + "10A202012001",  # other order; none after the fixed-length (17)
    f"(01){GTIN}(17)231231(10)A202012001(21)X9K2",
    f"(01) {GTIN} (17) 231231 (10) A202012001 (21) X9K2",
    f"(01){GTIN}(17)231200(10)A202012001(21)X9K2".replace("231200", "231231"),
    lot_uri(GTIN, "A202012001", date(2023, 12, 31), "X9K2"),
    f"https://id.gs1.org/01/{GTIN}/10/A202012001/17/231231/21/X9K2",  # the design brief's path form
])
def test_reads_a_vial_code_in_every_form(text: str) -> None:
    assert read(text) == VIAL


def test_day_00_of_an_expiry_is_the_months_last_day() -> None:
    assert read(f"]d201{GTIN}1702020010L1").expiry == date(2002, 2, 28)


def test_a_percent_encoded_lot_number_is_decoded() -> None:
    assert read(f"https://id.gs1.org/01/{GTIN}/10/A%2F1?17=231231").lot_number == "A/1"


@pytest.mark.parametrize("text", [GTIN, GTIN[1:], f"]E0{GTIN[1:]}", f"01{GTIN}", f"https://id.gs1.org/01/{GTIN}"])
def test_a_bare_gtin_names_the_product_without_its_lot(text: str) -> None:
    label = read(text)
    assert label == LotLabel(GTIN, None)
    with pytest.raises(ScanNotUnderstood, match="not its lot"):
        label.check_names_a_lot()


@pytest.mark.parametrize("text", ["ABCDEFGH23", "abcdefgh23", "]Q1ABCDEFGH23", " XYZ2345678 "])
def test_reads_a_ticket(text: str) -> None:
    assert read(text) == TicketCode(text.strip().removeprefix("]Q1").upper())


def test_a_nik_is_not_a_ticket() -> None:
    with pytest.raises(ScanNotUnderstood):
        read("3273011708850001")


@pytest.mark.parametrize(("text", "words"), [
    (SSCC[:-1] + "4", "wrong check digit"),
    (f"00{SSCC[:-1]}4", "wrong check digit"),
    (shipment_uri(SSCC[:-1] + "4"), "wrong check digit"),
    (f"(00) 0 8992806 000000001 4", "wrong check digit"),
    (f"]d201{GTIN[:-1]}8" + "10A1", "wrong check digit"),
    (f"https://id.gs1.org/01/{GTIN[:-1]}8/10/A1?17=231231", "wrong check digit"),
    (f"(01){GTIN[:-1]}8(10)A1", "wrong check digit"),
])
def test_refuses_a_wrong_check_digit(text: str, words: str) -> None:
    with pytest.raises(ScanNotUnderstood, match=words):
        read(text)


@pytest.mark.parametrize(("text", "words"), [
    (SSCC[:-1], "17 digits"),  # a bare SSCC cut short
    (SSCC[:11], "11 digits; a product code \\(GTIN\\) has 14"),
    (shipment_uri(SSCC)[:-3], "incomplete"),
    (f"]d201{GTIN}1723", "cut short or damaged"),  # an expiry cut off
    (f"]d201{GTIN[:9]}", "cut short or damaged"),
    (f"(01){GTIN}(17)2312", "not a real date"),
    (f"(01){GTIN}(10", "cut short or damaged"),
    ("https://id.gs1.org/01/", "cut short or damaged"),
])
def test_refuses_a_truncated_code_in_plain_words(text: str, words: str) -> None:
    with pytest.raises(ScanNotUnderstood, match=words):
        read(text)


@pytest.mark.parametrize(("text", "words"), [
    ("", "empty"),
    ("   ", "empty"),
    ("hello", "not a Rantai shipment label"),
    ("https://example.com/hello", "not a Rantai shipment label"),
    (f"(01){GTIN}(17)231399(10)A1", "not a real date"),
    (f"https://id.gs1.org/01/{GTIN}/10/A1?17=231399", "not a real date"),
])
def test_refuses_what_is_not_a_code_it_knows(text: str, words: str) -> None:
    with pytest.raises(ScanNotUnderstood, match=words):
        read(text)


@pytest.mark.parametrize(("text", "action", "words"), [
    (lot_uri(GTIN, "A1", date(2023, 12, 31)), "dispatch", "scan the shipment's label"),
    ("ABCDEFGH23", "receive", "scan the shipment's label"),
    (SSCC, "dose", "scan the recipient's ticket or the vial"),
])
def test_refuses_a_code_of_the_wrong_kind_for_the_action(text: str, action: str, words: str) -> None:
    with pytest.raises(ScanNotUnderstood, match=words):
        check_kind(read(text), action)  # type: ignore[arg-type]

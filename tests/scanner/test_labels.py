"""Labels are GS1 Digital Link QR codes that any phone can read; bad scans get plain words."""

from datetime import date

import pytest

from interfaces.scanner.digital_link import (
    LotLabel,
    ScanNotUnderstood,
    ShipmentLabel,
    lot_uri,
    read,
    shipment_uri,
)
from interfaces.scanner.labels import decode_image, qr_png

SSCC = "089928062939760921"
GTIN = "06970000000017"


def test_shipment_label_round_trips_through_a_qr_image() -> None:
    payload = shipment_uri(SSCC)
    assert decode_image(qr_png(payload)) == [payload]
    assert read(payload) == ShipmentLabel(SSCC)


def test_lot_label_reads_gtin_lot_expiry_and_serial() -> None:
    payload = lot_uri(GTIN, "A202012001", date(2023, 12, 31), serial="X9")
    assert read(decode_image(qr_png(payload))[0]) == LotLabel(GTIN, "A202012001", date(2023, 12, 31), "X9")


def test_design_brief_path_form_with_expiry_in_the_path_is_accepted() -> None:
    label = read(f"https://id.gs1.org/01/{GTIN}/10/A1/17/231231/21/S1")
    assert label == LotLabel(GTIN, "A1", date(2023, 12, 31), "S1")


def test_a_bare_sscc_from_a_handheld_scanner_is_read() -> None:
    assert read(SSCC) == ShipmentLabel(SSCC)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ("https://id.gs1.org/00/089928062939760922", "wrong check digit"),
        (f"https://id.gs1.org/01/{GTIN[:-1]}8/10/A1?17=231231", "wrong check digit"),
        (f"https://id.gs1.org/01/{GTIN}/10/A1?17=231399", "not a real date"),
        ("https://example.com/hello", "not a Rantai shipment label"),
        ("", "empty"),
    ],
)
def test_refuses_what_it_cannot_read_in_plain_words(payload: str, words: str) -> None:
    with pytest.raises(ScanNotUnderstood, match=words):
        read(payload)

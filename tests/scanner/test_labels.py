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


# The printed labels: what a person reads beside the code, and the code read back

from xml.etree import ElementTree

from interfaces.scanner import drawing
from interfaces.scanner.labels import (
    SHIPMENT_SYMBOL,
    LineCard,
    LotCard,
    ShipmentCard,
    TicketCard,
    human_sscc,
    lot_label,
    lot_pdf,
    shipment_label,
    shipment_pdf,
    ticket_label,
)

CARD = ShipmentCard(SSCC, "PT Bio Farma (BIOFARMA)", "Dinas Kesehatan Kota Jakarta Selatan (31.71)", date(2021, 1, 3),
                    tuple(LineCard("CoronaVac", f"CV{i:03d}", date(2021, 12, 31), 10 * i) for i in range(1, 13)))


def texts(label: drawing.Drawing) -> list[str]:
    return [item.text for item in label.items if isinstance(item, drawing.Text)]


def test_the_sscc_is_printed_grouped_as_gs1_prints_it() -> None:
    assert human_sscc("089928060000000017") == "(00) 0 8992806 000000001 7"
    assert human_sscc("089928060000000017", prefix_length=9) == "(00) 0 899280600 0000001 7"


def test_a_shipment_label_says_where_from_where_to_what_and_when() -> None:
    label = shipment_label(CARD)
    words = texts(label)
    assert human_sscc(SSCC) in words and "PT Bio Farma (BIOFARMA)" in words and "Packed 2021-01-03" in words
    assert "Dinas Kesehatan Kota Jakarta" in words and "Selatan (31.71)" in words  # wrapped, not cut
    assert "CoronaVac · CV001 · 2021-12-31 · 10" in words
    assert any(w.startswith("+ ") and "more lots" in w for w in words)  # twelve lots do not fit: the rest is counted
    assert all(item.x + drawing.text_width(item.text, item.size) <= label.width for item in label.items
               if isinstance(item, drawing.Text))
    # and its code, at the measured module size, is read back from the printed label
    [code] = [item for item in label.items if isinstance(item, drawing.Code)]
    assert code.module == SHIPMENT_SYMBOL.module
    assert decode_image(drawing.png(label)) == [shipment_uri(SSCC)]


def test_the_resolver_of_the_codes_can_be_chosen() -> None:
    label = shipment_label(CARD, resolver="https://resolver.kemkes.go.id/")
    assert decode_image(drawing.png(label)) == [f"https://resolver.kemkes.go.id/00/{SSCC}"]


def test_a_serialised_vial_label_is_read_back_to_its_gtin_lot_expiry_and_serial() -> None:
    card = LotCard(GTIN, "A202012001", date(2023, 12, 31), "CoronaVac", "K7Q2M9X4PD")
    label = lot_label(card)
    assert {"(01) 06970000000017", "(10) A202012001", "(17) 231231", "EXP 2023-12-31", "(21) K7Q2M9X4PD"} <= set(
        texts(label))
    assert [read(t) for t in decode_image(drawing.png(label))] == [
        LotLabel(GTIN, "A202012001", date(2023, 12, 31), "K7Q2M9X4PD")]


def test_a_ticket_carries_only_its_opaque_code() -> None:
    label = ticket_label(TicketCard("ABCDEFGH23", "Puskesmas Sukasari (P327301)", date(2021, 1, 14), 1))
    assert decode_image(drawing.png(label)) == ["ABCDEFGH23"]
    assert "ABCDE FGH23" in texts(label) and "14 Januari 2021" in texts(label)


def test_the_svg_is_well_formed_with_the_code_as_one_path_and_the_words_as_text() -> None:
    svg = ElementTree.fromstring(drawing.svg(shipment_label(CARD)))
    assert svg.get("width") == "105mm" and svg.get("viewBox").startswith("0 0 105 74.25")
    ns = "{http://www.w3.org/2000/svg}"
    assert len(svg.findall(f"{ns}path")) == 1
    assert human_sscc(SSCC) in [t.text for t in svg.findall(f"{ns}text")]


def test_a4_sheets_hold_8_shipment_labels_or_24_lot_labels_a_page() -> None:
    def pages(pdf: bytes) -> int:
        assert pdf.startswith(b"%PDF")
        return pdf.count(b"/Type /Page\n")  # Pillow writes each page's dictionary so

    assert pages(shipment_pdf([CARD] * 9)) == 2
    lots = [LotCard(GTIN, "A1", date(2023, 12, 31), "CoronaVac", f"S{i}") for i in range(25)]
    assert pages(lot_pdf(lots)) == 2
    assert pages(lot_pdf(lots[:24])) == 1

"""Every code in a photo, with its symbology and position; files that are not photos refused in words."""

from __future__ import annotations

import io
from datetime import date

import pytest
import zxingcpp
from PIL import Image, ImageFilter

from interfaces.scanner import decoding
from interfaces.scanner.decoding import ImageRefused, decode
from interfaces.scanner.digital_link import LotLabel, ShipmentLabel, lot_uri, read, shipment_uri
from interfaces.scanner.labels import qr_png
from tests.scanner import hostile

GTIN = "08992806000013"  # a Bio Farma product (GS1 Indonesia prefix 899)


def jpeg(image: Image.Image, quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def symbol(content: str, kind: zxingcpp.BarcodeFormat, scale: int = 6, **options: bool) -> Image.Image:
    """A symbol drawn by zxing-cpp's writer, as a Pillow image."""
    drawn = memoryview(zxingcpp.create_barcode(content, kind, **options).to_image(scale=scale))
    return Image.frombytes("L", (drawn.shape[1], drawn.shape[0]), drawn.tobytes())


def photo_of(*codes: Image.Image, size: tuple[int, int] = (1600, 1200), angle: float = 17) -> Image.Image:
    """The codes on a grey table, turned, slightly out of focus."""
    table = Image.new("L", size, 150)
    x = 80
    for code in codes:
        turned = code.convert("L").rotate(angle, expand=True, fillcolor=150)
        table.paste(turned, (x, 120))
        x += turned.width + 80
    return table.filter(ImageFilter.GaussianBlur(0.8))


def test_a_gs1_datamatrix_on_a_bio_farma_vial_is_read_and_parsed() -> None:
    # Given a vial's GS1 DataMatrix (GTIN, expiry, lot, serial) photographed at an angle, as JPEG
    vial = symbol(f"(01){GTIN}(17)220831(10)BF2012A01(21)7K3MX9Q2PD", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    # When the photo is decoded
    [found] = decode(jpeg(photo_of(vial)))
    # Then the text is what a handheld scanner types: symbology identifier, ASCII 29 after the lot
    assert found.symbology == "datamatrix"
    assert found.text == f"]d201{GTIN}17220831" + "10BF2012A01\x1d217K3MX9Q2PD"
    # and it names the lot, its expiry and the vial's serial
    assert read(found.text) == LotLabel(GTIN, "BF2012A01", date(2022, 8, 31), "7K3MX9Q2PD")


def test_a_gs1_128_barcode_is_read_with_its_symbology_identifier() -> None:
    carton = symbol(f"(01){GTIN}(17)220831(10)BF2012A01", zxingcpp.BarcodeFormat.Code128, scale=3, gs1=True)
    [found] = decode(jpeg(photo_of(carton, angle=0)))
    assert found.symbology == "gs1-128" and found.text.startswith("]C101" + GTIN)
    assert read(found.text) == LotLabel(GTIN, "BF2012A01", date(2022, 8, 31))


def test_several_codes_in_one_photo_are_all_found_with_their_positions() -> None:
    # Given a photo of a pallet: two shipment labels and a box's lot label
    payloads = [shipment_uri("089928060000000013"), shipment_uri("089928060000000020"),
                lot_uri(GTIN, "BF2012A01", date(2022, 8, 31), "7K3MX9Q2PD")]
    codes = [Image.open(io.BytesIO(qr_png(p, box_size=6))) for p in payloads]
    found = decode(jpeg(photo_of(*codes, size=(2400, 900))))
    # Then every code is found once, each where it is in the photo, left to right
    assert sorted(f.text for f in found) == sorted(payloads)
    assert {f.symbology for f in found} == {"qr"}
    by_x = sorted(found, key=lambda f: min(x for x, _ in f.position))
    assert [f.text for f in by_x] == payloads
    assert all(0 <= x <= 2400 and 0 <= y <= 900 for f in found for x, y in f.position)


def test_positions_are_in_the_photos_own_pixels_when_read_at_half_size() -> None:
    code = Image.open(io.BytesIO(qr_png(shipment_uri("089928060000000013"), box_size=10)))
    table = Image.new("L", (2000, 1500), 160)
    table.paste(code, (1200, 700))
    [found] = decode(jpeg(table))
    xs, ys = [x for x, _ in found.position], [y for _, y in found.position]
    margin = 4 * 10  # the quiet zone
    assert abs(min(xs) - (1200 + margin)) < 12 and abs(min(ys) - (700 + margin)) < 12


def test_a_photo_without_a_code_reads_nothing() -> None:
    assert decode(jpeg(photo_of(Image.new("L", (300, 200), 255)))) == []


def test_the_label_png_is_read_back() -> None:
    assert [read(f.text) for f in decode(qr_png(shipment_uri("089928060000000013")))] == [
        ShipmentLabel("089928060000000013")]


@pytest.mark.parametrize(("data", "words"), [
    (hostile.EMPTY, "empty"),
    (hostile.NOT_AN_IMAGE, "not a photo the scanner can read"),
    (hostile.HEIC, "HEIC"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "not a photo the scanner can read"),  # a JPEG's first bytes only
])
def test_refuses_what_is_not_a_photo(data: bytes, words: str) -> None:
    with pytest.raises(ImageRefused, match=words):
        decode(data)


def test_refuses_a_truncated_jpeg() -> None:
    with pytest.raises(ImageRefused, match="cut short"):
        decode(hostile.truncated_jpeg())


def test_refuses_a_decompression_bomb_from_its_header_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a 30000 x 30000 PNG of ~150 KB
    bomb = hostile.bomb_png()
    assert len(bomb) < 200_000
    # When it is decoded, no pixel is decompressed: the refusal comes from the header
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("pixels were decompressed"))
    with pytest.raises(ImageRefused, match="too many pixels"):
        decode(bomb)


def test_refuses_an_image_over_the_pixel_limit_that_pillow_would_open() -> None:
    with pytest.raises(ImageRefused, match=r"too many pixels \(2,000 x 1,000\); at most 1 megapixels"):
        decode(jpeg(Image.new("L", (2000, 1000), 255)), max_pixels=1_000_000)


def test_refuses_a_file_over_the_size_limit_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "MAX_BYTES", 1000)
    with pytest.raises(ImageRefused, match="larger than"):
        decode(hostile.label_jpeg())


def test_a_decode_stops_at_its_budget() -> None:
    calls = []

    def slow(photo: decoding.Photo) -> decoding.Attempt:
        calls.append(1)
        return decoding.Attempt([], unread=True)

    steps = [decoding.Step("slow", slow)] * 5
    assert decode(hostile.label_jpeg(), steps, budget=0) == []
    assert len(calls) == 1


def test_a_code_on_a_transparent_background_reads_as_on_paper() -> None:
    code = Image.open(io.BytesIO(qr_png(shipment_uri("089928060000000013")))).convert("L")
    transparent = Image.new("LA", code.size, (0, 0))  # black, fully transparent: paper only once composed
    transparent.putalpha(code.point(lambda p: 255 - p))
    buffer = io.BytesIO()
    transparent.save(buffer, format="PNG")
    assert [f.text for f in decode(buffer.getvalue())] == [shipment_uri("089928060000000013")]


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_damaged_files_are_read_or_refused_in_words_never_anything_else(kind: str) -> None:
    # Given a label's image cut short, with bytes overwritten, or with a run of bytes replaced (fixed seed)
    import random

    buffer = io.BytesIO()
    Image.open(io.BytesIO(qr_png(shipment_uri("089928060000000013")))).convert("L").save(buffer, format=kind)
    original, rng = buffer.getvalue(), random.Random(kind)
    outcomes = set()
    for i in range(60):
        damaged = bytearray(original)
        if i % 3 == 0:
            damaged = damaged[: rng.randrange(len(damaged))]
        elif i % 3 == 1:
            for _ in range(rng.randint(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        else:
            start = rng.randrange(len(damaged))
            damaged[start:start + rng.randint(1, 200)] = rng.randbytes(rng.randint(1, 200))
        # When it is decoded, Then it reads (perhaps no code) or is refused in words: nothing else is raised
        try:
            decode(bytes(damaged))
            outcomes.add("read")
        except ImageRefused:
            outcomes.add("refused")
    assert "refused" in outcomes

"""``rantai labels shipment SSCC --pdf FILE`` and ``rantai labels lot GTIN LOT --count N --pdf FILE``:
the fixed interface, as the real console script on the test's store (both backends)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.scanner.digital_link import LotLabel, read, shipment_uri
from interfaces.scanner.labels import decode_image
from tests.scenario import CORONAVAC, ColdChain, cli_env

RANTAI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rantai")


def rantai(settings, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001
    return subprocess.run([RANTAI, "labels", *args], env=cli_env(settings), capture_output=True, text=True,
                          timeout=120, cwd=folder)


def pages(pdf: Path) -> int:
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    return data.count(b"/Type /Page\n")


def test_a_shipment_label_as_an_a4_pdf_a_png_and_an_svg(settings, chain: ColdChain, tmp_path: Path) -> None:
    # Given a packed shipment
    chain.release(vials=20)
    sscc = chain.pack(NATIONAL_WAREHOUSE, "32", ("CV001", 5))
    # When its label is printed
    done = rantai(settings, tmp_path, "shipment", sscc, "--pdf", "label.pdf", "--png", "label.png",
                  "--svg", "label.svg")
    # Then there is one A4 page, and a PNG whose code names the shipment, and an SVG with its words
    assert done.returncode == 0, done.stderr
    assert pages(tmp_path / "label.pdf") == 1
    assert decode_image((tmp_path / "label.png").read_bytes()) == [shipment_uri(sscc)]
    svg = (tmp_path / "label.svg").read_text()
    assert "PT Bio Farma (BIOFARMA)" in svg and "JAWA BARAT (32)" in svg and "CoronaVac · CV001 · 2021-12-31 · 5" in svg


def test_lot_labels_24_a_page_each_with_its_own_serial(settings, chain: ColdChain, tmp_path: Path) -> None:
    chain.release(vials=20)
    done = rantai(settings, tmp_path, "lot", CORONAVAC, "CV001", "--count", "30", "--pdf", "lots.pdf",
                  "--png", "vial.png")
    assert done.returncode == 0, done.stderr
    assert pages(tmp_path / "lots.pdf") == 2
    [vial] = [read(text) for text in decode_image((tmp_path / "vial.png").read_bytes())]
    assert isinstance(vial, LotLabel) and vial.serial is not None and len(vial.serial) == 10
    assert (vial.gtin, vial.lot_number, vial.expiry) == (CORONAVAC, "CV001", date(2021, 12, 31))


def test_an_unknown_shipment_or_lot_is_refused_and_nothing_is_written(
        settings, chain: ColdChain, tmp_path: Path) -> None:
    unknown = rantai(settings, tmp_path, "shipment", "089928060000000013", "--pdf", "x.pdf")
    assert unknown.returncode == 1 and "No shipment has the label 089928060000000013" in unknown.stderr
    lot = rantai(settings, tmp_path, "lot", CORONAVAC, "NOPE", "--count", "2", "--pdf", "y.pdf")
    assert lot.returncode == 1 and "Lot NOPE" in lot.stderr
    assert not (tmp_path / "x.pdf").exists() and not (tmp_path / "y.pdf").exists()

"""``rantai scan decode --json IMAGE...``: the fixed interface, run as the real console script.

One JSON object per image, one a line, in the order given, nothing else on
stdout; a file that is not a photo gives ``"codes": []`` and the reason, the
run goes on, and the exit status is 1. Memory stays bounded: the peak RSS of
the process (``RUSAGE_CHILDREN`` of a small parent) is far below what a
decompressed bomb would take.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from interfaces.scanner.digital_link import shipment_uri
from interfaces.scanner.labels import qr_png
from tests.scanner import hostile
from tests.scanner.test_decoding import jpeg, photo_of, symbol

RANTAI = str(Path(__file__).resolve().parents[2] / ".venv" / "bin" / "rantai")
GTIN = "08992806000013"
KEYS = ["file", "codes", "error"]


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    peak_rss_mb: float


# A small parent for the console script, reporting its child's peak RSS (``RUSAGE_CHILDREN``) to a file.
# Measured from pytest directly, a child's ru_maxrss starts at pytest's own RSS: Linux keeps the larger
# of the old and the new address space's high-water mark across fork and exec.
MEASURED = ("import resource, subprocess, sys; status = subprocess.call(sys.argv[2:]); "
            "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
            "sys.exit(status)")


def rantai(*args: str, cwd: Path) -> Run:
    """The console script in a subprocess, and its own peak RSS from the kernel."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RANTAI_")}
    peak = cwd / "peak-rss-kb.txt"
    done = subprocess.run([sys.executable, "-c", MEASURED, str(peak), RANTAI, *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)
    return Run(done.returncode, done.stdout, done.stderr, int(peak.read_text()) / 1024)


def lines(run: Run) -> list[dict[str, object]]:
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.stdout.endswith("\n") and all(list(r) == KEYS for r in records), run.stdout
    return records


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    (tmp_path / "label.png").write_bytes(qr_png(shipment_uri(hostile.SSCC)))
    vial = symbol(f"(01){GTIN}(17)220831(10)BF2012A01(21)7K3MX9Q2PD", zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    (tmp_path / "vial.jpg").write_bytes(jpeg(photo_of(vial)))
    (tmp_path / "table.jpg").write_bytes(jpeg(Image.new("L", (800, 600), 140)))
    (tmp_path / "not-an-image.jpg").write_bytes(hostile.NOT_AN_IMAGE)
    (tmp_path / "truncated.jpg").write_bytes(hostile.truncated_jpeg())
    (tmp_path / "empty.jpg").write_bytes(hostile.EMPTY)
    (tmp_path / "bomb.png").write_bytes(hostile.bomb_png())
    with open(tmp_path / "huge.jpg", "wb") as huge:  # 100 MB (sparse): refused unread
        huge.write(hostile.label_jpeg())
        huge.truncate(100_000_000)
    return tmp_path


def test_prints_one_line_per_image_in_the_order_given_and_exits_0(photos: Path) -> None:
    # When three photos are decoded, named as the caller names them
    run = rantai("scan", "decode", "--json", "./label.png", "vial.jpg", f"{photos}/table.jpg", cwd=photos)
    # Then stdout holds exactly three JSON lines, in that order, each file as given
    assert run.status == 0, run.stderr
    label, vial, table = lines(run)
    assert [r["file"] for r in (label, vial, table)] == ["./label.png", "vial.jpg", f"{photos}/table.jpg"]
    assert label == {"file": "./label.png", "error": None, "codes": [{
        "text": shipment_uri(hostile.SSCC), "symbology": "qr", "kind": "shipment",
        "parsed": {"sscc": hostile.SSCC}}]}
    # and the vial's GS1 DataMatrix is given as a handheld scanner types it, and parsed
    assert vial["codes"] == [{
        "text": f"]d201{GTIN}17220831" + "10BF2012A01\x1d217K3MX9Q2PD", "symbology": "datamatrix", "kind": "lot",
        "parsed": {"gtin": GTIN, "lot": "BF2012A01", "expiry": date(2022, 8, 31).isoformat(),
                   "serial": "7K3MX9Q2PD"}}]
    # and a photo without a code is no error
    assert table["codes"] == [] and table["error"] is None


def test_a_code_that_is_not_rantais_is_listed_as_unknown(tmp_path: Path) -> None:
    (tmp_path / "other.png").write_bytes(qr_png("https://example.com/menu"))
    [record] = lines(rantai("scan", "decode", "--json", "other.png", cwd=tmp_path))
    assert record["codes"] == [{"text": "https://example.com/menu", "symbology": "qr", "kind": "unknown",
                                "parsed": None}]


HOSTILE = {
    "not-an-image.jpg": "not a photo the scanner can read",
    "truncated.jpg": "cut short",
    "empty.jpg": "empty",
    "huge.jpg": "larger than 20 MB",
    "bomb.png": "too many pixels",
    "missing.jpg": "No such file",
}


def test_every_hostile_file_gives_its_reason_the_run_goes_on_and_exits_1(photos: Path) -> None:
    # When each hostile file is decoded, between good photos, in one run
    names = [name for hostile_name in HOSTILE for name in (hostile_name, "label.png")]
    run = rantai("scan", "decode", "--json", "vial.jpg", *names, cwd=photos)
    # Then each file has its line in order, each hostile one with no code and its reason
    assert run.status == 1
    records = lines(run)
    assert [r["file"] for r in records] == ["vial.jpg", *names]
    for record in records:
        if record["file"] in HOSTILE:
            assert record["codes"] == [] and HOSTILE[record["file"]] in str(record["error"]), record
        else:
            assert record["codes"] and record["error"] is None, record
    # and memory stays bounded: the bomb decompressed would be 900 MB, the 100 MB file is not read
    assert run.peak_rss_mb < 300, run.peak_rss_mb
    assert struct.unpack(">II", hostile.bomb_png()[16:24]) == (30_000, 30_000)  # the header's width, height


def test_without_json_a_person_reads_one_line_per_code(photos: Path) -> None:
    run = rantai("scan", "decode", "label.png", "empty.jpg", cwd=photos)
    assert run.status == 1
    assert run.stdout == f"label.png: shipment (qr) {shipment_uri(hostile.SSCC)!r}\n"
    assert "empty.jpg: The file is empty" in run.stderr

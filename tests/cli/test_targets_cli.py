"""``rantai targets`` from the command line, on both backends."""

from __future__ import annotations

import csv

import pytest

from application.people import parse_nik
from interfaces.bootstrap import regions
from interfaces.scenarios.sample import sample_rows



@pytest.fixture
def run(rantai):
    return rantai


def test_sample_nik_are_valid_for_their_kecamatan_and_birth_date() -> None:
    known = regions()
    rows = list(sample_rows(3000, 91))
    assert len({row[0] for row in rows}) == 3000
    assert len({row[4] for row in rows}) == 91
    for nik, _, _, _, district, workplace in rows:
        assert parse_nik(nik, known.kecamatan) == nik
        assert nik[:4] == district.replace(".", "") and workplace == "P" + nik[:6]


def test_import_reports_rejected_rows_and_is_idempotent(run, tmp_path) -> None:
    path = tmp_path / "targets.csv"
    assert run("targets", "sample", "--count", "50", "--districts", "3", "--out", str(path)).exit_code == 0
    with path.open("a", newline="") as file:
        csv.writer(file).writerow(["1234", "Budi", "081234567890", "nakes", "32.73", "P327301"])
    first = run("targets", "import", str(path), "--phase", "1", "--source", "BPJS")
    assert first.exit_code == 0, first.output
    assert "50 targets imported, 0 already on the list, 1 rejected" in " ".join(first.output.split())
    report = list(csv.reader((tmp_path / "targets.rejected.csv").open()))
    assert report == [["line", "reason"], ["52", "NIK must be 16 digits (got 4)."]]
    second = run("targets", "import", str(path), "--phase", "1", "--source", "BPJS")
    assert "0 targets imported, 50 already on the list, 1 rejected" in " ".join(second.output.split())


def test_import_refuses_a_csv_with_wrong_columns(run, tmp_path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("nik,nama,hp\n3273011708850001,Siti,081200000001\n")
    result = run("targets", "import", str(path), "--phase", "1", "--source", "x")
    assert result.exit_code == 2
    assert "does not have the columns name, phone, category" in " ".join(result.output.split())

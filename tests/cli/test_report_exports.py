"""``rantai report`` from the command line, on both backends: figures, the log
position, and CSV and XLSX holding the same cells."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.bootstrap import open_read_models
from interfaces.reports import as_text
from projections.follower import Follower

from tests.scenario import BIOFARMA_VAC, ColdChain

PUSKESMAS = "P327301"


@pytest.fixture
def run(rantai):
    def invoke(*args: str):
        result = rantai(*args)
        return result.exit_code, " ".join(result.output.split())

    return invoke


def catch_up(chain: ColdChain, settings) -> int:
    """What the worker (or ``rantai serve``) does: bring every read model to the log's head."""
    for model in open_read_models(settings).values():
        Follower(chain.app, model).catch_up()
        model.view.datastore.close()
    return chain.app.recorder.max_notification_id()


def read_csv(path) -> tuple[list[str], list[list[str]]]:
    import csv

    lines = path.read_text(encoding="utf-8-sig").splitlines()
    return ([line for line in lines if line.startswith("# ")],
            list(csv.reader(line for line in lines if not line.startswith("# "))))


def test_recipients_export_to_csv_states_the_position_and_counts_dose_1(
        vaccinations: ColdChain, settings, run, tmp_path) -> None:
    # Given the vaccinations scenario, processed by the read models
    head = catch_up(vaccinations, settings)
    out = tmp_path / "recipients.csv"
    # When the recipients report is exported
    code, output = run("report", "export", "recipients", "--format", "csv", "--out", str(out), "--phase", "1")
    # Then the file states where in the log it stands and has the worked figures
    assert code == 0, output
    assert f"1 rows written to {out}" in output and f"notification id {head}" in output
    header, (titles, row) = read_csv(out)
    assert header[0] == "# Report: Recipients per district (recipients)"
    assert f"# Log position (notification id): {head}" in header and "# Phase: 1" in header
    assert any(line.startswith("# Generated at (WIB): ") for line in header)
    cells = dict(zip(titles, row, strict=True))
    assert (cells["District"], cells["District name"], cells["Targeted"], cells["Registered"]) == (
        "32.73", "Kota Bandung", "3", "2")
    assert (cells["Dose 1"], cells["Dose 2"], cells["Registered rate"]) == ("2", "1", str(round(2 / 3, 4)))


def test_stock_export_to_xlsx_has_the_same_cells_as_csv(logistics: ColdChain, settings, run, tmp_path) -> None:
    head = catch_up(logistics, settings)
    period = ["--from", "2021-01-05", "--to", "2021-01-06", "--facility", NATIONAL_WAREHOUSE]
    assert run("report", "export", "stock", "--out", str(tmp_path / "stock.csv"), *period)[0] == 0
    code, output = run("report", "export", "stock", "--out", str(tmp_path / "stock.xlsx"), *period)
    assert code == 0 and "(xlsx)" in output, output
    _, table = read_csv(tmp_path / "stock.csv")
    book = load_workbook(tmp_path / "stock.xlsx")
    about, sheet = book.worksheets
    facts = dict(about.iter_rows(values_only=True))
    assert facts["Log position (notification id)"] == head
    assert (facts["Period from"], facts["Period to"], facts["Facility"]) == ("2021-01-05", "2021-01-06", NATIONAL_WAREHOUSE)
    assert all(cell.font.bold for cell in sheet[1])
    assert [[as_text(v) for v in r] for r in sheet.iter_rows(values_only=True)] == table
    cells = dict(zip(table[0], table[1], strict=True))
    assert (cells["Opening"], cells["Closing"], cells["Expected at count"], cells["Counted"]) == ("60", "57", "58", "57")
    assert sheet.cell(2, 13).number_format == "0.0%"


def test_show_prints_the_report_and_its_position(vaccinations: ColdChain, settings, run) -> None:
    head = catch_up(vaccinations, settings)
    code, output = run("report", "show", "doses", "--facility", PUSKESMAS)
    assert code == 0, output
    assert f"{BIOFARMA_VAC}/BF001" in output and "80.0%" in output
    assert f"Log position: notification id {head}, recorded " in output
    assert "facility: P327301" in output and "does not reflect" not in output


def test_show_brings_its_read_model_up_to_the_log_first(vaccinations: ColdChain, run) -> None:
    # Given events no follower has processed yet, When the report is shown
    code, output = run("report", "show", "shipments")
    # Then it reflects the whole log
    assert code == 0, output
    head = vaccinations.app.recorder.max_notification_id()
    assert f"notification id {head}" in output


def test_unknown_report_or_wrong_option_is_refused(run, tmp_path) -> None:
    code, output = run("report", "show", "stok")
    assert code == 2 and "There is no report by that name. The reports are: shipments, stock, doses, recipients." in output
    code, output = run("report", "export", "doses", "--out", str(tmp_path / "x.csv"), "--phase", "1")
    assert code == 2 and "The doses report does not take phase (it takes facility)." in output
    assert not (tmp_path / "x.csv").exists()
    code, output = run("report", "list")
    assert code == 0 and all(name in output for name in ("shipments", "stock", "doses", "recipients", "--from"))

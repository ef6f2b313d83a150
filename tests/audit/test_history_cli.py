"""``rantai audit history KIND ID... [--json]``, its --as-of options and --nik-stdin, and
``rantai audit figures`` (both backends)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from interfaces.cli.main import app as cli
from tests.application.test_recipients import import_rows
from tests.audit.test_history import corrected_shipment
from tests.scenario import ColdChain, nik, target_row


def test_history_prints_one_json_object_per_event(chain: ColdChain, rantai) -> None:
    sscc = corrected_shipment(chain)
    result = rantai("audit", "history", "shipment", sscc, "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["event"] for line in lines] == [
        "Shipment.Packed", "Shipment.Dispatched", "Shipment.Received", "Shipment.ReceiptCorrected"]
    assert lines[-1]["corrects"] == 3 and lines[2]["corrected_by"] == [4]
    assert lines[2]["actor"] == "gudang.jabar" and lines[2]["role"] == "warehouse"
    assert "scan-0001" in lines[2]["idempotency_key"]
    assert all(line["position"] > 0 and line["recorded_at"] and line["occurred_at"] for line in lines)
    table = rantai("audit", "history", "shipment", sscc)
    assert table.exit_code == 0 and "ReceiptCorrected" in table.output


def test_history_as_of_a_version_and_an_occurred_time(chain: ColdChain, rantai) -> None:
    sscc = corrected_shipment(chain)
    dispatched = rantai("audit", "history", "shipment", sscc, "--as-of-version", "2", "--json")
    assert dispatched.exit_code == 0, dispatched.output
    assert json.loads(dispatched.output)["state"]["status"] == "dispatched"
    before = rantai("audit", "history", "shipment", sscc, "--as-of-occurred", "2021-01-01T00:00:00+07:00", "--json")
    assert json.loads(before.output)["state"] is None
    received = rantai("audit", "history", "shipment", sscc, "--as-of-occurred", "2021-01-04T12:00:00+07:00")
    assert received.exit_code == 0 and "received" in received.output
    naive = rantai("audit", "history", "shipment", sscc, "--as-of-recorded", "2021-01-04T12:00:00")
    assert naive.exit_code == 2
    both = rantai("audit", "history", "shipment", sscc, "--as-of-version", "1", "--as-of-recorded",
                  "2021-01-04T12:00:00+07:00")
    assert both.exit_code == 2
    unknown = rantai("audit", "history", "vial", "123")
    assert unknown.exit_code == 1 and "There is no history of a 'vial'" in unknown.output


def test_a_recipient_found_by_a_nik_on_stdin_is_masked_unless_unmasked(chain: ColdChain, rantai) -> None:
    import_rows(chain.app, [target_row(3)], chain.by("KEMENKES"))
    rantai("audit", "history", "lot", "x", "y")  # (the fixture sets the CLI's environment)
    runner = CliRunner()
    masked = runner.invoke(cli, ["audit", "history", "recipient", "--nik-stdin", "--json"], input=nik(serial=3) + "\n")
    assert masked.exit_code == 0, masked.output
    targeted = json.loads(masked.output.splitlines()[0])
    assert targeted["event"] == "Recipient.Targeted"
    assert targeted["aggregate_id"] == chain.app.recipient_id(nik(serial=3)).hex
    assert nik(serial=3) not in masked.output and "Siti Aminah 3" not in masked.output
    unmasked = runner.invoke(cli, ["audit", "history", "recipient", "--nik-stdin", "--json", "--unmask"],
                             input=nik(serial=3) + "\n")
    assert json.loads(unmasked.output.splitlines()[0])["data"]["nik"] == nik(serial=3)


def test_figures_as_of_a_position(chain: ColdChain, rantai) -> None:
    import_rows(chain.app, [target_row(i) for i in range(1, 5)], chain.by("KEMENKES"))
    middle = (chain.app.recorder.max_notification_id() or 0) - 2
    result = rantai("audit", "figures", "--position", str(middle), "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert found["as_of"]["position"] == middle and 0 < found["funnel"]["targeted"] < 4
    now = json.loads(rantai("audit", "figures", "--at", "2100-01-01T00:00:00+07:00", "--report", "recipients",
                            "--json").output)
    assert now["funnel"]["targeted"] == 4 and now["report"]["rows"][0]["targeted"] == 4
    assert rantai("audit", "figures").exit_code == 2
    for refused in (["--at", "0001-01-01T00:00:00+00:00"], ["--at", "9999-12-31T23:59:59-12:00"], ["--position", "-1"],
                    ["--at", "2021-01-13T18:30:00"], ["--at", ""], ["--position", "3", "--phase", "9" * 20],
                    ["--position", "3", "--report", "nope"], ["--position", "3", "--report", ""]):
        # out of range, without its offset, empty, no such report: a usage error
        result = rantai("audit", "figures", *refused)
        assert result.exit_code == 2, (refused, result.output)  # (an uncaught error would be 1)


def test_the_whole_dashboard_as_of_a_moment_from_the_command_line(chain: ColdChain, rantai) -> None:
    # Given a shipment dispatched (the scenario's clock: January 2021) and later received
    chain.release("CV001", 100)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 10))
    dispatched = chain.app.recorder.max_notification_id()
    chain.receive_all(sscc)
    # When the dashboard is asked for as of the dispatch, and as of now
    then = rantai("audit", "figures", "--position", str(dispatched), "--dashboard", "--json")
    now = rantai("audit", "figures", "--at", "2100-01-01T00:00:00+07:00", "--dashboard", "--json")
    # Then the shipment was in transit then, and is not now
    assert then.exit_code == 0 and now.exit_code == 0, then.output + now.output
    then_panels, now_panels = json.loads(then.output)["dashboard"], json.loads(now.output)["dashboard"]
    assert then_panels["shipments"]["in_transit"] == 1 and then_panels["shipments"]["longest"][0]["sscc"] == sscc
    assert now_panels["shipments"]["in_transit"] == 0
    assert then_panels["log_head"] == dispatched
    # and the plain output shows the panels too
    plain = rantai("audit", "figures", "--position", str(dispatched), "--dashboard")
    assert plain.exit_code == 0 and "shipments in transit" in plain.output

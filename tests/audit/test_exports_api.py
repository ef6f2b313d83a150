"""The exports from the API and the command line (issue 12): the same documents,
valid, refused plainly for a selection they cannot read, never echoing a NIK."""

from __future__ import annotations

import json

from fhir.resources.R4B.bundle import Bundle
from typer.testing import CliRunner

from application.logistics import NATIONAL_WAREHOUSE
from interfaces.cli.main import app as cli
from tests.audit.test_exports import PUSKESMAS, doses, events, journey, schema_errors, validator  # noqa: F401
from tests.api.conftest import accounts, api  # noqa: F401
from tests.scenario import CORONAVAC, nik


def test_the_api_answers_an_auditor_with_a_valid_epcis_document(api, accounts, chain, journey,  # noqa: F811
                                                               validator) -> None:  # noqa: F811
    answer = api.get("/audit/export/epcis", params={"shipment": journey["sscc"]}, headers=accounts("auditor"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/ld+json")
    assert schema_errors(validator, answer.json()) == []
    by_lot = api.get("/audit/export/epcis", params={"gtin": CORONAVAC, "lot": "CV001"}, headers=accounts("admin"))
    period = api.get("/audit/export/epcis", params={"from": "2021-01-03", "to": "2021-01-06"},
                     headers=accounts("auditor"))
    assert len(events(by_lot.json())) > len(events(answer.json()))
    assert {e["eventID"] for e in events(by_lot.json())} <= {e["eventID"] for e in events(period.json())}


def test_the_api_refuses_a_selection_it_cannot_read_with_a_422(api, accounts, chain, journey) -> None:  # noqa: F811
    auditor = accounts("auditor")
    for params in ({}, {"gtin": CORONAVAC}, {"shipment": journey["sscc"], "from": "2021-01-03", "to": "2021-01-04"},
                   {"from": "2021-01-05", "to": "2021-01-04"}, {"from": "2021-13-01", "to": "2021-01-04"},
                   {"shipment": "123456789012345678"}):
        answer = api.get("/audit/export/epcis", params=params, headers=auditor)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["message"]
    unknown = api.get("/audit/export/epcis", params={"gtin": CORONAVAC, "lot": "NOPE"}, headers=auditor)
    assert unknown.status_code == 404


def test_the_api_gives_a_fhir_bundle_and_never_echoes_a_nik(api, accounts, chain, doses) -> None:  # noqa: F811
    answer = api.get("/audit/export/fhir", params={"facility": PUSKESMAS}, headers=accounts("auditor"))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/fhir+json")
    Bundle.model_validate(answer.json())
    assert {e["resource"]["patient"]["identifier"]["value"] for e in answer.json()["entry"]} == {
        nik(serial=1), nik(serial=2)}
    wrong = api.get("/audit/export/fhir", params={"recipient": nik(serial=1)}, headers=accounts("auditor"))
    assert wrong.status_code == 422 and nik(serial=1) not in wrong.text
    both = api.get("/audit/export/fhir", params={"facility": PUSKESMAS, "recipient": "0" * 32},
                   headers=accounts("auditor"))
    assert both.status_code == 422 and "either a facility or one recipient" in both.json()["message"]
    refused = api.get("/audit/export/fhir", params={"facility": PUSKESMAS}, headers=accounts("vaksinator"))
    assert refused.status_code == 403 and "may not export" in refused.json()["message"]


def test_the_command_line_writes_an_epcis_document(rantai, chain, journey, validator,  # noqa: F811
                                                  tmp_path) -> None:
    out = tmp_path / "shipment.jsonld"
    result = rantai("audit", "export", "epcis", "--shipment", journey["sscc"], "--out", str(out))
    assert result.exit_code == 0, result.output
    assert schema_errors(validator, json.loads(out.read_text())) == []
    refused = rantai("audit", "export", "epcis", "--gtin", CORONAVAC)
    assert refused.exit_code == 1 and "GTIN and its lot number" in refused.output
    assert rantai("audit", "export", "epcis", "--from", "2021-01-03", "--to", "2021-01-03").exit_code == 0
    by_lot = rantai("audit", "export", "epcis", "--gtin", CORONAVAC, "--lot", "CV001")
    assert f"urn:rantai:facility:{NATIONAL_WAREHOUSE}" in by_lot.stdout


def test_the_command_line_writes_a_fhir_bundle(rantai, chain, doses) -> None:  # noqa: F811
    result = rantai("audit", "export", "fhir", "--facility", PUSKESMAS, "--from", "2021-01-14", "--to", "2021-01-14")
    assert result.exit_code == 0, result.output
    assert len(Bundle.model_validate(json.loads(result.stdout)).entry) == 2
    one = CliRunner().invoke(cli, ["audit", "export", "fhir", "--nik-stdin"], input=nik(serial=1) + "\n")
    assert one.exit_code == 0, one.output
    assert [e["resource"]["patient"]["identifier"]["value"] for e in json.loads(one.stdout)["entry"]] == [nik(serial=1)]

"""Exports (issue 12): GS1 EPCIS 2.0 documents validated against GS1's JSON schema
(vendored by scripts/vendor-epcis-schema.sh), FHIR Immunization bundles validated
with fhir.resources' R4B models — on both backends, through the application, the
API and the command line."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.immunization import Immunization
from jsonschema import Draft7Validator

from application.access import Caller
from application.errors import Forbidden
from application.logistics import NATIONAL_WAREHOUSE
from domain.recipient import Recipient
from domain.shipment import ReceiptLine
from domain.stock_ledger import WastageReason
from domain.user import Role
from interfaces.exports.documents import UnclearSelection, epcis_document, fhir_bundle
from tests.application.test_recipients import JAN_14, at, import_rows, open_phase, register, screen_and_vaccinate
from tests.application.test_history_fixture import old_store  # noqa: F401
from tests.scenario import BIOFARMA_VAC, CORONAVAC, ColdChain, last_position, nik, target_row

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "tests" / "fixtures" / "epcis" / "EPCIS-JSON-Schema.json"
PUSKESMAS = "P327301"
OPERATOR = Caller.operator("cli:auditor")


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(validator: Draft7Validator, document: dict[str, Any]) -> list[str]:
    return [f"{list(error.absolute_path)}: {error.message[:200]}" for error in validator.iter_errors(document)]


def events(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["epcisBody"]["eventList"]


def steps(document: dict[str, Any]) -> list[str]:
    return [event.get("bizStep", "-") for event in events(document)]


@pytest.fixture
def journey(chain: ColdChain) -> dict[str, Any]:
    """CoronaVac lot CV001 from Bio Farma to Jawa Barat: a warm leg, a hand-over, a receipt
    with 5 vials rejected at VVM stage 3, then recounted; wastage at 32, corrected; a
    cancelled shipment; a Bio Farma lot that stays home; and at last CV001 recalled."""
    app = chain.app
    chain.release("CV001", vials=100)
    chain.release("BF001", vials=10, product_gtin=BIOFARMA_VAC, doses_per_vial=10)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 50))
    chain.later(1)
    app.hand_over(sscc, "PT Kurir Dingin", "D 1234 AB", "Cileunyi", chain.by(NATIONAL_WAREHOUSE, "kurir"))
    app.record_temperature(sscc, Decimal("9.5"), chain.by("32"))
    app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 45, 0, "", 2),
                       ReceiptLine(CORONAVAC, "CV001", 0, 5, "VVM stage 3", 3)], Decimal("6.0"), chain.by("32"))
    app.correct_receipt(sscc, [ReceiptLine(CORONAVAC, "CV001", 44, 0, "", 2),
                               ReceiptLine(CORONAVAC, "CV001", 0, 6, "VVM stage 3", 3)], "recounted", chain.by("32"))
    chain.later(1)
    app.record_wastage("32", CORONAVAC, "CV001", 3, WastageReason.BROKEN, "dropped", chain.by("32"))
    wasted_at = app.get_stock("32").version
    app.correct_wastage("32", wasted_at, 2, "one vial was found intact", chain.by("32"))
    app.record_count("32", CORONAVAC, "CV001", 40, chain.by("32"))
    cancelled = chain.pack(NATIONAL_WAREHOUSE, "31", ("CV001", 5))
    app.cancel(cancelled, "truck broke down", chain.by(NATIONAL_WAREHOUSE))
    chain.later(1)
    app.recall_lot(CORONAVAC, "CV001", "BPOM notice", chain.by(NATIONAL_WAREHOUSE, "admin"), "PN.01.2021")
    return {"sscc": sscc, "cancelled": cancelled}


def test_the_vendored_schema_is_gs1s_at_the_pinned_hash() -> None:
    script = (ROOT / "scripts" / "vendor-epcis-schema.sh").read_text()
    pinned = re.search(r"^SCHEMA_SHA256=([0-9a-f]{64})$", script, re.MULTILINE)
    assert pinned and hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == pinned.group(1)
    assert json.loads(SCHEMA.read_text())["$id"] == "https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json"


def test_a_shipments_document_validates_and_tells_its_journey(chain, journey, validator) -> None:
    # When
    document = epcis_document(chain.app, OPERATOR, shipment=journey["sscc"])
    # Then
    assert schema_errors(validator, document) == []
    assert steps(document) == ["packing", "shipping", "transporting", "sensor_reporting",
                               "receiving", "inspecting",  # the receipt: accepted, rejected
                               "receiving", "inspecting",  # the same, declared wrong by the recount...
                               "receiving", "inspecting"]  # ...and the recount
    packed, shipped, handed, warm, received, rejected, *_ = events(document)
    label = f"https://id.gs1.org/00/{journey['sscc']}"
    lot = f"https://id.gs1.org/01/{CORONAVAC}/10/CV001"
    assert packed["parentID"] == label and packed["childQuantityList"] == [{"epcClass": lot, "quantity": 50}]
    assert shipped["epcList"] == [label] and shipped["disposition"] == "in_transit"
    assert shipped["sourceList"] == [{"type": "location", "source": "urn:rantai:facility:BIOFARMA"}]
    assert shipped["destinationList"] == [{"type": "location", "destination": "urn:rantai:facility:32"}]
    assert handed["rantai:carrier"] == "PT Kurir Dingin"
    report = warm["sensorElementList"][0]["sensorReport"][0]
    assert (report["type"], report["value"], report["uom"], report["exception"]) == ("Temperature", 9.5, "CEL",
                                                                                       "ALARM_CONDITION")
    assert received["bizLocation"] == {"id": "urn:rantai:facility:32"}
    assert received["quantityList"] == [{"epcClass": lot, "quantity": 45}]
    assert rejected["quantityList"] == [{"epcClass": lot, "quantity": 5}]
    assert rejected["disposition"] == "non_sellable_other"
    assert received["eventTimeZoneOffset"] == "+07:00" and received["eventTime"] == "2021-01-04T08:00:00.000Z"


def test_a_corrected_receipt_is_an_error_declaration_naming_the_recount(chain, journey, validator) -> None:
    document = epcis_document(chain.app, OPERATOR, shipment=journey["sscc"])
    original, original_rejected, declared, declared_rejected, recount, recount_rejected = events(document)[4:]
    assert "errorDeclaration" not in original
    assert declared | {"errorDeclaration": None} == original | {"errorDeclaration": None}  # the same event again
    declaration = declared["errorDeclaration"]
    assert declaration["reason"] == "incorrect_data" and declaration["rantai:reason"] == "recounted"
    assert declaration["correctiveEventIDs"] == [recount["eventID"], recount_rejected["eventID"]]
    assert recount["quantityList"][0]["quantity"] == 44 and recount_rejected["quantityList"][0]["quantity"] == 6
    assert recount["eventTime"] == original["eventTime"]  # what happened then, recorded later
    assert recount["recordTime"] > original["recordTime"]


def test_a_lots_document_has_release_wastage_correction_and_recall(chain, journey, validator) -> None:
    document = epcis_document(chain.app, OPERATOR, gtin=CORONAVAC, lot="CV001")
    assert schema_errors(validator, document) == []
    found = steps(document)
    for step in ("commissioning", "packing", "shipping", "transporting", "sensor_reporting", "receiving",
                 "inspecting", "destroying", "cycle_counting", "unpacking"):
        assert step in found, step
    commissioning = events(document)[0]
    assert commissioning["bizStep"] == "commissioning" and commissioning["action"] == "ADD"
    assert commissioning["quantityList"][0]["quantity"] == 100
    assert commissioning["ilmd"]["cbvmda:itemExpirationDate"] == "2021-12-31"
    destroyed = [e for e in events(document) if e.get("bizStep") == "destroying"]
    assert [(e["quantityList"][0]["quantity"], "errorDeclaration" in e) for e in destroyed] == [
        (3, False), (3, True), (2, False)]  # recorded, declared wrong, corrected
    assert destroyed[1]["errorDeclaration"]["correctiveEventIDs"] == [destroyed[2]["eventID"]]
    assert destroyed[0]["action"] == "DELETE" and destroyed[0]["rantai:reason"] == "broken"
    [count] = [e for e in events(document) if e.get("bizStep") == "cycle_counting"]
    assert count["quantityList"][0]["quantity"] == 40 and count["rantai:expectedDoses"] == 42  # 44 - 2 wasted
    recall = events(document)[-1]
    assert recall["disposition"] == "recalled" and recall["rantai:reference"] == "PN.01.2021"
    assert recall["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{CORONAVAC}/10/CV001"}]
    assert "BF001" not in json.dumps(document)


def test_a_period_holds_the_events_of_those_days_only(chain, journey, validator) -> None:
    # Given: 3 January (release, packing, dispatch), 4 (hand-over... receipt), 5 (wastage, cancel), 6 (recall)
    document = epcis_document(chain.app, OPERATOR, first=date(2021, 1, 4), last=date(2021, 1, 5))
    assert schema_errors(validator, document) == []
    found = set(steps(document))
    assert {"transporting", "receiving", "destroying", "packing", "unpacking"} <= found
    assert "commissioning" not in found and "shipping" not in found
    assert all(e.get("disposition") != "recalled" for e in events(document))


def test_a_document_that_breaks_the_standard_fails_the_schema(chain, journey, validator) -> None:
    """The schema check is real: the same document with a made-up step, a missing time
    offset, a quantity that is not a number or a place that is not a URI is refused."""
    document = epcis_document(chain.app, OPERATOR, shipment=journey["sscc"])
    for spoil in (lambda e: e.update(bizStep="teleporting"), lambda e: e.pop("eventTimeZoneOffset"),
                  lambda e: e["childQuantityList"][0].update(quantity="fifty"),
                  lambda e: e["readPoint"].update(id="Gudang Bio Farma")):  # not a URI
        spoiled = json.loads(json.dumps(document))
        spoil(events(spoiled)[0])
        assert schema_errors(validator, spoiled), spoil


def test_an_export_names_one_thing(chain, journey) -> None:
    with pytest.raises(UnclearSelection):
        epcis_document(chain.app, OPERATOR)
    with pytest.raises(UnclearSelection):
        epcis_document(chain.app, OPERATOR, shipment=journey["sscc"], gtin=CORONAVAC, lot="CV001")
    with pytest.raises(UnclearSelection):
        epcis_document(chain.app, OPERATOR, first=date(2021, 1, 5), last=date(2021, 1, 4))
    with pytest.raises(UnclearSelection):
        fhir_bundle(chain.app, OPERATOR, recipient=nik(serial=1))  # a NIK is not an id


def test_a_scoped_auditor_sees_only_its_own_facilities(chain, journey) -> None:
    dki = Caller("auditor.dki", Role.AUDITOR, "31")
    with pytest.raises(Forbidden, match="only at 31 and below"):
        epcis_document(chain.app, dki, shipment=journey["sscc"])
    document = epcis_document(chain.app, dki, gtin=CORONAVAC, lot="CV001")
    # the shipment cancelled on its way to 31 and the recall (every holder's business); nothing of 32's
    assert steps(document) == ["packing", "unpacking", "-"]
    with pytest.raises(Forbidden, match=r"Your account \(warehouse\) may not export"):
        epcis_document(chain.app, Caller("gudang.jabar", Role.WAREHOUSE, "32"), shipment=journey["sscc"])


# FHIR

@pytest.fixture
def doses(chain: ColdChain) -> dict[str, Any]:
    """Three health workers at Puskesmas Sukasari: two vaccinated on 14 January, the
    second dose recorded on the wrong ticket and voided; one only registered."""
    chain.release("CV001", vials=100)
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 50)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 30)))
    chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 20)))
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], chain.by("KEMENKES", "admin"))
    open_phase(chain)
    tickets = {serial: register(chain, serial) for serial in (1, 2, 3)}
    screen_and_vaccinate(chain, tickets[1])
    voided = screen_and_vaccinate(chain, tickets[2]).result["next_ticket"]
    chain.app.void_dose(voided, "recorded on the wrong ticket", at(chain, JAN_14))
    return {"ids": {serial: chain.app.recipient_id(nik(serial=serial)) for serial in (1, 2, 3)}}


def reads_of(chain: ColdChain, recipient_id: Any) -> list[Any]:
    return [e for e in chain.app.repository.event_store.get(recipient_id) if isinstance(e, Recipient.PersonalDataRead)]


def test_a_facilitys_doses_make_a_valid_fhir_bundle_with_cvx_lot_dose_and_nik(chain, doses) -> None:
    # When
    bundle = fhir_bundle(chain.app, OPERATOR, facility=PUSKESMAS, first=JAN_14, last=JAN_14)
    # Then: valid R4B, one Immunization per dose
    Bundle.model_validate(bundle)
    resources = [Immunization.model_validate(entry["resource"]) for entry in bundle["entry"]]
    assert len(resources) == 2
    by_nik = {r.patient.identifier.value: r for r in resources}
    assert set(by_nik) == {nik(serial=1), nik(serial=2)}
    given = by_nik[nik(serial=1)]
    assert given.patient.identifier.system == "https://fhir.kemkes.go.id/id/nik"
    assert given.status == "completed" and by_nik[nik(serial=2)].status == "entered-in-error"
    assert [(c.system, c.code) for c in given.vaccineCode.coding] == [("http://hl7.org/fhir/sid/cvx", "511")]
    assert given.lotNumber == "CV001" and str(given.expirationDate) == "2021-12-31"
    assert given.protocolApplied[0].doseNumberPositiveInt == 1
    assert given.location.identifier.value == PUSKESMAS and given.location.display == "Puskesmas Sukasari"
    assert given.performer[0].actor.display == "vaksinator.ani"
    assert given.occurrenceDateTime.isoformat() == "2021-01-14T09:00:00+07:00"
    assert given.recorded is not None
    # masking: the NIK is the only personal datum in the export
    text = json.dumps(bundle)
    assert "Siti Aminah" not in text and "0812" not in text


def test_a_district_or_the_nation_exports_the_doses_given_below_it(chain, doses) -> None:
    def exported(facility: str) -> set[str]:
        bundle = fhir_bundle(chain.app, OPERATOR, facility=facility)
        return {entry["resource"]["patient"]["identifier"]["value"] for entry in bundle["entry"]}

    assert exported("32.73") == exported("32") == exported("national") == {nik(serial=1), nik(serial=2)}
    position = last_position(chain.app)
    assert exported("31") == set()
    assert last_position(chain.app) == position  # nobody exported, nobody recorded
    with pytest.raises(Forbidden, match="only at 31 and below"):
        fhir_bundle(chain.app, Caller("auditor.dki", Role.AUDITOR, "31"), facility="national")


def test_the_kfa_code_is_added_where_configured(chain, doses) -> None:
    chain.app.env["KFA_CODES"] = f"{CORONAVAC}=93001019"
    bundle = fhir_bundle(chain.app, OPERATOR, recipient=doses["ids"][1].hex)
    [entry] = bundle["entry"]
    codes = [(c["system"], c["code"]) for c in entry["resource"]["vaccineCode"]["coding"]]
    assert codes == [("http://hl7.org/fhir/sid/cvx", "511"), ("http://sys-ids.kemkes.go.id/kfa", "93001019")]


def test_each_exported_person_is_recorded_as_a_read_of_personal_data(chain, doses) -> None:
    # Given
    before = {serial: len(reads_of(chain, rid)) for serial, rid in doses["ids"].items()}
    # When
    first = fhir_bundle(chain.app, OPERATOR, facility=PUSKESMAS)
    again = fhir_bundle(chain.app, OPERATOR, facility=PUSKESMAS)
    # Then: two reads each for the two exported, none for the person never vaccinated
    after = {serial: len(reads_of(chain, rid)) for serial, rid in doses["ids"].items()}
    assert {serial: after[serial] - before[serial] for serial in after} == {1: 2, 2: 2, 3: 0}
    read = reads_of(chain, doses["ids"][1])[-1]
    assert read.purpose == "FHIR Immunization export" and read.by.actor == "cli:auditor"
    # the same doses, the same identifiers: a receiver updates, never duplicates
    assert [e["request"]["url"] for e in first["entry"]] == [e["request"]["url"] for e in again["entry"]]


def test_only_admins_and_auditors_in_scope_export_doses_and_a_refusal_writes_nothing(chain, doses) -> None:
    position = last_position(chain.app)
    for caller, refusal in (
        (Caller("vaksinator", Role.VACCINATOR, PUSKESMAS), r"\(vaccinator\) may not export"),
        (Caller("petugas", Role.DISTRICT_OFFICER, "32.73"), r"\(district_officer\) may not export"),
        (Caller("auditor.dki", Role.AUDITOR, "31"), "only at 31 and below"),
    ):
        with pytest.raises(Forbidden, match=refusal):
            fhir_bundle(chain.app, caller, facility=PUSKESMAS)
    with pytest.raises(Forbidden, match="only at 31 and below"):
        fhir_bundle(chain.app, Caller("auditor.dki", Role.AUDITOR, "31"), recipient=doses["ids"][1].hex)
    assert last_position(chain.app) == position
    bundle = fhir_bundle(chain.app, Caller("auditor", Role.AUDITOR, "national"), facility=PUSKESMAS)
    assert len(bundle["entry"]) == 2
    assert reads_of(chain, doses["ids"][1])[-1].by.role == "auditor"


def test_a_store_written_before_provenance_exports_valid_documents(old_store, validator) -> None:  # noqa: F811
    """Events are forever: the v1 fixture's events (upcast) translate as today's do."""
    from interfaces.bootstrap import open_campaign

    app = open_campaign(old_store)
    try:
        document = epcis_document(app, OPERATOR, first=date(2020, 1, 1), last=date(2099, 12, 31))
        bundle = fhir_bundle(app, OPERATOR, facility="national")
    finally:
        app.close()
    assert schema_errors(validator, document) == []
    assert {"commissioning", "shipping", "receiving"} <= set(steps(document))
    assert len(Bundle.model_validate(bundle).entry) > 0


def test_a_large_export_records_its_reads_a_page_at_a_time(chain, doses, monkeypatch) -> None:
    import application.exports

    monkeypatch.setattr(application.exports, "PAGE", 1)
    position = last_position(chain.app)
    bundle = fhir_bundle(chain.app, OPERATOR, facility=PUSKESMAS)
    assert len(bundle["entry"]) == 2
    assert last_position(chain.app) == position + 2  # one read each, in two writes
    assert all(reads_of(chain, doses["ids"][serial]) for serial in (1, 2))

"""The recall trace answers where a lot is and who was vaccinated from it; after a
recall, nothing of it moves onward or is given, while a return is accepted."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest

from application.logistics import NATIONAL_WAREHOUSE
from domain.facility import FacilityKind
from domain.lot import LotRecalled
from domain.recipient import Channel, ScreeningResult, Severity
from domain.shipment import ReceiptLine, ShipmentLine
from projections.recall_trace import RecallTrace
from tests.application.test_recipients import JAN_14, WIB, at, import_rows, open_phase
from tests.scenario import CORONAVAC, ColdChain, last_position, nik, refused, target_row

SUKAJADI = "P327302"


@pytest.fixture
def given_lot(chain: ColdChain) -> dict[str, str]:
    """Lot CV001: 100 vials at Bio Farma; 50 to Jawa Barat, 30 on to Kota Bandung, 10 each to two puskesmas,
    5 more on the road to Kota Bandung; three people vaccinated (two at Sukasari, one at Sukajadi), one AEFI."""
    chain.app.register_facility(SUKAJADI, "Puskesmas Sukajadi", FacilityKind.PUSKESMAS, "32.73", chain.by())
    chain.release(vials=100)
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 50)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 30)))
    chain.receive_all(chain.ship("32.73", "P327301", ("CV001", 10)))
    chain.receive_all(chain.ship("32.73", SUKAJADI, ("CV001", 10)))
    on_the_road = chain.ship("32", "32.73", ("CV001", 5))
    packed = chain.pack("32.73", "P327301", ("CV001", 2))
    import_rows(chain.app, [target_row(1), target_row(2), target_row(3, workplace=SUKAJADI)], chain.by())
    open_phase(chain)
    booked = {serial: chain.app.register(nik(serial=serial), f"{serial:04d}", Channel.WEB, place, JAN_14).result["ticket"]
              for serial, place in ((1, "P327301"), (2, "P327301"), (3, SUKAJADI))}
    tickets = {}
    for serial, ticket in booked.items():
        chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, JAN_14))
        tickets[serial] = chain.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(chain, JAN_14)).result["next_ticket"]
    chain.app.report_aefi(tickets[3], Severity.MILD, "demam", at(chain, JAN_14))
    return {"on_the_road": on_the_road, "packed": packed}


def test_the_trace_names_where_the_lot_is_and_who_had_it(chain: ColdChain, given_lot, follow) -> None:
    # When the recall trace follows the log
    follower = follow(RecallTrace)
    follower.catch_up()
    trace = follower.read_model.view.trace(CORONAVAC, "CV001", "2021-01-14")
    # Then it has the hand-worked figures
    assert trace["status"] == "released"
    assert {row["facility"]: (row["usable_doses"], row["quarantined_doses"]) for row in trace["on_hand"]} == {
        NATIONAL_WAREHOUSE: (50, 0), "32": (15, 0), "32.73": (10, 0), "P327301": (8, 0), SUKAJADI: (9, 0)}
    assert [(r["sscc"], r["origin"], r["destination"], r["vials"]) for r in trace["in_transit"]] == [
        (given_lot["on_the_road"], "32", "32.73", 5)]
    assert (trace["doses_given"], trace["recipients"], trace["aefi"]) == (3, 3, 1)
    assert {(r["facility"], r["day"], r["doses"]) for r in trace["given"]} == {
        ("P327301", "2021-01-14", 2), (SUKAJADI, "2021-01-14", 1)}
    ids = {r["recipient_id"] for r in follower.read_model.view.recipients_of(CORONAVAC, "CV001", 10, 0)}
    assert ids == {chain.app.recipient_id(nik(serial=s)).hex for s in (1, 2, 3)}
    assert follower.read_model.view.trace(CORONAVAC, "NOPE", "2021-01-14") is None


def test_after_a_recall_nothing_moves_onward_or_is_given_but_a_return_is_accepted(
        chain: ColdChain, given_lot, follow) -> None:
    # Given the lot recalled (BPOM notice)
    chain.app.recall_lot(CORONAVAC, "CV001", "potency below specification", chain.by(), reference="BPOM-123")
    before = last_position(chain.app)
    # Then onward dispatch, receipt as usable and a dose are refused, and nothing is written
    with refused(chain.app, LotRecalled):
        chain.app.dispatch(given_lot["packed"], chain.by())
    with refused(chain.app, LotRecalled):
        chain.app.receive(given_lot["on_the_road"], [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal(5), chain.by())
    import_rows(chain.app, [target_row(4)], chain.by())
    chain.now = datetime.combine(JAN_14 - timedelta(days=2), time(9), tzinfo=WIB)
    ticket = chain.app.register(nik(serial=4), "0004", Channel.WEB, "P327301", JAN_14).result["ticket"]
    chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, JAN_14))
    after_screening = last_position(chain.app)
    with refused(chain.app, LotRecalled):
        chain.app.vaccinate(ticket, CORONAVAC, "CV001", "ani", at(chain, JAN_14))
    assert last_position(chain.app) == after_screening
    # while Kota Bandung's vials go back up towards Bio Farma
    back = chain.app.pack("32.73", "32", [ShipmentLine(CORONAVAC, "CV001", 10)], chain.by()).result["sscc"]
    chain.app.dispatch(back, chain.by())
    follower = follow(RecallTrace)
    follower.catch_up()
    trace = follower.read_model.view.trace(CORONAVAC, "CV001", "2021-01-14")
    assert trace["status"] == "recalled" and trace["reference"] == "BPOM-123"
    assert {r["sscc"] for r in trace["in_transit"]} == {given_lot["on_the_road"], back}


def test_rantai_lot_trace_prints_the_fixed_json(chain: ColdChain, given_lot, rantai) -> None:
    result = rantai("lot", "trace", CORONAVAC, "CV001", "--json")
    assert result.exit_code == 0, result.output
    trace = json.loads(result.stdout)
    assert {"gtin", "lot", "status", "on_hand", "in_transit", "doses_given", "recipients", "aefi",
            "log_position"} <= set(trace)
    assert set(trace["on_hand"][0]) >= {"facility", "usable_doses", "quarantined_doses"}
    assert set(trace["in_transit"][0]) >= {"sscc", "origin", "destination", "vials"}
    assert (trace["doses_given"], trace["recipients"], trace["aefi"]) == (3, 3, 1)
    assert trace["log_position"] == last_position(chain.app)
    unknown = rantai("lot", "trace", CORONAVAC, "NOPE", "--json")
    assert unknown.exit_code == 1 and unknown.stdout == ""

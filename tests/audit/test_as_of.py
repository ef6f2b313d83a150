"""An aggregate as of a version, a recorded time and an occurred time, and the routes that
answer them and histories to auditors (both backends)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from application.errors import NotFound
from application.history import History, resolve
from domain.shipment import ReceiptLine
from tests.api.conftest import accounts, api  # noqa: F401  (the API fixtures)
from tests.audit.test_history import corrected_shipment
from tests.scenario import CORONAVAC, ColdChain


def test_a_late_scan_counts_by_when_it_happened_not_when_it_arrived(chain: ColdChain) -> None:
    # Given a shipment dispatched on 3 January, then (recorded next) a reading taken in transit on the 5th,
    chain.release(vials=20)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 5))
    chain.later(2)
    chain.app.record_temperature(sscc, Decimal("6.0"), chain.by("BIOFARMA"))
    before_receipt = datetime.now(UTC)
    # and the receipt, scanned offline on the 4th, reaching the server only after the reading
    chain.now -= timedelta(days=1)
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 5)], Decimal("5.0"), chain.by("32"))
    history = History(chain.app)
    subject = resolve(chain.app, "shipment", [sscc])
    jan_4_noon = datetime(2021, 1, 4, 12, tzinfo=UTC)

    # When the auditor asks what had happened by noon on the 4th
    happened = history.as_of_occurred(subject, jan_4_noon)
    # Then it had been received, and no reading had been taken yet
    assert happened.status.value == "received"
    assert happened.readings == []
    assert happened.version == 3  # packed, dispatched, received: three events applied

    # and what the system knew just before the receipt arrived: in transit, with its reading
    known = history.as_of_recorded(subject, before_receipt)
    assert known.status.value == "dispatched" and len(known.readings) == 1 and known.version == 3
    # and by version, the library's own reconstruction
    assert history.as_of_version(subject, 2).status.value == "dispatched"
    assert history.as_of_version(subject, 4).status.value == "received"
    # before it was packed it did not exist
    assert history.as_of_occurred(subject, datetime(2021, 1, 1, tzinfo=UTC)) is None
    assert history.as_of_recorded(subject, datetime(2020, 1, 1, tzinfo=UTC)) is None
    with pytest.raises(NotFound):
        history.as_of_version(subject, 9)


def test_a_stock_card_as_of_a_version_comes_from_its_snapshot(chain: ColdChain) -> None:
    # Given Bio Farma's card with more events than a snapshot's interval (10)
    chain.release(vials=500)
    for _ in range(60):
        chain.ship("BIOFARMA", "32", ("CV001", 1))
    subject = resolve(chain.app, "stock", ["BIOFARMA"])
    history = History(chain.app)
    latest = chain.app.get_stock("BIOFARMA")
    # When it is asked for as of each version, Then the doses on hand step down one by one
    at = {v: history.as_of_version(subject, v).doses_of(f"{CORONAVAC}/CV001") for v in (2, 51, 52, latest.version)}
    assert at[2] == 500 and at[51] == 500 - 49 and at[52] == 500 - 50 and at[latest.version] == 440
    assert list(chain.app.snapshots.get(subject.aggregate_id)), "no snapshot was taken"


def test_history_and_past_state_over_http_for_auditors_only_and_masked(chain: ColdChain, api, accounts) -> None:
    sscc = corrected_shipment(chain)
    answer = api.get(f"/audit/history/shipment/{sscc}", headers=accounts("auditor"))
    assert answer.status_code == 200, answer.text
    events = answer.json()
    assert [e["event"] for e in events][-1] == "Shipment.ReceiptCorrected"
    assert events[-1]["corrects"] == 3 and events[2]["corrected_by"] == [4]
    assert api.get(f"/audit/history/shipment/{sscc}", headers=accounts("auditor.dki")).status_code == 403
    assert api.get(f"/audit/history/shipment/{sscc}", headers=accounts("gudang.jabar")).status_code == 403
    past = api.get(f"/audit/state/shipment/{sscc}", params={"version": 3}, headers=accounts("auditor")).json()
    assert past["state"]["status"] == "received" and past["state"]["version"] == 3
    assert api.get(f"/audit/state/shipment/{sscc}", headers=accounts("auditor")).status_code == 422
    assert api.get(f"/audit/state/shipment/{sscc}", params={"occurred": "2021-01-04T00:00:00"},
                   headers=accounts("auditor")).status_code == 422
    assert api.get("/audit/history/vial/1", headers=accounts("auditor")).status_code == 422
    assert api.get("/audit/history/lot/1", headers=accounts("auditor")).status_code in (404, 422)
    lot = api.get(f"/audit/history/lot/{CORONAVAC}/CV001", headers=accounts("auditor.dki"))
    assert lot.status_code == 200 and lot.json()[0]["event"] == "Lot.Released"


def test_a_recipients_history_over_http_is_masked_for_auditors_and_admins(chain: ColdChain, api, accounts) -> None:
    from tests.application.test_recipients import import_rows
    from tests.scenario import nik, target_row

    import_rows(chain.app, [target_row(7)], chain.by("KEMENKES"))
    person = chain.app.recipient_id(nik(serial=7)).hex
    for who in ("auditor", "admin"):
        answer = api.get(f"/audit/history/recipient/{person}", headers=accounts(who))
        assert answer.status_code == 200, answer.text
        targeted = answer.json()[0]
        assert targeted["event"] == "Recipient.Targeted"
        assert targeted["data"]["nik"] != nik(serial=7) and "*" in targeted["data"]["nik"]
        assert nik(serial=7) not in answer.text and "Siti Aminah 7" not in answer.text
    assert api.get(f"/audit/history/recipient/{person}", headers=accounts("auditor.dki")).status_code == 403
    state = api.get(f"/audit/state/recipient/{person}", params={"version": 1}, headers=accounts("auditor")).json()
    assert state["masked"] and state["state"]["nik"] != nik(serial=7)


def test_one_past_figure_is_rebuilt_at_a_time_per_server_process(chain: ColdChain, api, accounts) -> None:
    # Given a replay of a past figure already running on this server process
    from interfaces.api.routers import audit

    chain.release()
    position = chain.app.recorder.max_notification_id()
    assert audit.REPLAYS.acquire(blocking=False)
    try:
        # When an auditor asks for another, Then the answer is 429 with a time to wait, and no replay runs
        busy = api.get("/audit/dashboard", params={"position": position}, headers=accounts("auditor"))
        assert busy.status_code == 429, busy.text
        assert busy.headers["Retry-After"] == str(audit.RETRY_AFTER_SECONDS)
        assert "being rebuilt" in busy.json()["message"]
        report = api.get("/audit/reports/shipments", params={"position": position}, headers=accounts("auditor"))
        assert report.status_code == 429
    finally:
        audit.REPLAYS.release()
    # And once it is done, the next one is answered
    answer = api.get("/audit/dashboard", params={"position": position}, headers=accounts("auditor"))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("route", ["/audit/dashboard", "/audit/reports/shipments"])
def test_a_past_moment_out_of_range_is_refused_not_a_server_error(chain: ColdChain, api, accounts, route) -> None:
    chain.release()
    for at in ("0001-01-01T00:00:00+00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
               "2019-12-31T23:59:59+00:00", "2021-02-03T04:05:06", "1700000000"):
        answer = api.get(route, params={"at": at}, headers=accounts("auditor"))
        assert answer.status_code == 422, (at, answer.text)
        assert at not in answer.text  # the refusal does not echo the input
    assert api.get(route, params={"at": "2021-01-13T18:30:00+07:00"}, headers=accounts("auditor")).status_code == 200


def test_the_last_event_at_or_before_a_position_across_skipped_positions(chain: ColdChain, settings) -> None:
    from interfaces.as_of import last_at_or_before
    from tests.audit.tamper import Attacker

    chain.release()
    chain.receive_all(chain.ship("BIOFARMA", "32", ("CV001", 5)))
    attacker = Attacker(settings)  # positions skipped, as after failed inserts (and a wide gap)
    try:
        positions = [row[0] for row in attacker.rows()]
        for position in positions[3:6]:
            attacker.delete(position)
        far = 10**15
        attacker.run("UPDATE {t} SET {id} = ? WHERE {id} = ?", (far, positions[-1]))
    finally:
        attacker.close()
    kept = [p for p in positions[:-1] if p not in positions[3:6]] + [far]
    for asked in [0, 1, positions[3], positions[5], positions[6], positions[-2], positions[-1], far - 1, far, far * 3]:
        found = last_at_or_before(chain.app, asked)
        expected = max((p for p in kept if p <= asked), default=None)
        assert (found.id if found else None) == expected, asked

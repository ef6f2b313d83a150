"""An aggregate's history for auditors: every event in order with its provenance, its
idempotency key and log position, corrections pointing at what they correct, and
personal data masked (both backends)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from application.access import Caller
from application.errors import Forbidden, NotFound
from application.history import History, UnknownKind, resolve
from domain.recipient import Channel
from domain.shipment import ReceiptLine
from domain.user import Role
from tests.application.test_recipients import import_rows
from tests.scenario import CORONAVAC, ColdChain, nik, target_row

AUDITOR = Caller("auditor", Role.AUDITOR, "national", "laptop")
AUDITOR_DKI = Caller("auditor.dki", Role.AUDITOR, "31", "laptop")


def corrected_shipment(chain: ColdChain) -> str:
    """Bio Farma -> 32: 10 vials received as 10 under an idempotency key, then recounted as 9 + 1 rejected."""
    chain.release(vials=50)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 10))
    chain.later(1)
    chain.app.receive(sscc, [ReceiptLine(CORONAVAC, "CV001", 10)], Decimal("5.0"),
                      chain.user(Role.WAREHOUSE, "32", "gudang.jabar"), key="scan-0001")
    chain.later(1)
    chain.app.correct_receipt(sscc, [ReceiptLine(CORONAVAC, "CV001", 9, 1, "broken")], "recounted",
                              chain.user(Role.WAREHOUSE, "32", "gudang.jabar"))
    return sscc


def test_history_of_a_shipment_lists_every_event_with_its_provenance_and_the_correction_points_back(
        chain: ColdChain) -> None:
    # Given a shipment packed, dispatched, received and its receipt corrected
    sscc = corrected_shipment(chain)
    history = History(chain.app)

    # When an auditor asks for its history
    subject = resolve(chain.app, "shipment", [sscc])
    history.check(AUDITOR, subject)
    entries = history.entries(subject)

    # Then every event is there, in order, with where and who, and the log's positions rising
    names = [e.event for e in entries]
    assert names == ["Shipment.Packed", "Shipment.Dispatched", "Shipment.Received", "Shipment.ReceiptCorrected"]
    assert [e.version for e in entries] == [1, 2, 3, 4]
    assert all(a.position < b.position for a, b in zip(entries, entries[1:], strict=False))
    received, correction = entries[2], entries[3]
    assert (received.actor, received.role, received.facility, received.device) == (
        "gudang.jabar", "warehouse", "32", "phone-1")
    assert received.occurred_at is not None and received.recorded_at is not None
    assert received.idempotency_key is not None and "scan-0001" in received.idempotency_key
    assert received.command == "receive"
    assert correction.idempotency_key is None
    # the correction names the receipt it corrects, and the receipt lists its correction
    assert correction.corrects == received.version
    assert received.corrected_by == [correction.version]
    assert correction.data["reason"] == "recounted"
    as_json = correction.as_json(subject)
    assert as_json["kind"] == "shipment" and as_json["id"] == sscc and as_json["corrects"] == 3


def test_each_kind_resolves_to_its_aggregate(chain: ColdChain) -> None:
    chain.release(vials=5)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 1))
    history = History(chain.app)
    assert history.entries(resolve(chain.app, "lot", [CORONAVAC, "CV001"]))[0].event == "Lot.Released"
    stock = history.entries(resolve(chain.app, "stock", ["BIOFARMA"]))
    assert stock[0].event == "StockLedger.Opened" and "StockLedger.Issued" in {e.event for e in stock}
    assert resolve(chain.app, "shipment", [sscc]).facilities == ("BIOFARMA", "32")
    chain.app.add_user("gudang.x", Role.WAREHOUSE, "32", chain.by(actor="cli:test"))
    user = history.entries(resolve(chain.app, "user", ["gudang.x"]))
    assert user[0].event == "User.Added"
    assert all(e.data.get("password_hash") in (None, "(hidden)") for e in user)
    with pytest.raises(UnknownKind):
        resolve(chain.app, "vial", ["1"])
    with pytest.raises(UnknownKind):
        resolve(chain.app, "lot", [CORONAVAC])
    with pytest.raises(NotFound):
        resolve(chain.app, "recipient", ["not-an-id"])


def test_a_scoped_auditor_sees_only_histories_in_its_scope(chain: ColdChain) -> None:
    chain.release(vials=5)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 1))
    history = History(chain.app)
    subject = resolve(chain.app, "shipment", [sscc])
    with pytest.raises(Forbidden, match="only at 31 and below"):
        history.check(AUDITOR_DKI, subject)
    with pytest.raises(Forbidden, match=r"\(warehouse\) may not"):
        history.check(Caller("gudang.jabar", Role.WAREHOUSE, "32"), subject)
    history.check(Caller("admin", Role.ADMIN, "national"), subject)


def test_a_recipients_history_is_masked_for_the_auditor(chain: ColdChain) -> None:
    import_rows(chain.app, [target_row(1)], chain.by("KEMENKES"))
    person = chain.app.recipient_id(nik(serial=1))
    history = History(chain.app)
    subject = resolve(chain.app, "recipient", [person.hex])
    assert subject.personal
    targeted = history.entries(subject, masked=True)[0]
    assert targeted.event == "Recipient.Targeted"
    assert targeted.data["nik"] != nik(serial=1) and targeted.data["nik"].startswith("3273")
    assert "*" in targeted.data["name"] and "*" in targeted.data["phone"]
    assert nik(serial=1) not in str(targeted.as_json(subject))
    unmasked = history.entries(subject, masked=False)[0]
    assert unmasked.data["nik"] == nik(serial=1)


def test_a_session_and_a_blast_have_histories_too(chain: ColdChain) -> None:
    from tests.application.test_recipients import DEADLINE, JAN_14, open_phase

    import_rows(chain.app, [target_row(1), target_row(2)], chain.by("KEMENKES"))
    open_phase(chain)
    chain.app.register(nik(serial=1), "0001", Channel.WEB, "P327301", JAN_14)
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang di pedulilindungi.id", DEADLINE, chain.by("KEMENKES"))
    history = History(chain.app)
    session = resolve(chain.app, "session", ["P327301", JAN_14.isoformat()])
    assert session.facilities == ("P327301",)
    assert [e.event for e in history.entries(session)][:2] == ["VaccinationSession.Opened", "VaccinationSession.Booked"]
    sent = resolve(chain.app, "blast", [blast.id.hex])
    assert sent.facilities == ("32.73",)
    assert history.entries(sent)[0].event == "Blast.Started"
    with pytest.raises(UnknownKind, match="YYYY-MM-DD"):
        resolve(chain.app, "session", ["P327301", "14/01/2021"])
    with pytest.raises(Forbidden):
        history.check(AUDITOR_DKI, sent)

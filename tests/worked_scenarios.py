"""Scenarios with worked figures, shared by the read-model, API and CLI tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from application.logistics import NATIONAL_WAREHOUSE
from domain.recipient import Channel, ScreeningResult, Severity
from domain.shipment import ShipmentLine
from domain.stock_ledger import WastageReason
from interfaces.sms.outbox import OutboxGateway
from tests.application.test_recipients import PUSKESMAS, at, import_rows, open_phase
from tests.scenario import BIOFARMA_VAC, CORONAVAC, ColdChain, nik, target_row


def JAN(day: int, hour: int = 8) -> datetime:  # noqa: N802 - reads like the calendar
    return datetime(2021, 1, day, hour, tzinfo=UTC)


@pytest.fixture
def logistics(chain: ColdChain) -> ColdChain:
    """3 Jan: Bio Farma releases 100 vials and sends 40 to Jawa Barat (received 5 Jan).
    5 Jan: 2 doses wasted (broken). 6 Jan: a count finds 57 where 58 were expected."""
    chain.now = JAN(3)
    chain.release(vials=100)
    sscc = chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 40))
    chain.now = JAN(5)
    chain.receive_all(sscc)
    by = chain.by(NATIONAL_WAREHOUSE)
    chain.app.record_wastage(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 2, WastageReason.BROKEN, "dropped", by)
    chain.now = JAN(6)
    chain.app.record_count(NATIONAL_WAREHOUSE, CORONAVAC, "CV001", 57, chain.by(NATIONAL_WAREHOUSE))
    return chain


@pytest.fixture
def vaccinations(chain: ColdChain, settings) -> ColdChain:
    """Three targets blasted; one SMS fails; two register (web, USSD) and get dose 1;
    one gets dose 2; one reports a mild AEFI. A 10-dose lot at the puskesmas loses
    8 doses to the open-vial time limit after 2 are given."""
    chain.release(vials=100, expiry=date(2021, 12, 31))
    chain.release(lot="BF001", vials=10, product_gtin=BIOFARMA_VAC, doses_per_vial=10)
    for lot, gtin_ in (("CV001", CORONAVAC), ("BF001", BIOFARMA_VAC)):
        for origin, destination in ((NATIONAL_WAREHOUSE, "32"), ("32", "32.73"), ("32.73", PUSKESMAS)):
            sscc = chain.app.pack(origin, destination, [ShipmentLine(gtin_, lot, 5)], chain.by(origin)).result["sscc"]
            chain.app.dispatch(sscc, chain.by(origin))
            chain.receive_all(sscc)
    by = chain.by("KEMENKES")
    import_rows(chain.app, [target_row(i) for i in (1, 2, 3)], by)
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", datetime(2021, 1, 13, 17, tzinfo=UTC), by)
    list(chain.app.send_blast(blast.id, OutboxGateway(settings.sms_outbox), by))
    open_phase(chain)
    chain.app.record_delivery(blast.message_id(chain.app.recipient_id(nik(serial=3))), False, "AbsentSubscriber")
    day1, day2 = date(2021, 1, 14), date(2021, 1, 28)
    tickets = [chain.app.register(nik(serial=s), f"{s:04d}", channel, PUSKESMAS, day1, chain.by("web")).result["ticket"]
               for s, channel in ((1, Channel.WEB), (2, Channel.USSD))]
    for ticket in tickets:
        chain.app.screen(ticket, ScreeningResult.ELIGIBLE, "", None, at(chain, day1))
    next_tickets = [chain.app.vaccinate(ticket, BIOFARMA_VAC, "BF001", "ani", at(chain, day1)).result["next_ticket"]
                    for ticket in tickets]
    chain.app.record_wastage(PUSKESMAS, BIOFARMA_VAC, "BF001", 8, WastageReason.OPEN_VIAL_TIME_LIMIT, "6 h",
                             at(chain, day1))
    chain.app.report_aefi(next_tickets[0], Severity.MILD, "demam", at(chain, day1))
    chain.app.screen(next_tickets[0], ScreeningResult.ELIGIBLE, "", None, at(chain, day2))
    chain.app.vaccinate(next_tickets[0], CORONAVAC, "CV001", "ani", at(chain, day2))
    return chain

"""A small cold chain for the scenario tests: Bio Farma, a province, one of its
districts and a puskesmas, plus a second province with a district."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from contextlib import contextmanager
from dataclasses import dataclass, field
import os
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from stdnum import ean

from application.logistics import NATIONAL_WAREHOUSE, Logistics
from domain.facility import FacilityKind
from application.access import Caller
from domain.user import Role
from domain.shipment import ReceiptLine, ShipmentLine
from projections.follower import Follower


def gtin(body: str) -> str:
    return body + ean.calc_check_digit(body)


CORONAVAC = gtin("0699280600001")
BIOFARMA_VAC = gtin("0899280600002")
JAN_3 = datetime(2021, 1, 3, 8, 0, tzinfo=UTC)


@dataclass
class ColdChain:
    app: Logistics
    now: datetime = JAN_3
    ssccs: list[str] = field(default_factory=list)

    def by(self, facility: str = "", actor: str = "staff", device: str = "scanner-1") -> Caller:
        """The server's operator (full rights) acting as ``actor`` at the scenario's time;
        the server decides the facility, so ``facility`` is only a reminder for the reader."""
        return Caller.operator(actor, occurred_at=self.now, device=device)

    def user(self, role: Role, scope: str, name: str = "user") -> Caller:
        """A logged-in user: role and scope checked, the time the server's (the scenario's)."""
        return Caller(name, role, scope, "phone-1")

    def build(self) -> ColdChain:
        self.app.clock = lambda: self.now
        admin = self.by(NATIONAL_WAREHOUSE, "admin")
        rows = [
            (NATIONAL_WAREHOUSE, "PT Bio Farma", FacilityKind.NATIONAL_WAREHOUSE, None),
            ("32", "JAWA BARAT", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE),
            ("32.73", "KOTA BANDUNG", FacilityKind.DISTRICT_OFFICE, "32"),
            ("P327301", "Puskesmas Sukasari", FacilityKind.PUSKESMAS, "32.73"),
            ("31", "DKI JAKARTA", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE),
            ("31.71", "KOTA JAKARTA SELATAN", FacilityKind.DISTRICT_OFFICE, "31"),
        ]
        for code, name, kind, parent in rows:
            self.app.register_facility(code, name, kind, parent, admin)
        return self

    def release(self, lot: str = "CV001", vials: int = 100, expiry: date = date(2021, 12, 31),
                product_gtin: str = CORONAVAC, doses_per_vial: int = 1) -> None:
        self.app.release_lot(product_gtin, lot, expiry, "CoronaVac", doses_per_vial, "Sinovac",
                             vials, self.by(NATIONAL_WAREHOUSE))

    def pack(self, origin: str, destination: str, *lines: tuple[str, int],
             product_gtin: str = CORONAVAC) -> str:
        outcome = self.app.pack(
            origin, destination,
            [ShipmentLine(product_gtin, lot, vials) for lot, vials in lines], self.by(origin),
        )
        return outcome.result["sscc"]

    def ship(self, origin: str, destination: str, *lines: tuple[str, int]) -> str:
        sscc = self.pack(origin, destination, *lines)
        self.app.dispatch(sscc, self.by(origin))
        return sscc

    def receive_all(self, sscc: str, celsius: str = "5.0") -> None:
        from decimal import Decimal

        shipment = self.app.get_shipment(sscc)
        lines = [ReceiptLine(line.gtin, line.lot_number, line.vials) for line in shipment.lines]
        self.app.receive(sscc, lines, Decimal(celsius), self.by(shipment.destination))

    def later(self, days: int) -> None:
        self.now += timedelta(days=days)

    def on_hand(self, facility: str, lot: str = "CV001", product_gtin: str = CORONAVAC) -> int:
        return self.app.get_stock(facility).doses_of(f"{product_gtin}/{lot}")


def last_position(app: Logistics) -> int:
    return app.recorder.max_notification_id() or 0


@contextmanager
def refused(app: Logistics, error: type[Exception], match: str | None = None) -> Iterator[object]:
    """The block must raise ``error`` and leave no new event in the store."""
    before = last_position(app)
    with pytest.raises(error, match=match) as info:
        yield info
    assert last_position(app) == before, "a refused command left an event behind"


def nik(kecamatan: str = "327301", born: str = "170885", serial: int = 1) -> str:
    return f"{kecamatan}{born}{serial:04d}"


def target_row(serial: int, **overrides: str) -> dict[str, str]:
    row = {
        "nik": nik(serial=serial), "name": f"Siti Aminah {serial}", "phone": f"0812{serial:08d}",
        "category": "nakes", "district": "32.73", "workplace": "P327301",
    }
    return row | overrides


def reflect_the_whole_log(client: Any, chain: ColdChain) -> int:
    """Bring the app's read models to the log's head: on SQLite its own followers
    do it (waited for here), on PostgreSQL (no followers in the API) this test does."""
    head = chain.app.recorder.max_notification_id()
    embedded = client.app.state.campaign.env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    for model in client.app.state.read_models.values():
        follower, deadline = Follower(chain.app, model), time.monotonic() + 20
        while follower.position < head:
            if not embedded:
                follower.catch_up()
            elif time.monotonic() > deadline:
                pytest.fail(f"read model {model.name} stayed at {follower.position}, log at {head}")
            time.sleep(0.05)
    return head


def cli_env(settings: Any) -> dict[str, str]:
    """The environment of a real `rantai` process on the test's store."""
    env = dict(os.environ)
    env.update({
        "RANTAI_DATABASE_URL": settings.database_url, "RANTAI_POSTGRES_SCHEMA": settings.postgres_schema,
        "RANTAI_CIPHER_KEY": settings.cipher_key, "RANTAI_NIK_SECRET": settings.nik_secret,
        "RANTAI_SMS_OUTBOX": settings.sms_outbox, "RANTAI_GATEWAY_SECRET": settings.gateway_secret,
    })
    return env

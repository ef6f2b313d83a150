"""A small but realistic January 2021 cold chain, replayed through the application.

Bio Farma releases two lots and ships them to three provinces, on to two
districts each and on to two puskesmas per district. Along the way: one short
delivery, one VVM rejection and one count discrepancy. Event times follow the
calendar of the rollout (``occurred_at``), whatever today's date is.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from stdnum import ean

from application.access import Caller
from application.campaign import Campaign
from application.logistics import NATIONAL_WAREHOUSE, Logistics
from domain.calendar import WIB as ZONE_WIB
from domain.calendar import local_day
from domain.shipment import ReceiptLine, ShipmentLine
from interfaces.reference_data import facility_rows, puskesmas_code
from interfaces.scenarios.sample import FIRST, LAST

WIB = timezone(timedelta(hours=7), "WIB")
CORONAVAC_GTIN = "0697000000001" + ean.calc_check_digit("0697000000001")
BIOFARMA_GTIN = "0899280600012" + ean.calc_check_digit("0899280600012")
CORONAVAC_LOT, BIOFARMA_LOT = "A202012001", "BF2101001"
DEMO_PHASE = 2  # the demo's own phase, open around today
NEWCOMERS = 20
DEMO_PUSKESMAS = ("P327301", "P327302")  # the Kota Bandung puskesmas that get vaccine in the demo

# province -> its two demo districts -> the kecamatan whose puskesmas get vaccine
ROUTES = {
    "32": {"32.73": ["32.73.01", "32.73.02"], "32.04": ["32.04.05", "32.04.06"]},
    "31": {"31.74": ["31.74.01", "31.74.02"], "31.71": ["31.71.01", "31.71.02"]},
    "35": {"35.78": ["35.78.01", "35.78.02"], "35.07": ["35.07.01", "35.07.02"]},
}


class ScenarioClock:
    """A scenario's own clock: the application reads it instead of the server's
    while the scenario runs, so deadlines and "today" follow the scenario."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    @contextmanager
    def driving(self, app: Any) -> Iterator[None]:
        saved = app.clock
        app.clock = self
        try:
            yield
        finally:
            app.clock = saved


@dataclass
class DemoRun:
    app: Campaign
    clock: datetime = datetime(2021, 1, 2, 8, 0, tzinfo=WIB)
    shipments: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    newcomer: dict[str, str] = field(default_factory=dict)

    def by(self, facility: str, actor: str = "petugas.gudang") -> Caller:
        """The demo's operator acting as ``actor`` at the demo's time (the server decides
        where each command acts; ``facility`` only names the device)."""
        return Caller.operator(actor, device=f"scanner-{facility}", occurred_at=self.clock)

    def tick(self, hours: float) -> None:
        self.clock += timedelta(hours=hours)

    def ship(self, origin: str, destination: str, vials: dict[str, int]) -> str:
        lines = [ShipmentLine(gtin, lot, n) for (gtin, lot), n in _lots(vials).items()]
        sscc = self.app.pack(origin, destination, lines, self.by(origin)).result["sscc"]
        self.tick(1)
        self.app.dispatch(sscc, self.by(origin))
        self.shipments.append(sscc)
        for celsius in ("4.8", "5.6"):
            self.tick(2)
            self.app.record_temperature(sscc, Decimal(celsius), self.by(origin, "logger"))
        return sscc

    def receive(self, sscc: str, overrides: dict[str, ReceiptLine] | None = None) -> None:
        shipment = self.app.get_shipment(sscc)
        lines = [
            (overrides or {}).get(line.lot_number, ReceiptLine(line.gtin, line.lot_number, line.vials))
            for line in shipment.lines
        ]
        self.tick(1)
        self.app.receive(sscc, lines, Decimal("5.2"), self.by(shipment.destination, "petugas.penerima"))


def _lots(vials: dict[str, int]) -> dict[tuple[str, str], int]:
    gtins = {CORONAVAC_LOT: CORONAVAC_GTIN, BIOFARMA_LOT: BIOFARMA_GTIN}
    return {(gtins[lot], lot): n for lot, n in vials.items()}


def is_loaded(app: Logistics) -> bool:
    return app.has_lot(CORONAVAC_GTIN, CORONAVAC_LOT)


def run_demo(app: Campaign) -> DemoRun:
    run = DemoRun(app)
    today = local_day(app.clock(), ZONE_WIB)  # the server's today: the demo's lots outlive it
    districts = {d for province in ROUTES.values() for d in province}
    app.register_facilities(facility_rows(puskesmas_in=districts), run.by(NATIONAL_WAREHOUSE, "admin"))

    run.tick(24)  # 3 January: Bio Farma releases the lots
    warehouse = run.by(NATIONAL_WAREHOUSE, "qa.biofarma")
    app.release_lot(CORONAVAC_GTIN, CORONAVAC_LOT, today + timedelta(days=730), "CoronaVac", 1,
                    "Sinovac Life Sciences", 3000, warehouse)
    app.release_lot(BIOFARMA_GTIN, BIOFARMA_LOT, today + timedelta(days=540), "Vaksin COVID-19 Bio Farma", 10,
                    "PT Bio Farma", 600, warehouse)

    run.tick(24)  # 4 January: to the provinces
    to_province = {p: run.ship(NATIONAL_WAREHOUSE, p, {CORONAVAC_LOT: 800, BIOFARMA_LOT: 160})
                   for p in ROUTES}
    for province, sscc in to_province.items():
        rejected = None
        if province == "35":  # heat-exposed box: VVM stage 3, all vials of that line rejected
            rejected = {BIOFARMA_LOT: ReceiptLine(BIOFARMA_GTIN, BIOFARMA_LOT, 0, 160, "VVM stage 3", 3)}
            run.notes.append(f"VVM rejection: shipment {sscc} to 35, lot {BIOFARMA_LOT}, 160 vials rejected")
        run.receive(sscc, rejected)

    run.tick(48)  # 6 January: to the districts
    for province, districts_of in ROUTES.items():
        for district in districts_of:
            sscc = run.ship(province, district, {CORONAVAC_LOT: 300})
            short = None
            if district == "32.73":  # two vials never arrived
                short = {CORONAVAC_LOT: ReceiptLine(CORONAVAC_GTIN, CORONAVAC_LOT, 298)}
                run.notes.append(f"Short delivery: shipment {sscc} to 32.73, 298 of 300 vials arrived")
            run.receive(sscc, short)

    run.tick(48)  # 8 January: to the puskesmas
    for districts_of in ROUTES.values():
        for district, kecamatan in districts_of.items():
            for code in kecamatan:
                run.receive(run.ship(district, puskesmas_code(code), {CORONAVAC_LOT: 100}))

    run.clock = datetime(2021, 1, 10, 9, 0, tzinfo=WIB)  # stock count at Kota Bandung finds one vial fewer
    outcome = app.record_count("32.73", CORONAVAC_GTIN, CORONAVAC_LOT, 97,
                               run.by("32.73", "petugas.gudang.kota.bandung"))
    run.notes.append(f"Count discrepancy at 32.73: {outcome.result['difference_doses']} dose(s)")
    run.newcomer = open_phase_today(app, today)
    return run


def demo_targets() -> list[dict[str, str]]:
    """Health workers of Kota Bandung for the demo's own phase (valid NIKs, demo phones)."""
    rng = random.Random(2)
    rows = []
    for serial in range(1, NEWCOMERS + 1):
        workplace = DEMO_PUSKESMAS[(serial - 1) % 2]
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 30))
        nik = f"{workplace[1:]}{born:%d%m%y}{9000 + serial:04d}"
        rows.append({"nik": nik, "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                     "phone": f"0812{rng.randrange(10**7, 10**8)}", "category": "nakes",
                     "district": "32.73", "workplace": workplace})
    return rows


def open_phase_today(app: Campaign, today: date) -> dict[str, str]:
    """The demo's own phase: health workers of Kota Bandung on the list, registration
    open for a week from today and doses every day of it, so a newcomer can register
    and be vaccinated at once (the January 2021 phase 1 keeps its own calendar)."""
    operator = Caller.operator("admin.demo", device="cli")  # at the server's time
    rows = [(n, row) for n, row in enumerate(demo_targets(), start=2)]
    for _ in app.import_targets(rows, DEMO_PHASE, "Demo: sasaran hari ini", operator):
        pass
    deadline = datetime.combine(today + timedelta(days=7), time(23, 59, 59), tzinfo=WIB)
    app.set_calendar(DEMO_PHASE, deadline, [today + timedelta(days=n) for n in range(7)], operator)
    first = rows[0][1]
    return {"nik": first["nik"], "phone_last_four": first["phone"][-4:], "facility": first["workplace"],
            "day": today.isoformat()}

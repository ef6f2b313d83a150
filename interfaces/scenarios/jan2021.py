"""The seeds as a scenario: the rollout of 3–15 January 2021, at any scale.

At scale 1: 500,000 health workers in 91 districts are targeted and blasted
by SMS on the evening of 12 January; about 71,000 have registered by 18:30
on 13 January and registration closes at midnight; officers visit some of
the rest on 14 January; doses are given on 14 and 15 January at the
puskesmas where people registered, from CoronaVac shipped down the chain in
the first days of January. Everything goes through the application's use
cases, so every rule holds; ``Campaign.batch`` saves them many to a
transaction. Event times (``occurred_at``) follow the calendar.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice

from application.campaign import Campaign
from application.logistics import NATIONAL_WAREHOUSE
from application.sms import SmsGateway
from application.access import Caller
from domain.recipient import Channel, ScreeningResult, Severity, VisitOutcome, VisitUnit
from domain.session import SessionFull
from domain.shipment import ReceiptLine, ShipmentLine
from domain.stock_ledger import WastageReason
from interfaces.scenarios.demo import BIOFARMA_GTIN, CORONAVAC_GTIN, WIB, ScenarioClock
from interfaces.scenarios.sample import sample_rows
from interfaces.reference_data import facility_rows

TARGETS_AT_SCALE_1 = 500_000
DISTRICTS = 91
LOT = "A202101SC"
RECALLED_LOT, MULTIDOSE_LOT = "BF2101R", "BF2101M"  # Bio Farma's 10-dose product
REGISTER_SHARE = 0.18  # of targets, by midnight 13 January
BY_1830_SHARE = 71 / 90  # ~71,000 of ~90,000 registrations were in by 18:30
SHOW_UP, ELIGIBLE, POSTPONED = 0.95, 0.90, 0.07
VISITED_SHARE = 0.10  # of non-responders, visited on 14 January
BATCH = 2000

Progress = Callable[[str, int, int], None]


def rollout_loaded(app: Campaign) -> bool:
    """Whether this store already holds the rollout (its lot was released)."""
    return app.has_lot(CORONAVAC_GTIN, LOT)


def at(day: int, hour: float) -> datetime:
    return datetime(2021, 1, day, tzinfo=WIB) + timedelta(hours=hour)


@dataclass(frozen=True)
class Plan:
    """What one target will do, decided from their row number alone."""

    registers_at: datetime | None
    channel: Channel
    day: date
    shows_up: bool
    screening: ScreeningResult
    visited: VisitOutcome | None

    @classmethod
    def for_row(cls, seed: int, index: int) -> Plan:
        rng = random.Random(seed * 1_000_003 + index)
        registers = rng.random() < REGISTER_SHARE
        when = None
        if registers:  # 12 Jan 19:00 → 13 Jan 18:30, then the late ones until midnight
            when = (at(12, 19) + timedelta(minutes=rng.uniform(0, 23.5 * 60)) if rng.random() < BY_1830_SHARE
                    else at(13, 18.5) + timedelta(minutes=rng.uniform(0, 5.5 * 60 - 1)))
        outcome = None
        if not registers and rng.random() < VISITED_SHARE:
            outcome = rng.choices(list(VisitOutcome), weights=(40, 10, 20, 10, 1, 19))[0]
        draw = rng.random()
        screening = (ScreeningResult.ELIGIBLE if draw < ELIGIBLE else
                     ScreeningResult.POSTPONED if draw < ELIGIBLE + POSTPONED else ScreeningResult.NOT_ELIGIBLE)
        day = date(2021, 1, 14 if rng.random() < 0.55 else 15)
        return cls(when, Channel.WEB if rng.random() < 0.8 else Channel.USSD, day,
                   rng.random() < SHOW_UP, screening, outcome)


@dataclass
class Rollout:
    app: Campaign
    gateway: SmsGateway
    scale: float = 1.0
    seed: int = 2021
    progress: Progress = lambda step, done, total: None  # noqa: E731
    tickets: dict[int, str] = field(default_factory=dict)
    days: dict[int, date] = field(default_factory=dict)
    multidose_given: int = 0
    busiest: str = ""
    vials_opened: dict[int, int] = field(default_factory=dict)
    given_by_day: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return max(int(TARGETS_AT_SCALE_1 * self.scale), DISTRICTS)

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        return enumerate(sample_rows(self.count, DISTRICTS, self.seed))

    def plan(self, index: int) -> Plan:
        return Plan.for_row(self.seed, index)

    clock: ScenarioClock = field(default_factory=lambda: ScenarioClock(at(2, 8)))

    def by(self, facility: str, moment: datetime, actor: str = "petugas") -> Caller:
        """The scenario's operator acting as ``actor`` at ``moment``: the application's
        clock is the scenario's, so every rule counts days on the scenario calendar."""
        self.clock.now = moment
        return Caller.operator(actor, device=f"device-{facility}")

    def run(self) -> None:
        with self.clock.driving(self.app):
            demand = self.facilities()
            self.ship(demand)
            self.incidents()
            self.target()
            self.blast()
            self.register()
            self.visit()
            self.vaccinate()
            self.close_sessions()

    def facilities(self) -> Counter[str]:
        """Register the chain; answer the doses each puskesmas will need."""
        demand: Counter[str] = Counter()
        districts = set()
        for index, row in self.rows():
            districts.add(row[4])
            plan = self.plan(index)
            if plan.registers_at or plan.visited is VisitOutcome.REGISTERED:
                demand[row[5]] += 1
        self.app.register_facilities(facility_rows(puskesmas_in=districts), self.by("KEMENKES", at(2, 8), "admin"))
        self.progress("facilities", 1, 1)
        return demand

    def ship(self, demand: Counter[str]) -> None:
        """3 Jan release; 4 Jan to provinces; 6 Jan to districts; 8 Jan to puskesmas.
        Each level gets what is below it plus 20 % (the buffer stays at each store)."""
        per_puskesmas = {p: int(doses * 1.2) + 10 for p, doses in demand.items()}
        per_district: Counter[str] = Counter()
        for puskesmas, vials in per_puskesmas.items():
            per_district[f"{puskesmas[1:3]}.{puskesmas[3:5]}"] += vials
        per_district = Counter({d: int(n * 1.2) for d, n in per_district.items()})
        per_province: Counter[str] = Counter()
        for district, vials in per_district.items():
            per_province[district[:2]] += vials
        per_province = Counter({p: int(n * 1.2) for p, n in per_province.items()})
        total = int(sum(per_province.values()) * 1.2)
        self.app.release_lot(CORONAVAC_GTIN, LOT, date(2023, 12, 31), "CoronaVac", 1, "Sinovac Life Sciences",
                             total, self.by(NATIONAL_WAREHOUSE, at(3, 9), "qa.biofarma"))
        legs = [(NATIONAL_WAREHOUSE, p, n, 4) for p, n in per_province.items()]
        legs += [(d[:2], d, n, 6) for d, n in per_district.items()]
        legs += [(f"{p[1:3]}.{p[3:5]}", p, n, 8) for p, n in per_puskesmas.items()]
        rng = random.Random(self.seed)
        with self.app.batch(BATCH):
            for done, (origin, destination, vials, day) in enumerate(legs, start=1):
                leaving = at(day, 7 + rng.uniform(0, 3))
                sscc = self.app.pack(origin, destination, [ShipmentLine(CORONAVAC_GTIN, LOT, vials)],
                                     self.by(origin, leaving)).result["sscc"]
                self.app.dispatch(sscc, self.by(origin, leaving + timedelta(minutes=30)))
                arrival = leaving + timedelta(hours=rng.uniform(3, 20))
                self.app.record_temperature(sscc, Decimal(str(round(rng.uniform(3.0, 7.5), 1))),
                                            self.by(origin, arrival - timedelta(hours=1), "logger"))
                self.app.receive(sscc, [ReceiptLine(CORONAVAC_GTIN, LOT, vials)], Decimal("5.1"),
                                 self.by(destination, arrival))
                self.progress("shipments", done, len(legs))

    def incidents(self) -> None:
        """What a real cold chain meets, on a few legs (8-10 January): a box with broken and
        heat-exposed vials (rejected, held in quarantine, partly returned to Bio Farma,
        partly destroyed), couriers taking boxes over, a miscounted receipt corrected,
        wastage and its correction, Bio Farma's 10-dose lot shipped down and then recalled
        (returned one level up), and a 10-dose lot given from serialised vials."""
        province, district, puskesmas = self.first_route()
        biofarma = self.by(NATIONAL_WAREHOUSE, at(8, 7), "qa.biofarma")
        for lot, vials in ((RECALLED_LOT, 30), (MULTIDOSE_LOT, 20)):
            self.app.release_lot(BIOFARMA_GTIN, lot, date(2022, 6, 30), "Vaksin COVID-19 Bio Farma", 10,
                                 "PT Bio Farma", vials, biofarma)
        # a box of 10 with 3 broken vials and 2 at VVM stage 3, carried by a courier
        sscc = self.leg(NATIONAL_WAREHOUSE, province, [ShipmentLine(CORONAVAC_GTIN, LOT, 10)], at(8, 8), courier=True)
        self.app.receive(sscc, [ReceiptLine(CORONAVAC_GTIN, LOT, 5, 3, "pecah", 1),
                                ReceiptLine(CORONAVAC_GTIN, LOT, 0, 2, "VVM 3", 3)], Decimal("5.0"),
                         self.by(province, at(8, 14), "petugas.gudang"))
        back = self.leg(province, NATIONAL_WAREHOUSE, [ShipmentLine(CORONAVAC_GTIN, LOT, 2, quarantined=True)],
                        at(9, 8))
        self.app.receive(back, [ReceiptLine(CORONAVAC_GTIN, LOT, 0, 2, "VVM 3, returned", 3)], Decimal("5.0"),
                         self.by(NATIONAL_WAREHOUSE, at(9, 15), "qa.biofarma"))
        self.app.record_wastage(province, CORONAVAC_GTIN, LOT, 3, WastageReason.BROKEN, "dimusnahkan",
                                self.by(province, at(9, 16), "petugas.gudang"), quarantined=True)
        # the 10-dose lots go down the chain; a district's count of one box is corrected
        lines = [ShipmentLine(BIOFARMA_GTIN, RECALLED_LOT, 10), ShipmentLine(BIOFARMA_GTIN, MULTIDOSE_LOT, 10)]
        sscc = self.leg(NATIONAL_WAREHOUSE, province, lines, at(8, 9), courier=True)
        self.receive_all(sscc, province, at(8, 18))
        sscc = self.leg(province, district, [ShipmentLine(BIOFARMA_GTIN, RECALLED_LOT, 6),
                                             ShipmentLine(BIOFARMA_GTIN, MULTIDOSE_LOT, 6)], at(9, 8), courier=True)
        self.receive_all(sscc, district, at(9, 14))
        self.app.correct_receipt(sscc, [ReceiptLine(BIOFARMA_GTIN, RECALLED_LOT, 6),
                                        ReceiptLine(BIOFARMA_GTIN, MULTIDOSE_LOT, 5, 1, "retak", 1)],
                                 "hitung ulang: satu vial retak", self.by(district, at(9, 17), "petugas.gudang"))
        sscc = self.leg(district, puskesmas, [ShipmentLine(BIOFARMA_GTIN, RECALLED_LOT, 2),
                                              ShipmentLine(BIOFARMA_GTIN, MULTIDOSE_LOT, 4)], at(10, 8))
        self.receive_all(sscc, puskesmas, at(10, 12))
        # wastage at the district, entered as 10 doses (a vial) where 5 were lost, and corrected
        officer = self.by(district, at(10, 15), "petugas.gudang")
        self.app.record_wastage(district, BIOFARMA_GTIN, MULTIDOSE_LOT, 10, WastageReason.BROKEN, "tumpah", officer)
        entry = self.app.get_stock(district).version
        self.app.correct_wastage(district, entry, 5, "setengah vial, bukan satu",
                                 self.by(district, at(10, 16), "petugas.gudang"))
        # 11 January: BPOM recalls the 10-dose lot; the puskesmas and district send it back up
        self.app.recall_lot(BIOFARMA_GTIN, RECALLED_LOT, "potensi di bawah spesifikasi", biofarma, reference="BPOM-2021-01")
        for origin, destination, vials in ((puskesmas, district, 2), (district, province, 4)):
            back = self.leg(origin, destination, [ShipmentLine(BIOFARMA_GTIN, RECALLED_LOT, vials)], at(11, 9))
            self.app.receive(back, [ReceiptLine(BIOFARMA_GTIN, RECALLED_LOT, 0, vials, "ditarik BPOM", 1)],
                             Decimal("5.0"), self.by(destination, at(11, 15), "petugas.gudang"))
        self.progress("incidents", 1, 1)

    def first_route(self) -> tuple[str, str, str]:
        """The busiest puskesmas of the scenario (most people coming), its district and province."""
        if not self.busiest:
            demand = Counter(row[5] for index, row in self.rows()
                             if self.plan(index).registers_at or self.plan(index).visited is VisitOutcome.REGISTERED)
            self.busiest = min(demand, key=lambda code: (-demand[code], code))
        puskesmas = self.busiest
        district = f"{puskesmas[1:3]}.{puskesmas[3:5]}"
        return district[:2], district, puskesmas

    def leg(self, origin: str, destination: str, lines: list[ShipmentLine], leaving: datetime,
            courier: bool = False) -> str:
        sscc = self.app.pack(origin, destination, lines, self.by(origin, leaving, "petugas.gudang")).result["sscc"]
        self.app.dispatch(sscc, self.by(origin, leaving + timedelta(minutes=20), "petugas.gudang"))
        if courier:
            self.app.hand_over(sscc, "PT Kurir Rantai Dingin", "D 1234 AB", "Tol Cipularang",
                               self.by(origin, leaving + timedelta(hours=1), "kurir"))
        return sscc

    def receive_all(self, sscc: str, destination: str, moment: datetime) -> None:
        shipment = self.app.get_shipment(sscc)
        self.app.receive(sscc, [ReceiptLine(l.gtin, l.lot_number, l.vials) for l in shipment.lines],
                         Decimal("5.0"), self.by(destination, moment, "petugas.gudang"))

    def close_sessions(self) -> None:
        """Each vaccination day ends at 16:00: the multi-dose vials opened are discarded."""
        _, _, puskesmas = self.first_route()
        for day in (14, 15):
            opened = self.vials_opened.get(day, 0)
            self.app.close_session(puskesmas, date(2021, 1, day), opened,
                                   self.by(puskesmas, at(day, 16), "vaksinator"))

    def target(self) -> None:
        """11 Jan: the list from BPJS and workforce data."""
        header = ("nik", "name", "phone", "category", "district", "workplace")
        rows = ((i + 2, dict(zip(header, row, strict=True))) for i, row in self.rows())
        done = 0
        for batch in self.app.import_targets(rows, 1, "SDMK BPJS 2021-01", self.by("KEMENKES", at(11, 10), "admin")):
            done += batch.imported + len(batch.rejected)
            self.progress("targets", done, self.count)

    def blast(self) -> None:
        """12 Jan 19:00: the SMS blast; delivery reports come back within the hour."""
        districts = sorted({row[4] for _, row in self.rows()})
        by = self.by("KEMENKES", at(12, 19), "admin")
        self.app.set_calendar(1, at(13, 24) - timedelta(seconds=1), [date(2021, 1, 14), date(2021, 1, 15)], by)
        blast = self.app.start_blast(1, districts, "Anda terdaftar sebagai penerima vaksin COVID-19. "
                                     "Daftar ulang di pedulilindungi.id atau *119# sebelum 13/01 24:00.",
                                     at(13, 24) - timedelta(seconds=1), by)
        for sent in self.app.send_blast(blast.id, self.gateway, by):
            self.progress("sms", sent, self.count)
        rng = random.Random(self.seed + 1)
        for done, chunk in enumerate(self.chunks(), start=1):
            self.app.warm([self.app.recipient_id(row[0]) for _, row in chunk])
            with self.app.batch(BATCH):
                for _, row in chunk:
                    recipient_id = self.app.recipient_id(row[0])
                    delivered = rng.random() < 0.92
                    self.clock.now = at(12, 19) + timedelta(minutes=rng.uniform(1, 90))
                    self.app.record_delivery(blast.message_id(recipient_id), delivered,
                                             "" if delivered else rng.choice(["AbsentSubscriber", "InvalidPhoneNumber"]))
            self.progress("delivery reports", min(done * BATCH, self.count), self.count)

    def chunks(self) -> Iterator[list[tuple[int, list[str]]]]:
        rows = self.rows()
        return iter(lambda: list(islice(rows, BATCH)), [])

    def register(self) -> None:
        """12 Jan 19:00 – 13 Jan 24:00, by web and *119#, in the order they came."""
        plans = sorted((plan.registers_at, index, row) for index, row in self.rows()
                       if (plan := self.plan(index)).registers_at)
        for start in range(0, len(plans), BATCH):
            chunk = plans[start:start + BATCH]
            self.app.warm([self.app.recipient_id(row[0]) for _, _, row in chunk])
            with self.app.batch(BATCH):
                for moment, index, row in chunk:
                    self.book(index, row, self.plan(index).channel, self.plan(index).day, moment)
            self.progress("registrations", start + len(chunk), len(plans))

    def book(self, index: int, row: list[str], channel: Channel, day: date, moment: datetime,
             officer: Caller | None = None) -> None:
        self.clock.now = moment
        try:
            outcome = self.app.register(row[0], row[2][-4:], channel, row[5], day, officer)
        except SessionFull as full:  # the person picks the first free day offered
            if not full.free_days:
                return
            outcome = self.app.register(row[0], row[2][-4:], channel, row[5], full.free_days[0], officer)
        self.tickets[index] = outcome.result["ticket"]
        self.days[index] = date.fromisoformat(outcome.result["day"])

    def visit(self) -> None:
        """14 Jan: officers visit some of those who did not respond."""
        rng = random.Random(self.seed + 2)
        units = list(VisitUnit)
        for done, chunk in enumerate(self.chunks(), start=1):
            visits = [(i, row, self.plan(i).visited) for i, row in chunk if self.plan(i).visited]
            self.app.warm([self.app.recipient_id(row[0]) for _, row, _ in visits])
            with self.app.batch(BATCH):
                for index, row, outcome in visits:
                    recipient_id = self.app.recipient_id(row[0])
                    moment = at(14, 8 + rng.uniform(0, 8))
                    officer = self.by(row[4], moment, "officer")
                    self.app.assign_visit(recipient_id, rng.choice(units), "Babinsa/petugas", officer)
                    self.app.report_visit(recipient_id, outcome, "", officer)
                    if outcome is VisitOutcome.REGISTERED:
                        self.book(index, row, Channel.FIELD, date(2021, 1, 15), moment, officer)
            self.progress("field visits", min(done * BATCH, self.count), self.count)

    def vaccinate(self) -> None:
        """14–15 Jan, desks 1–4: screening, then the dose from the puskesmas's stock."""
        rng = random.Random(self.seed + 3)
        queue = sorted((self.days[i], i) for i in self.tickets)
        rows = {index: row for index, row in self.rows() if index in self.tickets}
        for start in range(0, len(queue), BATCH):
            chunk = queue[start:start + BATCH]
            self.app.warm([self.app.recipient_id(rows[i][0]) for _, i in chunk])
            with self.app.batch(BATCH):
                for day, index in chunk:
                    self.give_dose(rng, rows[index], self.plan(index), self.tickets[index], day)
            self.progress("doses", start + len(chunk), len(queue))

    def vial_for(self, puskesmas: str, day: date) -> tuple[str, str, str]:
        """At the first puskesmas the first doses of each day come from the 10-dose lot's
        serialised vials (while the 4 vials sent there last); elsewhere CoronaVac."""
        if puskesmas != self.first_route()[2] or self.multidose_given >= 40:
            return CORONAVAC_GTIN, LOT, ""
        self.multidose_given += 1
        given_today = self.given_by_day.get(day.day, 0)  # a vial opened one day is discarded at its close
        self.given_by_day[day.day] = given_today + 1
        if given_today % 10 == 0:
            self.vials_opened[day.day] = self.vials_opened.get(day.day, 0) + 1
        return BIOFARMA_GTIN, MULTIDOSE_LOT, f"V{day.day:02d}{given_today // 10 + 1:02d}"

    def give_dose(self, rng: random.Random, row: list[str], plan: Plan, ticket: str, day: date) -> None:
        if not plan.shows_up:
            return
        moment = datetime.combine(day, time(8), tzinfo=WIB) + timedelta(minutes=rng.uniform(0, 360))
        desk = self.by(row[5], moment, "petugas.skrining")
        reason = "" if plan.screening is ScreeningResult.ELIGIBLE else "tekanan darah tinggi"
        until = day + timedelta(days=14) if plan.screening is ScreeningResult.POSTPONED else None
        self.app.screen(ticket, plan.screening, reason, until, desk)
        if plan.screening is ScreeningResult.ELIGIBLE:
            injected = self.by(row[5], moment + timedelta(minutes=15), "vaksinator")
            gtin, lot, serial = self.vial_for(row[5], day)
            outcome = self.app.vaccinate(ticket, gtin, lot, "vaksinator", injected, serial=serial)
            if rng.random() < 0.002:
                self.app.report_aefi(outcome.result["next_ticket"], Severity.MILD, "nyeri, demam ringan",
                                     self.by(row[5], moment + timedelta(minutes=45), "petugas.observasi"))

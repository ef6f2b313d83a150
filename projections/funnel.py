"""The recipient funnel per district, phase and hour — the ministry's dashboard.

Targeted → SMS sent → delivered / failed → registered (web, USSD, field) →
scheduled → screened (eligible, postponed, not eligible) → dose 1 → dose 2.
Drop-out = (dose 1 due − dose 2) / dose 1 due, where "dose 1 due" counts only
the people whose dose 2 is due (their dose 1 at least the dose interval ago: a
query asks with ``due_before``, the first hour not yet due); without that cut
it falls back to (dose 1 − dose 2) / dose 1. Coverage = dose 1 / targeted. Hours are
UTC hours of when things happened (``occurred_at``), shown in WIB by the UI.
The recipients reconciliation (targeted vs sent vs delivered vs registered vs
vaccinated per district) is a query on the same counts.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.blast import Blast
from domain.calendar import WIB, zone
from domain.recipient import Recipient
from projections.read_model import ReadModel, hour_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

STAGES = ("targeted", "sms_sent", "delivered", "failed", "registered_web", "registered_ussd",
          "registered_field", "scheduled", "screened", "eligible", "postponed", "not_eligible",
          "dose1", "dose2")


def rates(row: dict[str, Any]) -> dict[str, Any]:
    row["registered"] = row["registered_web"] + row["registered_ussd"] + row["registered_field"]
    due = row.get("dose2_due", row["dose1"])  # nobody drops out before their dose 2 is due
    row["drop_out_rate"] = round(max(due - row["dose2"], 0) / due, 4) if due else None
    row["coverage"] = round(row["dose1"] / row["targeted"], 4) if row["targeted"] else None
    return row


def add_up(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Several districts' counts as one row, with its rates."""
    columns = [*STAGES, *(["dose2_due"] if rows and "dose2_due" in rows[0] else [])]
    return rates({column: sum(row[column] for row in rows) for column in columns})


def dose2_due_before(today: date, interval_days: int) -> str:
    """The first UTC hour (as the funnel stores hours) whose doses 1 are not yet due
    for dose 2 on ``today``: a dose 1 on day D is due from D + interval. Days are
    counted in WIB here (the funnel keeps hours, not zones; a dose given in WITA or
    WIT between midnight and 01.00/02.00 local time would count a day early)."""
    first_not_due = today - timedelta(days=interval_days - 1)
    return hour_of(datetime.combine(first_not_due, time(), tzinfo=zone(WIB)))


class FunnelView(ReadModelView):
    tables = (Table("funnel", {"district": "TEXT", "phase": "INTEGER", "hour": "TEXT",
                               **{stage: COUNTER for stage in STAGES}},
                    key=("district", "phase", "hour"), indexes=(("hour",),)),)

    def by_district(self, phase: int | None = None, due_before: str | None = None) -> list[dict[str, Any]]:
        """Totals per district (and phase), with drop-out and coverage. With ``due_before``
        (a UTC hour as stored), ``dose2_due`` counts the doses 1 given before that hour."""
        sums = ", ".join(f"sum({s}) AS {s}" for s in STAGES)
        params: list[Any] = []
        if due_before is not None:
            sums += ", sum(CASE WHEN hour < ? THEN dose1 ELSE 0 END) AS dose2_due"
            params.append(due_before)
        where = ""
        if phase is not None:
            where = "WHERE phase = ?"
            params.append(phase)
        rows = self.select(f"SELECT district, phase, {sums} FROM {{funnel}} {where} "
                           "GROUP BY district, phase ORDER BY district, phase", params)
        return [rates(row) for row in rows]

    def by_hour(self, district: str | None = None, phase: int | None = None) -> list[dict[str, Any]]:
        """Per hour, nationally or for one district: the curve of the dashboard."""
        sums = ", ".join(f"sum({s}) AS {s}" for s in STAGES)
        clauses = [c for c, v in (("district = ?", district), ("phase = ?", phase)) if v is not None]
        params = [v for v in (district, phase) if v is not None]
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.select(f"SELECT hour, {sums} FROM {{funnel}} {where} GROUP BY hour ORDER BY hour", params)
        return [rates(row) for row in rows]

    def totals(self, phase: int | None = None, due_before: str | None = None) -> dict[str, Any]:
        return add_up(self.by_district(phase, due_before))

    def reconcile_districts(self, phase: int | None = None) -> list[dict[str, Any]]:
        """Targeted vs sent vs delivered vs registered vs vaccinated, per district."""
        return [
            {"district": r["district"], "phase": r["phase"], "targeted": r["targeted"], "sent": r["sms_sent"],
             "delivered": r["delivered"], "failed": r["failed"], "registered": r["registered"],
             "vaccinated_dose1": r["dose1"], "vaccinated_dose2": r["dose2"],
             "not_sent": r["targeted"] - r["sms_sent"], "registered_rate": (
                 round(r["registered"] / r["targeted"], 4) if r["targeted"] else None)}
            for r in self.by_district(phase)
        ]


class SQLiteFunnelView(SQLiteView, FunnelView):
    pass


class PostgresFunnelView(PostgresView, FunnelView):
    pass


class Funnel(ReadModel):
    name = "funnel"
    views = {"sqlite": SQLiteFunnelView, "postgres": PostgresFunnelView}
    handles = (Recipient.Targeted, Blast.BatchSent, Recipient.DeliveryReported, Recipient.Registered,
               Recipient.Scheduled, Recipient.Screened, Recipient.Vaccinated, Recipient.DoseVoided)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    def count(self, event: Any, district: str, phase: int, **stages: int) -> None:
        self.changes.add("funnel", (district, phase, hour_of(event.by.occurred_at)), **stages)

    @apply_event.register
    def targeted(self, event: Recipient.Targeted) -> None:
        self.count(event, event.district, event.phase, targeted=1)

    @apply_event.register
    def batch_sent(self, event: Blast.BatchSent) -> None:
        for district, sent in event.per_district.items():
            self.count(event, district, event.phase, sms_sent=sent)

    @apply_event.register
    def delivery_reported(self, event: Recipient.DeliveryReported) -> None:
        self.count(event, event.district, event.phase, **{event.status: 1})

    @apply_event.register
    def registered(self, event: Recipient.Registered) -> None:
        self.count(event, event.district, event.phase, **{f"registered_{event.channel.value}": 1})

    @apply_event.register
    def scheduled(self, event: Recipient.Scheduled) -> None:
        self.count(event, event.district, event.phase, scheduled=1)

    @apply_event.register
    def screened(self, event: Recipient.Screened) -> None:
        self.count(event, event.district, event.phase, screened=1, **{event.result.value: 1})

    @apply_event.register
    def vaccinated(self, event: Recipient.Vaccinated) -> None:
        self.count(event, event.district, event.phase, **{f"dose{event.number}": 1})

    @apply_event.register
    def dose_voided(self, event: Recipient.DoseVoided) -> None:
        """A dose recorded on the wrong ticket no longer counts (in the hour of the correction)."""
        self.count(event, event.district, event.phase, **{f"dose{event.number}": -1})

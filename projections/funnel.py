"""The recipient funnel per district, phase and hour — the ministry's dashboard.

Targeted → SMS sent → delivered / failed → registered (web, USSD, field) →
scheduled → screened (eligible, postponed, not eligible) → dose 1 → dose 2.
Drop-out = (dose 1 − dose 2) / dose 1; coverage = dose 1 / targeted. Hours are
UTC hours of when things happened (``occurred_at``), shown in WIB by the UI.
The recipients reconciliation (targeted vs sent vs delivered vs registered vs
vaccinated per district) is a query on the same counts.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.blast import Blast
from domain.recipient import Recipient
from projections.read_model import ReadModel, hour_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

STAGES = ("targeted", "sms_sent", "delivered", "failed", "registered_web", "registered_ussd",
          "registered_field", "scheduled", "screened", "eligible", "postponed", "not_eligible",
          "dose1", "dose2")


def rates(row: dict[str, Any]) -> dict[str, Any]:
    row["registered"] = row["registered_web"] + row["registered_ussd"] + row["registered_field"]
    row["drop_out_rate"] = round((row["dose1"] - row["dose2"]) / row["dose1"], 4) if row["dose1"] else None
    row["coverage"] = round(row["dose1"] / row["targeted"], 4) if row["targeted"] else None
    return row


class FunnelView(ReadModelView):
    tables = (Table("funnel", {"district": "TEXT", "phase": "INTEGER", "hour": "TEXT",
                               **{stage: COUNTER for stage in STAGES}},
                    key=("district", "phase", "hour"), indexes=(("hour",),)),)

    def by_district(self, phase: int | None = None) -> list[dict[str, Any]]:
        """Totals per district (and phase), with drop-out and coverage."""
        sums = ", ".join(f"sum({s}) AS {s}" for s in STAGES)
        where, params = ("WHERE phase = ?", (phase,)) if phase is not None else ("", ())
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

    def totals(self, phase: int | None = None) -> dict[str, Any]:
        rows = self.by_district(phase)
        total = {stage: sum(row[stage] for row in rows) for stage in STAGES}
        return rates(total)

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

"""Doses reconciled per facility and lot: doses recorded on recipients vs
doses drawn from the facility's stock card, and the open-vial wastage rate
(open-vial doses wasted ÷ (doses drawn + open-vial doses wasted))."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.recipient import Recipient
from domain.stock_ledger import StockLedger, WastageReason
from projections.read_model import ReadModel
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table


class DoseReconciliationView(ReadModelView):
    tables = (Table("doses", {"facility": "TEXT", "lot_key": "TEXT", "recorded": COUNTER, "drawn": COUNTER,
                              "open_vial_wasted": COUNTER, "other_wasted": COUNTER},
                    key=("facility", "lot_key")),)

    def report(self, facility: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE facility = ?", (facility,)) if facility else ("", ())
        rows = self.select(f"SELECT * FROM {{doses}} {where} ORDER BY facility, lot_key", params)
        for row in rows:
            row["difference"] = row["drawn"] - row["recorded"]
            opened = row["drawn"] + row["open_vial_wasted"]
            row["open_vial_wastage_rate"] = round(row["open_vial_wasted"] / opened, 4) if opened else None
        return rows


class SQLiteDoseReconciliationView(SQLiteView, DoseReconciliationView):
    pass


class PostgresDoseReconciliationView(PostgresView, DoseReconciliationView):
    pass


class DoseReconciliation(ReadModel):
    name = "dose_reconciliation"
    views = {"sqlite": SQLiteDoseReconciliationView, "postgres": PostgresDoseReconciliationView}
    handles = (Recipient.Vaccinated, Recipient.DoseVoided, StockLedger.Administered, StockLedger.Wasted,
               StockLedger.AdministrationVoided, StockLedger.WastageCorrected)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def vaccinated(self, event: Recipient.Vaccinated) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), recorded=1)

    @apply_event.register
    def administered(self, event: StockLedger.Administered) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), drawn=event.doses)

    @apply_event.register
    def wasted(self, event: StockLedger.Wasted) -> None:
        column = "open_vial_wasted" if event.reason is WastageReason.OPEN_VIAL_TIME_LIMIT else "other_wasted"
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), **{column: event.doses})

    @apply_event.register
    def dose_voided(self, event: Recipient.DoseVoided) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), recorded=-1)

    @apply_event.register
    def administration_voided(self, event: StockLedger.AdministrationVoided) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), drawn=-event.doses)

    @apply_event.register
    def wastage_corrected(self, event: StockLedger.WastageCorrected) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), other_wasted=-event.doses)

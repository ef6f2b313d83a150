"""Doses reconciled per facility and lot: doses recorded on recipients vs
doses drawn from the facility's stock card, and the open-vial wastage rate
(open-vial doses wasted ÷ (doses drawn + open-vial doses wasted)); per session
(facility and day) the vials opened and the open-vial wastage computed from them
(doses per vial × vials opened − doses given); serialised vials flagged when they
gave more doses than they hold or were seen at two facilities."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.recipient import Recipient
from domain.session import VaccinationSession
from domain.stock_ledger import StockLedger, WastageReason
from projections.read_model import ReadModel
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table


class DoseReconciliationView(ReadModelView):
    tables = (
        Table("doses", {"facility": "TEXT", "lot_key": "TEXT", "recorded": COUNTER, "drawn": COUNTER,
                        "open_vial_wasted": COUNTER, "other_wasted": COUNTER}, key=("facility", "lot_key")),
        Table("lots", {"lot_key": "TEXT", "doses_per_vial": "INTEGER"}, key=("lot_key",)),
        Table("sessions", {"facility": "TEXT", "day": "TEXT", "lot_key": "TEXT", "given": COUNTER,
                           "vials_opened": COUNTER}, key=("facility", "day", "lot_key")),
        Table("closed", {"facility": "TEXT", "day": "TEXT", "discarded_vials": "BIGINT", "closed_at": "TEXT"},
              key=("facility", "day")),
        Table("vials", {"lot_key": "TEXT", "serial": "TEXT", "facility": "TEXT", "doses": COUNTER},
              key=("lot_key", "serial", "facility")),
    )

    def sessions(self, facility: str | None = None) -> list[dict[str, Any]]:
        """Per session (facility, day) and lot: doses given, vials opened, and the open-vial
        wastage: doses per vial x vials opened - doses given."""
        where, params = ("WHERE s.facility = ?", (facility,)) if facility else ("", ())
        rows = self.select(
            "SELECT s.facility, s.day, s.lot_key, s.given, s.vials_opened, l.doses_per_vial, c.closed_at, "
            "c.discarded_vials FROM {sessions} s LEFT JOIN {lots} l ON l.lot_key = s.lot_key "
            f"LEFT JOIN {{closed}} c ON c.facility = s.facility AND c.day = s.day {where} "
            "ORDER BY s.facility, s.day, s.lot_key", params)
        for row in rows:
            per_vial = row["doses_per_vial"] or 1
            row["open_vial_wastage"] = max(per_vial * row["vials_opened"] - row["given"], 0)
        return rows

    def vial_flags(self) -> list[dict[str, Any]]:
        """Serialised vials that gave more doses than they hold, or were seen at two facilities."""
        rows = self.select(
            "SELECT v.lot_key, v.serial, count(*) AS facilities, sum(v.doses) AS doses, max(l.doses_per_vial) AS holds "
            "FROM {vials} v LEFT JOIN {lots} l ON l.lot_key = v.lot_key GROUP BY v.lot_key, v.serial "
            "ORDER BY v.lot_key, v.serial")
        flagged = []
        for row in rows:
            reasons = (["more doses than the vial holds"] if row["holds"] and row["doses"] > row["holds"] else [])
            reasons += ["seen at two facilities"] if row["facilities"] > 1 else []
            if reasons:
                flagged.append(row | {"flag": "; ".join(reasons)})
        return flagged

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
               StockLedger.AdministrationVoided, StockLedger.WastageCorrected, StockLedger.Received,
               StockLedger.HeldInQuarantine, VaccinationSession.Closed)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def vaccinated(self, event: Recipient.Vaccinated) -> None:
        key = f"{event.gtin}/{event.lot_number}"
        self.changes.add("doses", (event.facility, key), recorded=1)
        self.changes.add("sessions", (event.facility, event.day.isoformat(), key), given=1,
                         vials_opened=1 if event.opens_vial else 0)
        if event.serial:
            self.changes.add("vials", (key, event.serial, event.facility), doses=1)

    @apply_event.register
    def lot_on_card(self, event: StockLedger.Received) -> None:
        self.changes.insert("lots", (f"{event.gtin}/{event.lot_number}",), doses_per_vial=event.doses_per_vial)

    @apply_event.register
    def lot_held(self, event: StockLedger.HeldInQuarantine) -> None:
        self.changes.insert("lots", (f"{event.gtin}/{event.lot_number}",), doses_per_vial=event.doses_per_vial)

    @apply_event.register
    def session_closed(self, event: VaccinationSession.Closed) -> None:
        self.changes.put("closed", (event.facility, event.day.isoformat()), discarded_vials=event.discarded_vials,
                         closed_at=event.by.occurred_at.isoformat())

    @apply_event.register
    def administered(self, event: StockLedger.Administered) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), drawn=event.doses)

    @apply_event.register
    def wasted(self, event: StockLedger.Wasted) -> None:
        column = "open_vial_wasted" if event.reason is WastageReason.OPEN_VIAL_TIME_LIMIT else "other_wasted"
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), **{column: event.doses})

    @apply_event.register
    def dose_voided(self, event: Recipient.DoseVoided) -> None:
        key = f"{event.gtin}/{event.lot_number}"
        self.changes.add("doses", (event.facility, key), recorded=-1)
        self.changes.add("sessions", (event.facility, event.day.isoformat(), key), given=-1)

    @apply_event.register
    def administration_voided(self, event: StockLedger.AdministrationVoided) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), drawn=-event.doses)

    @apply_event.register
    def wastage_corrected(self, event: StockLedger.WastageCorrected) -> None:
        self.changes.add("doses", (event.facility, f"{event.gtin}/{event.lot_number}"), other_wasted=-event.doses)

"""Stock reconciled per facility and lot for a period:

opening + received − issued − administered − wasted ± adjustments = closing,

and apart from it the quarantined stock (vials rejected at receipt, or of a lot on
hold): opening + held − returned − destroyed = closing,

beside the last physical count in the period and the discrepancy rate
(sum of |counted − expected| ÷ sum of expected, over the period's counts).
Days are calendar days in the facility's own zone (WIB, WITA or WIT).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.stock_ledger import StockLedger
from projections.read_model import ReadModel, day_of, utc
from projections.stock_movements import QUARANTINE_FLOWS, STOCK_EVENTS, USABLE_FLOWS, StockEvent, movement_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

FLOWS = USABLE_FLOWS
NET = "received - issued - administered - wasted + adjustments"
QUARANTINE_NET = "held - returned - destroyed"


class StockReconciliationView(ReadModelView):
    tables = (
        Table("movements", {"facility": "TEXT", "lot_key": "TEXT", "day": "TEXT",
                            **{flow: COUNTER for flow in FLOWS}}, key=("facility", "lot_key", "day")),
        Table("counts", {"facility": "TEXT", "lot_key": "TEXT", "at": "TEXT", "day": "TEXT",
                         "expected": "BIGINT", "counted": "BIGINT", "difference": "BIGINT"},
              key=("facility", "lot_key", "at")),
        Table("quarantine", {"facility": "TEXT", "lot_key": "TEXT", "day": "TEXT",
                             **{flow: COUNTER for flow in QUARANTINE_FLOWS}}, key=("facility", "lot_key", "day")),
    )

    def report(self, first_day: str = "0000-01-01", last_day: str = "9999-12-31",
               facility: str | None = None) -> list[dict[str, Any]]:
        """One row per facility and lot, for the days ``first_day``..``last_day`` (ISO dates)."""
        only = "AND facility = ?" if facility else ""
        extra = (facility,) if facility else ()
        sums = ", ".join(f"sum(CASE WHEN day >= ? THEN {flow} ELSE 0 END) AS {flow}" for flow in FLOWS)
        rows = self.select(
            f"SELECT facility, lot_key, sum(CASE WHEN day < ? THEN {NET} ELSE 0 END) AS opening, {sums} "
            f"FROM {{movements}} WHERE day <= ? {only} GROUP BY facility, lot_key ORDER BY facility, lot_key",
            (first_day, *[first_day] * len(FLOWS), last_day, *extra),
        )
        counts = self.select(
            f"SELECT * FROM {{counts}} WHERE day >= ? AND day <= ? {only} ORDER BY at",
            (first_day, last_day, *extra),
        )
        held = {(q["facility"], q["lot_key"]): q for q in self.select(
            f"SELECT facility, lot_key, sum(CASE WHEN day < ? THEN {QUARANTINE_NET} ELSE 0 END) AS opening, "
            + ", ".join(f"sum(CASE WHEN day >= ? THEN {f} ELSE 0 END) AS {f}" for f in QUARANTINE_FLOWS)
            + f" FROM {{quarantine}} WHERE day <= ? {only} GROUP BY facility, lot_key",
            (first_day, *[first_day] * len(QUARANTINE_FLOWS), last_day, *extra))}
        known = {(row["facility"], row["lot_key"]) for row in rows}
        rows += [{"facility": f, "lot_key": k, "opening": 0, **dict.fromkeys(FLOWS, 0)}
                 for f, k in sorted(set(held) - known)]
        rows.sort(key=lambda row: (row["facility"], row["lot_key"]))
        for row in rows:
            row["closing"] = (row["opening"] + row["received"] - row["issued"] - row["administered"]
                              - row["wasted"] + row["adjustments"])
            q = held.get((row["facility"], row["lot_key"]))
            row["quarantine_opening"] = q["opening"] if q else 0
            for flow in QUARANTINE_FLOWS:
                row[f"quarantine_{flow}"] = q[flow] if q else 0
            row["quarantine_closing"] = (row["quarantine_opening"] + row["quarantine_held"]
                                         - row["quarantine_returned"] - row["quarantine_destroyed"])
            mine = [c for c in counts if (c["facility"], c["lot_key"]) == (row["facility"], row["lot_key"])]
            last = mine[-1] if mine else None
            row["last_count_at"] = last["at"] if last else None
            row["last_count_expected"] = last["expected"] if last else None
            row["last_count_counted"] = last["counted"] if last else None
            expected = sum(c["expected"] for c in mine)
            row["discrepancy_rate"] = (round(sum(abs(c["difference"]) for c in mine) / expected, 4)
                                       if expected else None)
        return rows


class SQLiteStockReconciliationView(SQLiteView, StockReconciliationView):
    pass


class PostgresStockReconciliationView(PostgresView, StockReconciliationView):
    pass


class StockReconciliation(ReadModel):
    name = "stock_reconciliation"
    views = {"sqlite": SQLiteStockReconciliationView, "postgres": PostgresStockReconciliationView}
    handles = STOCK_EVENTS

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def moved(self, event: StockEvent) -> None:
        """Each flow on the day it happened, in the facility's zone; a count also keeps its figures."""
        movement = movement_of(event)
        key = (event.facility, movement.lot_key, day_of(event.by))
        if movement.usable_flows():
            self.changes.add("movements", key, **movement.usable_flows())
        if movement.quarantine_flows():
            self.changes.add("quarantine", key, **movement.quarantine_flows())
        if isinstance(event, StockLedger.Counted):
            self.counted(event)

    def counted(self, event: StockLedger.Counted) -> None:
        key = (event.facility, f"{event.gtin}/{event.lot_number}", utc(event.by.occurred_at))
        self.changes.put("counts", key, day=day_of(event.by), expected=event.expected,
                         counted=event.counted, difference=event.difference)

"""How much of each lot does each facility hold, and for how many days?

Days of stock = on hand ÷ average daily use, where use is what left the
stock card by issue or administration, averaged from the facility's first
receipt of the lot to the moment asked about. Bands: < 7, 7–10, 10–14,
> 14 days. Below 7 days is below minimum; nothing on hand is a stock-out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.stock_ledger import StockLedger
from projections.read_model import ReadModel, utc
from projections.stock_movements import STOCK_EVENTS, StockEvent, movement_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

MINIMUM_DAYS = 7


def band(days: float | None) -> str:
    """< 7, 7–10, 10–14 (upper bounds included), > 14 days of stock."""
    if days is None:
        return "no use yet"
    if days < MINIMUM_DAYS:
        return "< 7"
    return "7–10" if days <= 10 else "10–14" if days <= 14 else "> 14"


def days_of_stock(on_hand: int, used: int, first_at: str, as_of: datetime) -> float | None:
    elapsed = (as_of - datetime.fromisoformat(first_at)).total_seconds() / 86400
    if used <= 0 or elapsed <= 0:
        return None
    return round(on_hand / (used / max(elapsed, 1.0)), 1)


class StockOnHandView(ReadModelView):
    tables = (Table("stock", {
        "facility": "TEXT", "lot_key": "TEXT", "gtin": "TEXT", "lot_number": "TEXT", "expiry": "TEXT",
        "doses_per_vial": "INTEGER", "first_at": "TEXT", "last_at": "TEXT",
        "on_hand": COUNTER, "used": COUNTER,
    }, key=("facility", "lot_key")), Table("quarantine", {
        "facility": "TEXT", "lot_key": "TEXT", "quarantined": COUNTER,
    }, key=("facility", "lot_key")))

    def levels(self, facility: str | None = None, as_of: datetime | None = None) -> list[dict[str, Any]]:
        where = "WHERE facility = ?" if facility else ""
        rows = self.select(f"SELECT * FROM {{stock}} {where} ORDER BY facility, expiry, lot_key",
                           (facility,) if facility else ())
        moment = as_of or self.latest()
        held = {(q["facility"], q["lot_key"]): q["quarantined"] for q in self.select(
            f"SELECT * FROM {{quarantine}} {where}", (facility,) if facility else ())}
        for row in rows:
            row["quarantined"] = held.get((row["facility"], row["lot_key"]), 0)
            row["days_of_stock"] = days_of_stock(row["on_hand"], row["used"], row["first_at"], moment) if moment else None
            row["band"] = band(row["days_of_stock"])
            row["vials"] = row["on_hand"] // row["doses_per_vial"]
            row["status"] = ("stock-out" if row["on_hand"] <= 0 else
                             "below minimum" if row["days_of_stock"] is not None and row["days_of_stock"] < MINIMUM_DAYS
                             else "ok")
        return rows

    def latest(self) -> datetime | None:
        rows = self.select("SELECT max(last_at) AS at FROM {stock}")
        return datetime.fromisoformat(rows[0]["at"]) if rows and rows[0]["at"] else None


class SQLiteStockOnHandView(SQLiteView, StockOnHandView):
    pass


class PostgresStockOnHandView(PostgresView, StockOnHandView):
    pass


class StockOnHand(ReadModel):
    name = "stock_on_hand"
    views = {"sqlite": SQLiteStockOnHandView, "postgres": PostgresStockOnHandView}
    handles = STOCK_EVENTS

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def moved(self, event: StockEvent) -> None:
        """Usable doses in ``stock`` (with their use, for days of stock); quarantined apart."""
        movement, key = movement_of(event), self.key(event)
        if isinstance(event, StockLedger.Received):
            self.changes.insert("stock", key, gtin=event.gtin, lot_number=event.lot_number,
                                expiry=event.expiry.isoformat(), doses_per_vial=event.doses_per_vial,
                                first_at=utc(event.by.occurred_at))
        if movement.usable_flows():
            self.change(key, event, on_hand=movement.usable, used=movement.used)
        if movement.quarantine_flows():
            self.changes.add("quarantine", key, quarantined=movement.quarantined)

    @staticmethod
    def key(event: Any) -> tuple[str, str]:
        return event.facility, f"{event.gtin}/{event.lot_number}"

    def change(self, key: tuple[str, str], event: Any, **amounts: int) -> None:
        self.changes.put("stock", key, last_at=utc(event.by.occurred_at))
        self.changes.add("stock", key, **amounts)

"""AEFI (KIPI) reports: how many, how severe, from which lot."""

from __future__ import annotations

from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.recipient import Recipient
from projections.read_model import ReadModel
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table


class AefiView(ReadModelView):
    tables = (Table("aefi", {"gtin": "TEXT", "lot_number": "TEXT", "severity": "TEXT", "district": "TEXT",
                             "reports": COUNTER}, key=("gtin", "lot_number", "severity", "district")),)

    def by_lot(self) -> list[dict[str, Any]]:
        return self.select("SELECT gtin, lot_number, severity, sum(reports) AS reports FROM {aefi} "
                           "GROUP BY gtin, lot_number, severity ORDER BY gtin, lot_number, severity")

    def by_lot_and_district(self) -> list[dict[str, Any]]:
        """The rows as kept, so a caller can add up the districts of one area."""
        return self.select("SELECT gtin, lot_number, severity, district, reports FROM {aefi} "
                           "ORDER BY gtin, lot_number, severity, district")


class SQLiteAefiView(SQLiteView, AefiView):
    pass


class PostgresAefiView(PostgresView, AefiView):
    pass


class Aefi(ReadModel):
    name = "aefi"
    views = {"sqlite": SQLiteAefiView, "postgres": PostgresAefiView}
    handles = (Recipient.AefiReported,)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def aefi_reported(self, event: Recipient.AefiReported) -> None:
        key = (event.gtin, event.lot_number, event.severity.value, event.district)
        self.changes.add("aefi", key, reports=1)

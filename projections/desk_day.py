"""Today's session at a puskesmas, as its desks count it: screened, vaccinated,
vials opened and AEFI (KIPI) reports per facility and day (the day in the facility's own zone). Bookings
are counted by the session aggregate itself. No personal data: counters only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.dispatch import singledispatchmethod

from domain.recipient import Recipient
from projections.read_model import ReadModel, day_of
from projections.rows import COUNTER, PostgresView, ReadModelView, SQLiteView, Table

COUNTS = ("screened", "eligible", "postponed", "not_eligible", "vaccinated", "vials_opened", "aefi")


class DeskDayView(ReadModelView):
    tables = (Table("desk_day", {"facility": "TEXT", "day": "TEXT", **dict.fromkeys(COUNTS, COUNTER)},
                    key=("facility", "day")),)

    def day(self, facility: str, day: date) -> dict[str, int]:
        """The counts of one session (zeros before anything happened)."""
        rows = self.select("SELECT * FROM {desk_day} WHERE facility = ? AND day = ?", (facility, day.isoformat()))
        return {count: int(rows[0][count]) if rows else 0 for count in COUNTS}


class SQLiteDeskDayView(SQLiteView, DeskDayView):
    pass


class PostgresDeskDayView(PostgresView, DeskDayView):
    pass


class DeskDay(ReadModel):
    name = "desk_day"
    views = {"sqlite": SQLiteDeskDayView, "postgres": PostgresDeskDayView}
    handles = (Recipient.Screened, Recipient.Vaccinated, Recipient.DoseVoided, Recipient.AefiReported)

    @singledispatchmethod
    def apply_event(self, domain_event: Any) -> None:
        """Events not handled here change nothing."""

    @apply_event.register
    def screened(self, event: Recipient.Screened) -> None:
        """Screened at the desk's own puskesmas, on its day."""
        self.changes.add("desk_day", (event.by.facility, day_of(event.by)), screened=1, **{event.result.value: 1})

    @apply_event.register
    def vaccinated(self, event: Recipient.Vaccinated) -> None:
        self.changes.add("desk_day", (event.facility, event.day.isoformat()), vaccinated=1,
                         vials_opened=1 if event.opens_vial else 0)

    @apply_event.register
    def dose_voided(self, event: Recipient.DoseVoided) -> None:
        """A dose recorded on the wrong ticket no longer counts (its vial stays opened)."""
        self.changes.add("desk_day", (event.facility, event.day.isoformat()), vaccinated=-1)

    @apply_event.register
    def aefi_reported(self, event: Recipient.AefiReported) -> None:
        """Reported at desk 4 (or later, at the puskesmas that gave the dose), on the day of the report."""
        self.changes.add("desk_day", (event.facility, day_of(event.by)), aefi=1)

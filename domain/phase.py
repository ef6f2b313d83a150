"""The campaign calendar of one phase: when registration closes and on which
days doses are given (phase 1, health workers: 13 January 2021 at midnight;
14 and 15 January)."""

from __future__ import annotations

from datetime import date, datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleBroken
from domain.provenance import Provenance

MAX_DAYS = 60


class CalendarError(RuleBroken):
    pass


class RegistrationClosed(CalendarError):
    pass


class NotAVaccinationDay(CalendarError):
    pass


class PhaseCalendar(Aggregate):
    @staticmethod
    def id_for(phase: int) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:phase:{phase}")

    @classmethod
    def create_id(cls, phase: int, **_: object) -> UUID:
        return cls.id_for(phase)

    @event("Set")
    def __init__(self, phase: int, deadline: datetime, days: list[date], by: Provenance) -> None:
        self.phase = phase
        self.deadline = deadline
        self.days = sorted(days)

    @classmethod
    def set(cls, phase: int, deadline: datetime, days: list[date], by: Provenance) -> PhaseCalendar:
        cls.check_calendar(deadline, days)
        return cls(phase, deadline, days, by)

    @staticmethod
    def check_calendar(deadline: datetime, days: list[date]) -> None:
        if deadline.tzinfo is None:
            raise CalendarError("The registration deadline needs its time zone (e.g. +07:00).")
        if not days or len(days) > MAX_DAYS or len(set(days)) != len(days):
            raise CalendarError(f"A phase needs 1 to {MAX_DAYS} different vaccination days.")

    def change(self, deadline: datetime, days: list[date], by: Provenance) -> None:
        self.check_calendar(deadline, days)
        if deadline != self.deadline or sorted(days) != self.days:
            self._changed(deadline, days, by)

    @event("Changed")
    def _changed(self, deadline: datetime, days: list[date], by: Provenance) -> None:
        self.deadline = deadline
        self.days = sorted(days)

    def check_open(self, at: datetime) -> None:
        """Web and USSD registration close at the deadline; field officers go on after it."""
        if at >= self.deadline:
            msg = ("Registration for this phase closed on "
                   f"{self.deadline.isoformat(sep=' ', timespec='minutes')}: a field officer will visit.")
            raise RegistrationClosed(msg)

    def check_day(self, day: date, today: date) -> None:
        if day not in self.days:
            listed = ", ".join(d.isoformat() for d in self.days)
            raise NotAVaccinationDay(f"Doses of this phase are given on {listed}: choose one of those days.")
        if day < today:
            raise NotAVaccinationDay("That day has passed: choose a vaccination day from today on.")

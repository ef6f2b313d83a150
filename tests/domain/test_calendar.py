"""Days are counted in the facility's own zone: WIB, WITA or WIT (no store, no I/O)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.calendar import WIB, WIT, WITA, local_day, zone_of_province
from domain.phase import NotAVaccinationDay, PhaseCalendar, RegistrationClosed
from domain.provenance import Provenance


@pytest.mark.parametrize(("province", "zone"), [
    ("32", WIB), ("31", WIB), ("61", WIB), ("62", WIB), ("11", WIB),
    ("51", WITA), ("64", WITA), ("65", WITA), ("73", WITA),
    ("81", WIT), ("91", WIT), ("92", WIT),
])
def test_each_province_has_its_zone(province: str, zone: str) -> None:
    assert zone_of_province(province) == zone


def test_a_moment_falls_on_the_local_day_of_each_zone() -> None:
    moment = datetime(2021, 1, 13, 16, 30, tzinfo=UTC)  # 23:30 WIB, 00:30 WITA, 01:30 WIT
    assert local_day(moment, WIB) == date(2021, 1, 13)
    assert local_day(moment, WITA) == date(2021, 1, 14)
    assert local_day(moment, WIT) == date(2021, 1, 14)


def test_a_naive_time_cannot_be_placed_on_a_calendar() -> None:
    with pytest.raises(ValueError, match="time zone"):
        local_day(datetime(2021, 1, 13, 8), WIB)


def test_provenance_day_is_the_facilitys_day() -> None:
    at_0650_wib = datetime(2021, 1, 13, 23, 50, tzinfo=UTC)
    assert Provenance("ani", "P327301", "hp", at_0650_wib, WIB).day == date(2021, 1, 14)
    assert Provenance("ani", "P737101", "hp", datetime(2021, 1, 13, 16, 30, tzinfo=UTC), WITA).day == date(2021, 1, 14)


def by(moment: datetime) -> Provenance:
    return Provenance("admin", "national", "cli", moment)


def test_registration_closes_at_the_deadline_and_bookings_fall_on_vaccination_days() -> None:
    wib = timezone(timedelta(hours=7))
    deadline = datetime(2021, 1, 13, 23, 59, 59, tzinfo=wib)
    calendar = PhaseCalendar.set(1, deadline, [date(2021, 1, 14), date(2021, 1, 15)], by(deadline))
    calendar.check_open(deadline - timedelta(seconds=1))
    with pytest.raises(RegistrationClosed, match="field officer will visit"):
        calendar.check_open(deadline)
    calendar.check_day(date(2021, 1, 15), today=date(2021, 1, 14))
    with pytest.raises(NotAVaccinationDay, match="2021-01-14, 2021-01-15"):
        calendar.check_day(date(2019, 1, 14), today=date(2021, 1, 13))
    with pytest.raises(NotAVaccinationDay, match="passed"):
        calendar.check_day(date(2021, 1, 14), today=date(2021, 1, 15))


def test_a_calendar_needs_a_zone_and_days() -> None:
    with pytest.raises(Exception, match="time zone"):
        PhaseCalendar.set(1, datetime(2021, 1, 13, 23, 59), [date(2021, 1, 14)], by(datetime.now(UTC)))
    with pytest.raises(Exception, match="vaccination days"):
        PhaseCalendar.set(1, datetime(2021, 1, 13, tzinfo=UTC), [], by(datetime.now(UTC)))

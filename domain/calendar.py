"""Indonesia's three time zones, and days counted in a facility's own zone.

"Today", a session day, a dose interval and a deadline are counted where the
facility is: WIB (UTC+7), WITA (UTC+8) or WIT (UTC+9), by its province.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"

# Kemendagri province codes (2020) by zone; every other province is WIB.
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "94"}


def zone_of_province(province: str) -> str:
    """The zone of a province (``32`` -> Asia/Jakarta); Bio Farma (Bandung) is WIB."""
    if province in _WITA:
        return WITA
    if province in _WIT:
        return WIT
    return WIB


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(moment: datetime, zone_name: str) -> date:
    """The calendar day of ``moment`` in that zone (a naive moment is refused)."""
    if moment.tzinfo is None:
        msg = "A time without its time zone cannot be placed on a calendar."
        raise ValueError(msg)
    return moment.astimezone(zone(zone_name)).date()

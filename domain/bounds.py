"""The bounds of every value a command may carry.

A value outside its bound is malformed input (the API answers 422), whether the
API's models or these checks catch it, so an event that could never be valid
is never written: no 10^30 vials, no -300 °C, no year 1 or 9999, no lot
number a scanner could not carry, no control characters in stored text.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from domain.errors import InvalidQuantity, OutOfBounds

EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)  # nothing in this campaign happened before 2020
MAX_LINES = 50  # lots on one shipment
MAX_VIALS_PER_LINE = 100_000  # a truck of cold boxes
MAX_RELEASE_VIALS = 10_000_000  # one lot released by Bio Farma
MAX_DOSES = 1_000_000  # doses in one wastage or adjustment
MAX_COUNT_VIALS = 10_000_000  # vials counted of one lot in one store
MAX_DOSES_PER_VIAL = 20
MIN_CELSIUS, MAX_CELSIUS, CELSIUS_PLACES = Decimal(-50), Decimal(60), 2
MAX_EXPIRY_YEARS = 10
MAX_CAPACITY = 10_000  # doses a session gives in a day
MAX_POSTPONE_DAYS = 366
SHORT_TEXT, NAME_TEXT, LONG_TEXT = 200, 120, 1000
# GS1 AI (10) lot numbers: up to 20 characters of GS1 character set 82
LOT_NUMBER = re.compile(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}")


def check_quantity(value: object, what: str, maximum: int, minimum: int = 1) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        low = "greater than zero" if minimum == 1 else f"from {minimum}"
        raise InvalidQuantity(f"{what} must be a whole number {low} and at most {maximum:,}.")
    return value


def check_celsius(value: object) -> Decimal:
    """−50…+60 °C with at most two decimals (a data logger's reading)."""
    try:
        celsius = Decimal(str(value)) if not isinstance(value, Decimal) else value
        finite = celsius.is_finite()
    except (InvalidOperation, ValueError):
        finite = False
    if not finite or not MIN_CELSIUS <= celsius <= MAX_CELSIUS:
        raise OutOfBounds("A temperature must be between -50 and 60 °C.")
    if -celsius.as_tuple().exponent > CELSIUS_PLACES:  # type: ignore[operator]
        raise OutOfBounds("A temperature has at most two decimals.")
    return celsius


def clean_text(value: object, what: str, maximum: int = SHORT_TEXT) -> str:
    """Free text as stored: control characters removed, spaces trimmed, bounded."""
    if not isinstance(value, str):
        raise OutOfBounds(f"{what} must be text.")
    text = "".join(" " if ch in "\t\r\n" else ch for ch in value
                   if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    text = " ".join(text.split())
    if len(text) > maximum:
        raise OutOfBounds(f"{what} may have at most {maximum} characters.")
    return text


def check_lot_number(value: object) -> str:
    if not isinstance(value, str) or not LOT_NUMBER.fullmatch(value):
        raise OutOfBounds("A lot number has 1 to 20 characters: letters, digits and !\"%&'()*+,-./:;<=>?_ only.")
    return value


def check_moment(moment: datetime, what: str = "A time") -> datetime:
    if moment.tzinfo is None:
        raise OutOfBounds(f"{what} needs its time zone.")
    if moment < EARLIEST:
        raise OutOfBounds(f"{what} cannot lie before 2020.")
    return moment


def check_expiry(expiry: date, today: date) -> date:
    if not isinstance(expiry, date) or expiry.year < EARLIEST.year or expiry > _years_after(today, MAX_EXPIRY_YEARS):
        raise OutOfBounds(f"An expiry date lies between 2020 and {MAX_EXPIRY_YEARS} years from today.")
    return expiry


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)

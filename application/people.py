"""Personal identifiers: NIK and phone numbers, validated and kept out of keys.

A recipient is keyed by HMAC-SHA256(secret, NIK): the same NIK always maps to
the same recipient, but the key reveals nothing without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Container
from datetime import date
from uuid import UUID

import phonenumbers
from stdnum import exceptions as stdnum_errors
from stdnum.id import nik as stdnum_nik

from application.errors import ApplicationError


class InvalidPersonalData(ApplicationError):
    """A NIK or phone number that cannot be right; the message never repeats it."""


def recipient_id_for(secret: bytes, nik: str) -> UUID:
    digest = hmac.new(secret, nik.encode("ascii"), hashlib.sha256).digest()
    return UUID(bytes=digest[:16])


def parse_nik(value: str, regions: Container[str] | None = None) -> str:
    """16 digits, a real birth date, and a known region.

    The region is checked against ``regions`` (the kecamatan of the
    Kemendagri 2020 codes) when given: python-stdnum's own list of regions
    misses provinces created since 2012 (Kalimantan Utara, 65)."""
    number = stdnum_nik.compact(value or "")
    if not number.isdigit():
        raise InvalidPersonalData("NIK must contain digits only.")
    if len(number) != 16:
        raise InvalidPersonalData(f"NIK must be 16 digits (got {len(number)}).")
    try:
        stdnum_nik.get_birth_date(number)
    except stdnum_errors.InvalidComponent:
        raise InvalidPersonalData("NIK has an impossible birth date (digits 7 to 12).") from None
    if regions is not None:
        if number[:6] not in regions:
            raise InvalidPersonalData(
                f"NIK region {number[:2]}.{number[2:4]}.{number[4:6]} is not a known kecamatan."
            )
        return number
    try:
        return stdnum_nik.validate(number)
    except stdnum_errors.ValidationError:
        raise InvalidPersonalData(f"NIK region {number[:2]}.{number[2:4]} is not a known district.") from None


def birth_date_of(nik: str) -> date:
    return stdnum_nik.get_birth_date(nik)


_PLAIN_ID_NUMBER = re.compile(r"(?:\+62|62|0)([1-9]\d{6,12})")


def parse_phone(value: str) -> str:
    """An Indonesian mobile number in E.164 (accepts 08…, +62…, 62…)."""
    text = (value or "").strip().replace(" ", "").replace("-", "")
    plain = _PLAIN_ID_NUMBER.fullmatch(text)
    if plain:  # the common shapes skip the general parser; validation is the library's
        number = phonenumbers.PhoneNumber(country_code=62, national_number=int(plain.group(1)))
    else:
        try:
            number = phonenumbers.parse("+" + text if text.startswith("62") else text, "ID")
        except phonenumbers.NumberParseException:
            raise InvalidPersonalData("Phone number is not a number.") from None
    if number.country_code != 62:
        raise InvalidPersonalData("Phone number is not a valid Indonesian number.")
    kind = phonenumbers.number_type(number)  # UNKNOWN when the number is not valid
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        raise InvalidPersonalData("Phone number is not a valid Indonesian number.")
    if kind not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        raise InvalidPersonalData("Phone number is not a mobile number (an SMS cannot reach it).")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_nik(nik: str) -> str:
    return nik[:4] + "*" * 8 + nik[-4:] if len(nik) == 16 else "*" * len(nik)


def mask_phone(phone: str) -> str:
    return phone[:5] + "*" * max(len(phone) - 8, 0) + phone[-3:]


def mask_name(name: str) -> str:
    return " ".join(part[:1] + "*" * (len(part) - 1) for part in name.split())

"""GS1 numbers on labels: GTIN-14 for products, SSCC-18 for shipments."""

from __future__ import annotations

import secrets

from stdnum import ean

from application.errors import InvalidIdentifier

SSCC_LENGTH = 18


def _check_digits(number: str, length: int, what: str) -> str:
    number = (number or "").strip().replace(" ", "")
    if len(number) > 2 * length or not number.isdigit() or len(number) != length:
        msg = f"{what} must be exactly {length} digits: check the label and scan it again."
        raise InvalidIdentifier(msg)
    if ean.calc_check_digit(number[:-1]) != number[-1]:
        msg = f"{what} {number} has a wrong check digit: the label was misread or mistyped; scan it again."
        raise InvalidIdentifier(msg)
    return number


def parse_gtin(number: str) -> str:
    """A GTIN-14; shorter GTINs (8, 12, 13 digits) are padded with zeros."""
    number = (number or "").strip()
    if number.isdigit() and len(number) in (8, 12, 13):
        number = number.zfill(14)
    return _check_digits(number, 14, "GTIN")


def parse_sscc(number: str) -> str:
    return _check_digits(number, SSCC_LENGTH, "SSCC")


def new_sscc(company_prefix: str, extension: str = "0") -> str:
    """Extension digit + company prefix + random serial reference + check digit."""
    if not company_prefix.isdigit() or not 7 <= len(company_prefix) <= 10:
        msg = f"GS1 company prefix must be 7 to 10 digits (got {company_prefix!r})."
        raise InvalidIdentifier(msg)
    serial_digits = SSCC_LENGTH - 2 - len(company_prefix)
    serial = str(secrets.randbelow(10**serial_digits)).zfill(serial_digits)
    body = extension + company_prefix + serial
    return body + ean.calc_check_digit(body)

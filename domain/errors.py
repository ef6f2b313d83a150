"""The root of every business rule broken in the domain.

Each aggregate module defines its own family under ``RuleBroken``; every
message names the things (lot, shipment, facility) a user needs to act.
"""


class RuleBroken(Exception):
    """A command was refused because it would break a business rule."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidQuantity(RuleBroken):
    pass


def check_positive(quantity: int, what: str) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        msg = f"{what} must be a whole number greater than zero (got {quantity!r})."
        raise InvalidQuantity(msg)

"""The root of every business rule broken in the domain.

Each aggregate module defines its own family under ``RuleBroken``; every
message names the things (lot, shipment, facility) a user needs to act.
"""


class RuleBroken(Exception):
    """A command was refused because it would break a business rule."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutOfBounds(RuleBroken):
    """A value no command may carry: malformed input (422), not a broken rule (409)."""


class InvalidQuantity(OutOfBounds):
    """A quantity or a list of lines that cannot be right."""

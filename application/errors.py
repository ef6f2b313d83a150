"""Errors the application raises besides the domain's broken rules."""


class ApplicationError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ApplicationError):
    """Something a command names does not exist."""


class FacilityNotFound(NotFound):
    pass


class LotNotFound(NotFound):
    pass


class ShipmentNotFound(NotFound):
    pass


class AlreadyExists(ApplicationError):
    """A command would create something that is already there."""


class InvalidIdentifier(ApplicationError):
    """A GS1 number or code that cannot be right (length, digits, check digit)."""


class ConcurrentUpdate(ApplicationError):
    """Another writer changed the same records at the same moment, repeatedly."""

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


class NotAuthenticated(ApplicationError):
    """No valid credential: log in, or send a valid token."""


class Forbidden(ApplicationError):
    """A known user without the right to do this here."""


class OutsideTimeWindow(ApplicationError):
    """A device's time that the server cannot accept (future, or older than the offline window)."""


class TooManyAttempts(ApplicationError):
    """Rate-limited; ``retry_after`` seconds until the next attempt is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

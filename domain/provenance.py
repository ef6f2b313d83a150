"""Who did something, where, from which device, and when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.calendar import WIB, local_day


@dataclass(frozen=True)
class Provenance:
    """Carried by every event, and built by the server, never taken from a caller.

    ``actor`` is the authenticated user (``cli:<os user>`` for the server's
    own command line), ``role`` the role they acted in, ``facility`` where the
    command acts, ``device`` the label the client gave its device, and
    ``occurred_at`` when it happened (the scan time, which an offline scanner
    may deliver hours later); the event's own ``timestamp`` is when it was
    recorded. ``zone`` is the facility's time zone: calendar rules count days
    there. Events stored before roles and zones were recorded decode with the
    defaults (no role; WIB, the zone every day was counted in then).
    """

    actor: str
    facility: str
    device: str
    occurred_at: datetime
    zone: str = WIB
    role: str = ""

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            msg = "occurred_at must carry a time zone"
            raise ValueError(msg)

    @property
    def day(self) -> date:
        """The calendar day it happened, in the facility's zone."""
        return local_day(self.occurred_at, self.zone)

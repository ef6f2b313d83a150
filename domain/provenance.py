"""Who did something, where, from which device, and when it happened."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from domain.bounds import check_moment
from domain.calendar import WIB, local_day
from domain.errors import OutOfBounds

MAX_LABEL = 64  # actor, facility, device


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
        check_moment(self.occurred_at, "The time it happened")
        if any(len(label) > MAX_LABEL for label in (self.actor, self.facility, self.device)):
            raise OutOfBounds(f"Actor, facility and device are at most {MAX_LABEL} characters.")

    @classmethod
    def restore(cls, **stored: Any) -> Provenance:
        """As it was stored: an event once written always decodes, whatever today's bounds."""
        provenance = object.__new__(cls)
        defaults = {f.name: f.default for f in fields(cls)}
        for name, default in defaults.items():
            object.__setattr__(provenance, name, stored.get(name, default))
        return provenance

    @property
    def day(self) -> date:
        """The calendar day it happened, in the facility's zone."""
        return local_day(self.occurred_at, self.zone)

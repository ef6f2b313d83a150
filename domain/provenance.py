"""Who did something, where, from which device, and when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Provenance:
    """Carried by every event.

    ``occurred_at`` is when it happened (the scan time, which an offline
    scanner may deliver hours later); the event's own ``timestamp`` is when
    it was recorded.
    """

    actor: str
    facility: str
    device: str
    occurred_at: datetime

    def __post_init__(self) -> None:
        if self.occurred_at.tzinfo is None:
            msg = "occurred_at must carry a time zone"
            raise ValueError(msg)

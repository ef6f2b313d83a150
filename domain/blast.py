"""One SMS blast: which targets, what message, how many sent."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance


class Blast(Aggregate):
    """Sending is recorded per batch: the recipients it reached and the log
    position in the target list it has got to (``cursor``), so a restarted
    blast resumes after the last recorded batch. Message ids are derived from
    the blast and the recipient, so a batch sent again after a crash carries
    the same ids and the gateway can drop the repeat."""

    @staticmethod
    def id_for(phase: int, districts: list[str], run: int = 0) -> UUID:
        key = ",".join(sorted(districts))
        return uuid5(NAMESPACE_URL, f"rantai:blast:{phase}:{key}:{run}")

    @classmethod
    def create_id(cls, phase: int, districts: list[str], run: int = 0, **_: object) -> UUID:
        return cls.id_for(phase, districts, run)

    @event("Started")
    def __init__(
        self, phase: int, districts: list[str], run: int, message: str, deadline: datetime,
        by: Provenance,
    ) -> None:
        self.phase = phase
        self.districts = sorted(districts)
        self.run = run
        self.message = message
        self.deadline = deadline
        self.cursor = 0
        self.sent = 0

    def message_id(self, recipient_id: UUID) -> str:
        return f"{self.id.hex[:12]}-{recipient_id.hex}"

    def record_batch(
        self, recipients: list[str], per_district: dict[str, int], cursor: int, by: Provenance
    ) -> None:
        """``recipients``: the hex ids of the recipients messaged in this batch;
        ``per_district``: how many of them in each district."""
        self._batch_sent(recipients, per_district, self.phase, cursor, by)

    @event("BatchSent")
    def _batch_sent(
        self, recipients: list[str], per_district: dict[str, int], phase: int, cursor: int,
        by: Provenance,
    ) -> None:
        self.sent += len(recipients)
        self.cursor = cursor

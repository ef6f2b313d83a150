"""A recipient's ticket: an opaque random token that leads to the recipient."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.provenance import Provenance


class Ticket(Aggregate):
    """The token printed as the QR on the recipient's ticket (never the NIK)."""

    @staticmethod
    def id_for(token: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:ticket:{token}")

    @classmethod
    def create_id(cls, token: str, **_: object) -> UUID:
        return cls.id_for(token)

    @event("Issued")
    def __init__(self, token: str, recipient_id: UUID, dose: int, by: Provenance) -> None:
        self.recipient_id = recipient_id
        self.dose = dose

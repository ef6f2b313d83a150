"""A command handled once: its key, what it was and what it answered."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleBroken
from domain.provenance import Provenance


class KeyReused(RuleBroken):
    pass


class HandledCommand(Aggregate):
    """Saved in the same write as the command's aggregates, so a repeated
    command (a scanner retrying after the network dropped) finds it and gets
    the first answer back instead of acting twice."""

    @staticmethod
    def id_for(key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:command:{key}")

    @classmethod
    def create_id(cls, key: str, **_: object) -> UUID:
        return cls.id_for(key)

    @event("Handled")
    def __init__(self, key: str, command: str, result: dict[str, str], by: Provenance) -> None:
        self.key = key
        self.command = command
        self.result = dict(result)

    def check_same_command(self, command: str) -> None:
        if command != self.command:
            msg = (
                f"Request key {self.key} was already used for '{self.command}', "
                f"so it cannot be used for '{command}': send a new key."
            )
            raise KeyReused(msg)

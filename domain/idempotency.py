"""A command handled once: its key, what it was and what it answered."""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import RuleBroken
from domain.provenance import Provenance


class KeyReused(RuleBroken):
    pass


class HandledCommand(Aggregate):
    """Saved in the same write as the command's aggregates, so a repeated
    command (a scanner retrying after the network dropped) finds it and gets
    the first answer back instead of acting twice.

    A key belongs to the user who sent it (``key`` is namespaced by the
    application) and is bound to the request: ``fingerprint`` is a hash of
    what was asked (the HTTP method, path and body), so the same key sent
    with another request is refused instead of answering for the first."""

    class Handled(Aggregate.Created):
        """Version 2 records the request's fingerprint; version 1 (keys were
        global and bound only to the command's name) upcasts with none."""

        class_version = 2
        key: str
        command: str
        result: dict[str, str]
        by: Provenance
        fingerprint: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["fingerprint"] = ""

    @staticmethod
    def id_for(key: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:command:{key}")

    @classmethod
    def create_id(cls, key: str, **_: object) -> UUID:
        return cls.id_for(key)

    @event(Handled)
    def __init__(
        self, key: str, command: str, result: dict[str, str], by: Provenance, fingerprint: str
    ) -> None:
        self.key = key
        self.command = command
        self.result = dict(result)
        self.fingerprint = fingerprint

    def check_same_request(self, command: str, fingerprint: str) -> None:
        """A key recorded before requests had fingerprints (version 1) is bound to its command alone."""
        if command != self.command or (self.fingerprint and fingerprint != self.fingerprint):
            msg = ("This Idempotency-Key was already used for another request, so it cannot be used "
                   "for this one: send a new key.")
            raise KeyReused(msg)

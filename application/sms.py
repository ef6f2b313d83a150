"""The port to the outside world's SMS gateway (adapters live in interfaces/sms)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SmsMessage:
    message_id: str  # the same message to the same person always has the same id
    phone: str  # E.164
    text: str


class SmsGateway(Protocol):
    def send(self, messages: Sequence[SmsMessage]) -> None:
        """Send every message or raise; sending a message id again must not
        reach the person twice where the gateway can tell."""

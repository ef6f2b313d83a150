"""An SMS provider over HTTP, in Africa's Talking's form.

POST ``username``, ``to`` (comma-separated), ``message``, ``from`` with an
``apiKey`` header; the answer lists a provider ``messageId`` per number, kept
in a local table so delivery reports (which carry the provider's id) find
Rantai's message. Timeouts, retries with back-off on network errors and 5xx,
and a rate limit. At-least-once: a batch whose answer was lost is sent again.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from itertools import groupby
from pathlib import Path

import httpx

from application.sms import SmsMessage
from interfaces.sms.outbox import RateLimit


class SmsProviderError(RuntimeError):
    pass


class HttpGateway:
    def __init__(
        self, url: str, username: str, api_key: str, sender: str, ids_path: str | Path,
        per_second: float = 50, attempts: int = 4, timeout: float = 10.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url, self.username, self.api_key, self.sender = url, username, api_key, sender
        self.attempts = attempts
        self.client = client or httpx.Client(timeout=timeout)
        self.rate = RateLimit(per_second)
        Path(ids_path).parent.mkdir(parents=True, exist_ok=True)
        self.ids = sqlite3.connect(ids_path, timeout=30, check_same_thread=False)
        self.ids.execute("CREATE TABLE IF NOT EXISTS provider_ids (provider_id TEXT PRIMARY KEY, message_id TEXT)")

    def send(self, messages: Sequence[SmsMessage]) -> None:
        by_text = groupby(sorted(messages, key=lambda m: m.text), key=lambda m: m.text)
        for text, group in by_text:
            same_text = list(group)
            for start in range(0, len(same_text), 100):  # the provider's bulk limit
                self._send_bulk(text, same_text[start:start + 100])

    def _send_bulk(self, text: str, messages: list[SmsMessage]) -> None:
        self.rate.wait_for(len(messages))
        form = {"username": self.username, "to": ",".join(m.phone for m in messages),
                "message": text, "from": self.sender}
        headers = {"apiKey": self.api_key, "Accept": "application/json"}
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.client.post(self.url, data=form, headers=headers)
            except httpx.TransportError as error:
                failure = f"network error: {error.__class__.__name__}"
            else:
                if response.status_code < 500:
                    break
                failure = f"provider answered {response.status_code}"
            if attempt == self.attempts:
                raise SmsProviderError(f"SMS provider unreachable after {attempt} attempts ({failure}).")
            time.sleep(min(2 ** attempt * 0.1, 5))
        if response.status_code >= 400:
            raise SmsProviderError(f"SMS provider refused the batch: {response.status_code} {response.text[:200]}")
        by_phone = {m.phone: m.message_id for m in messages}
        rows = [(r["messageId"], by_phone[r["number"]])
                for r in response.json()["SMSMessageData"]["Recipients"]
                if r.get("messageId") and r.get("number") in by_phone]
        with self.ids:
            self.ids.executemany("INSERT OR REPLACE INTO provider_ids VALUES (?, ?)", rows)

    def resolve(self, provider_id: str) -> str | None:
        """Rantai's message id for the provider's, or None for a message Rantai never sent."""
        row = self.ids.execute("SELECT message_id FROM provider_ids WHERE provider_id = ?", (provider_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.client.close()
        self.ids.close()

"""SMS gateway adapters against a fake provider (the outside world)."""

from __future__ import annotations

import time
from urllib.parse import parse_qs

import httpx
import pytest

from application.sms import SmsMessage
from interfaces.sms.http import HttpGateway, SmsProviderError
from interfaces.sms.outbox import OutboxGateway, RateLimit

MESSAGES = [SmsMessage(f"b-{i:032x}", f"+62812000000{i:02d}", "Daftar ulang") for i in range(3)]


def provider(failures: list[object]):
    """A fake Africa's Talking: fails as told, then accepts and numbers each message."""
    calls: list[dict[str, list[str]]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        form = parse_qs(request.content.decode())
        calls.append(form)
        if failures:
            failure = failures.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return httpx.Response(int(failure))
        assert request.headers["apiKey"] == "secret"
        numbers = form["to"][0].split(",")
        recipients = [{"number": n, "status": "Success", "statusCode": 101, "messageId": f"ATXid_{n[-2:]}"}
                      for n in numbers]
        return httpx.Response(201, json={"SMSMessageData": {"Message": "Sent", "Recipients": recipients}})

    return calls, httpx.MockTransport(handle)


def gateway(tmp_path, transport, **kwargs) -> HttpGateway:
    return HttpGateway("https://sms.test/messaging", "kemenkes", "secret", "KEMENKES", tmp_path / "ids.sqlite",
                       per_second=0, client=httpx.Client(transport=transport), **kwargs)


def test_http_gateway_posts_in_africas_talking_form_and_maps_provider_ids(tmp_path) -> None:
    calls, transport = provider([])
    sms = gateway(tmp_path, transport)
    sms.send(MESSAGES)
    assert calls[0]["username"] == ["kemenkes"] and calls[0]["from"] == ["KEMENKES"]
    assert calls[0]["to"] == [",".join(m.phone for m in MESSAGES)]
    assert sms.resolve("ATXid_01") == MESSAGES[1].message_id


def test_http_gateway_retries_timeouts_and_server_errors(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)
    calls, transport = provider([httpx.ReadTimeout("slow"), 503])
    gateway(tmp_path, transport).send(MESSAGES)
    assert len(calls) == 3


def test_http_gateway_gives_up_with_a_clear_error(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(time, "sleep", lambda _: None)
    calls, transport = provider([500, 500, 500])
    with pytest.raises(SmsProviderError, match="unreachable after 3 attempts"):
        gateway(tmp_path, transport, attempts=3).send(MESSAGES)
    calls, transport = provider([401])
    with pytest.raises(SmsProviderError, match="refused the batch: 401"):
        gateway(tmp_path, transport).send(MESSAGES)
    assert len(calls) == 1


def test_rate_limit_spaces_batches() -> None:
    limit = RateLimit(per_second=100)
    started = time.monotonic()
    for _ in range(3):
        limit.wait_for(10)  # 10 messages = 0.1 s each
    assert time.monotonic() - started >= 0.19


def test_outbox_keeps_one_row_per_message_id(tmp_path) -> None:
    outbox = OutboxGateway(tmp_path / "outbox.sqlite")
    outbox.send(MESSAGES)
    outbox.send(MESSAGES[:1])
    rows = outbox.db.execute("SELECT message_id, attempts FROM messages ORDER BY message_id").fetchall()
    assert rows == [(MESSAGES[0].message_id, 2), (MESSAGES[1].message_id, 1), (MESSAGES[2].message_id, 1)]

"""Limits at the edge: request bodies and headers bounded before anything reads them.

A body over ``max_body`` bytes is refused with 413 (by its Content-Length, or
as soon as a streamed body passes the limit), headers over ``max_headers``
bytes in all with 431: short JSON answers that do not echo the request.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    pass


async def answer(send: Send, status: int, error: str, message: str) -> None:
    body = json.dumps({"error": error, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(self, app: Callable[..., Awaitable[None]], max_body: int, max_headers: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope.get("headers", [])
        if sum(len(name) + len(value) + 4 for name, value in headers) > self.max_headers:
            await answer(send, 431, "HeadersTooLarge", f"The request's headers exceed {self.max_headers:,} bytes.")
            return
        declared = next((value for name, value in headers if name == b"content-length"), None)
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await answer(send, 413, "BodyTooLarge", f"The request's body exceeds {self.max_body:,} bytes.")
            return
        received = 0
        started = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge
            return message

        async def watched_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except BodyTooLarge:
            if not started:
                await answer(send, 413, "BodyTooLarge", f"The request's body exceeds {self.max_body:,} bytes.")

"""Who is calling: a bearer token, or a browser's session cookie (with CSRF
protection on writes), turned into the application's ``Caller``.

The only things a client says about itself that are kept are the device
label (``X-Device``) and, for scans made offline, ``X-Occurred-At`` - which
the application accepts only inside its window.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from application.access import Caller
from application.errors import NotAuthenticated, OutsideTimeWindow
from application.handling import RequestKey

SESSION_COOKIE = "rantai_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_DEVICE = 64

bearer = HTTPBearer(auto_error=False, description="An API token from `rantai users add` or `rantai users token`")
cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="A browser session from POST /login")


def csrf_token(request: Request, session: str) -> str:
    """Bound to the session: the pages put it in their forms, scripts send it in X-CSRF-Token."""
    secret = request.app.state.csrf_secret
    return hmac.new(secret, session.encode(), hashlib.sha256).hexdigest()


def parse_occurred_at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip()) if len(value) <= 40 else None
    except ValueError:
        moment = None
    if moment is None:
        raise OutsideTimeWindow("X-Occurred-At must be an ISO 8601 time with its offset, e.g. 2021-01-14T07:10:00+07:00.")
    if moment.tzinfo is None:
        raise OutsideTimeWindow("X-Occurred-At needs its offset (e.g. +07:00): a time without one is ambiguous.")
    return moment


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    session: Annotated[str | None, Depends(cookie)],
    x_device: Annotated[str | None, Header(description="A label for the scanner or phone (not a credential)")] = None,
    x_occurred_at: Annotated[str | None, Header(
        description="When an offline scan happened (ISO 8601 with offset); accepted up to 72 hours back")] = None,
) -> Caller:
    """On the event loop when the token was checked in the last seconds (the common
    case: no store lookup); the lookup itself runs in the thread pool."""
    campaign = request.app.state.campaign
    device = "".join(ch for ch in (x_device or "unknown") if ch.isprintable())[:MAX_DEVICE] or "unknown"
    if credentials is not None:
        caller = await _authenticate(campaign, credentials.credentials, device)
    elif session:
        caller = await _authenticate(campaign, session, device)
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent, csrf_token(request, session)):
                raise CsrfMissing("This form has expired or did not come from Rantai: reload the page and try again.")
    else:
        raise NotAuthenticated("Log in first: send 'Authorization: Bearer <token>' or use the login page.")
    return caller.at(parse_occurred_at(x_occurred_at))


async def _authenticate(campaign: Any, token: str, device: str) -> Caller:
    return campaign.authenticate_known(token, device) or await run_in_threadpool(campaign.authenticate, token, device)


class CsrfMissing(NotAuthenticated):
    """A cookie-authenticated write without the page's CSRF token (403)."""


async def request_key(
    request: Request,
    key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=100,
                                      description="Repeat a request safely: same key and request, same answer")] = None,
) -> RequestKey | None:
    """The key bound to this request (method, path, body), so reusing it for another request is refused."""
    if key is None:
        return None
    body = await request.body()  # already read for the model: Starlette keeps it
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()
    return RequestKey(key, fingerprint)


CallerDep = Annotated[Caller, Depends(current_caller)]
KeyDep = Annotated[RequestKey | None, Depends(request_key)]


def gateway_caller(
    request: Request,
    x_gateway_secret: Annotated[str | None, Header(description="The provider's shared secret")] = None,
) -> None:
    """The SMS/USSD provider: its shared secret in X-Gateway-Secret, or as the HTTP Basic password."""
    expected = request.app.state.gateway_secret
    sent = x_gateway_secret or ""
    authorization = request.headers.get("authorization", "")
    if not sent and authorization.lower().startswith("basic "):
        import base64
        import binascii

        try:
            sent = base64.b64decode(authorization[6:].strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            sent = ""
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise NotAuthenticated("This callback needs the gateway's shared secret.")


GatewayDep = Depends(gateway_caller)

"""The one place that turns errors into HTTP answers a warehouse worker can act on."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from application.accounts import WeakPassword
from application.errors import (
    AlreadyExists,
    ApplicationError,
    ConcurrentUpdate,
    Forbidden,
    InvalidIdentifier,
    NotAuthenticated,
    NotFound,
    OutsideTimeWindow,
    TooManyAttempts,
)
from application.people import InvalidPersonalData
from domain.errors import RuleBroken
from domain.idempotency import KeyReused
from domain.user import InvalidUsername
from interfaces.api.security import CsrfMissing
from interfaces.scanner.digital_link import ScanNotUnderstood

STATUS = [
    (CsrfMissing, 403),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (TooManyAttempts, 429),
    (NotFound, 404),
    (InvalidIdentifier, 422),
    (ScanNotUnderstood, 422),
    (InvalidPersonalData, 422),
    (OutsideTimeWindow, 422),
    (KeyReused, 422),
    (WeakPassword, 422),
    (InvalidUsername, 422),
    (AlreadyExists, 409),
    (ConcurrentUpdate, 409),
    (RuleBroken, 409),
    (ApplicationError, 400),
]


def _answer(request: Request, error: Exception) -> JSONResponse:
    status = next(code for kind, code in STATUS if isinstance(error, kind))
    content: dict[str, object] = {"error": type(error).__name__, "message": str(error)}
    if getattr(error, "free_days", None):
        content["free_days"] = [day.isoformat() for day in error.free_days]
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, TooManyAttempts):
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(status_code=status, content=content, headers=headers)


def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"] if part not in ("body", "header"))
        problems.append(f"{where}: {item['msg']}")
    message = "Some fields are missing or wrong: " + "; ".join(problems)
    return JSONResponse(status_code=422, content={"error": "InvalidRequest", "message": message[:500]})


def register_error_handlers(api: FastAPI) -> None:
    for kind, _ in STATUS:
        api.add_exception_handler(kind, _answer)
    api.add_exception_handler(RequestValidationError, _invalid_request)

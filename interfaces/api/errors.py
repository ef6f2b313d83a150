"""The one place that turns errors into HTTP answers a warehouse worker can act on."""

from __future__ import annotations

import sqlite3

import psycopg
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

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
from domain.errors import OutOfBounds, RuleBroken
from domain.idempotency import KeyReused
from domain.user import InvalidUsername
from interfaces.api.security import CsrfMissing
from interfaces.api.models import ErrorBody
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
    (OutOfBounds, 422),
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


UNAVAILABLE = (StoreOperationalError, StoreInterfaceError, psycopg.OperationalError, PoolTimeout,
               sqlite3.OperationalError)
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": description} for code, description in (
        (400, "The request cannot be read (not JSON, not a form)"),
        (401, "No valid login: a bearer token, a session cookie or the gateway's secret"),
        (403, "Logged in, but this account may not do this here (the reason in words)"),
        (404, "Something the request names does not exist"),
        (409, "A rule refuses it now (already received, no stock, fully booked...)"),
        (413, "The request's body is too large"),
        (422, "Malformed input: a value outside its bound, a bad check digit, a reused key"),
        (429, "Too many attempts: wait the Retry-After seconds"),
        (431, "The request's headers are too large"),
        (503, "The database is unavailable or busy: try again later"),
    )
}


HTTP_ERRORS = {400: "Unreadable", 401: "NotAuthenticated", 403: "Forbidden", 404: "NotFound",
               405: "MethodNotAllowed", 413: "BodyTooLarge", 415: "UnsupportedMediaType"}


def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
    """The framework's own refusals (an unparsable form, an unknown path) in the same shape as ours."""
    message = error.detail if isinstance(error.detail, str) and len(error.detail) < 200 else "The request was refused."
    return JSONResponse(status_code=error.status_code, headers=getattr(error, "headers", None),
                        content={"error": HTTP_ERRORS.get(error.status_code, "Refused"), "message": message})


def _unavailable(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, headers={"Retry-After": "5"}, content={
        "error": "Unavailable", "message": "The database is busy or unreachable: try again in a few seconds."})


def _invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    if any(item.get("type") == "json_invalid" for item in error.errors()):
        return JSONResponse(status_code=400, content={"error": "Unreadable", "message": "The body is not valid JSON."})
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"] if part not in ("body", "header"))
        problems.append(f"{where[:60]}: {item['msg'][:120]}")
    message = "Some fields are missing or wrong: " + "; ".join(problems)
    return JSONResponse(status_code=422, content={"error": "InvalidRequest", "message": message[:500]})


def register_error_handlers(api: FastAPI) -> None:
    for kind, _ in STATUS:
        api.add_exception_handler(kind, _answer)
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_exception_handler(StarletteHTTPException, _http_error)
    for kind in UNAVAILABLE:
        api.add_exception_handler(kind, _unavailable)

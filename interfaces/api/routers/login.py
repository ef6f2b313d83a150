"""Browsers log in with a form and get a session cookie (HttpOnly, SameSite=Lax,
Secure behind HTTPS). Failed logins are limited per username (strict) and per
client address (generous); the limits live in the database, for every process."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.accounts import SESSION_HOURS
from application.errors import NotAuthenticated
from interfaces.api.deps import CampaignDep
from interfaces.api.security import SESSION_COOKIE, csrf_token
from interfaces.web.pages import HOME, language, render, translate

router = APIRouter(tags=["login"])
LOCKED, WRONG = "login.locked", "login.wrong"  # words of interfaces/web/pages.py, in the page's language


def _safe_next(target: str) -> str:
    return target if target.startswith("/") and not target.startswith("//") and len(target) < 200 else "/"


def _page(request: Request, status: int, error: str = "", username: str = "", next_page: str = "/") -> HTMLResponse:
    context = {"error": error, "username": username, "next": _safe_next(next_page)}
    return render(request, "login.html", status=status, **context)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> HTMLResponse:  # noqa: A002 - the query's name
    return _page(request, 200, next_page=next)


@router.post("/login", response_class=HTMLResponse, responses={303: {"description": "Logged in"}})
def login(
    request: Request,
    campaign: CampaignDep,
    username: Annotated[str, Form(max_length=40)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=200)] = "/",  # noqa: A002 - the form field's name
) -> Response:
    throttle, limits = request.app.state.throttle, request.app.state.limits
    address = request.client.host if request.client else "unknown"
    username = username.strip().lower()
    wait = max(throttle.retry_after(limits.login_user, username), throttle.retry_after(limits.login_address, address))
    if wait:
        locked = translate(LOCKED, language(request)).format(minutes=max(1, wait // 60))
        response = _page(request, 429, locked, username, next)
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        token, _ = campaign.login(username, password, request.headers.get("user-agent", "browser")[:64])
    except NotAuthenticated:
        throttle.hit(limits.login_user, username)
        throttle.hit(limits.login_address, address)
        return _page(request, 401, translate(WRONG, language(request)), username, next)
    throttle.clear(limits.login_user, username)
    target = _safe_next(next)
    if target == "/":  # no page asked for: the role's own home
        caller = campaign.authenticate(token, "browser")
        target = HOME[caller.role] if caller.role else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=request.app.state.secure_cookies)
    return response


@router.post("/logout", responses={303: {"description": "Logged out"}})
def logout(request: Request, campaign: CampaignDep,
           csrf: Annotated[str, Form(alias="csrf_token", max_length=100)] = "") -> Response:
    """Ends the browser's session (its token is revoked) and goes back to the login page."""
    session = request.cookies.get(SESSION_COOKIE, "")
    if session and hmac.compare_digest(csrf, csrf_token(request, session)):
        try:
            campaign.logout(session)
        except NotAuthenticated:
            pass
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response

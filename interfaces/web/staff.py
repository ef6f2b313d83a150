"""The staff app's shared routes: the language switch, each role's home, the session a script needs, the service worker.

The warehouse's pages live in ``warehouse.py``; this module only holds what
every page of every role relies on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel

from interfaces.api.routers.login import _safe_next
from interfaces.web import warehouse
from application.errors import NotAuthenticated
from interfaces.web.pages import LANG_COOKIE, LANGUAGES, LoginRequired, StaffDep, current_staff

router = APIRouter(tags=["pages"])
router.include_router(warehouse.router)
STATIC = Path(__file__).resolve().parent / "static"
YEAR = 365 * 24 * 3600


@router.get("/bahasa", include_in_schema=False)
def switch_language(to: Annotated[str, Query(max_length=5)] = "id",
                    next: Annotated[str, Query(max_length=200)] = "/") -> Response:  # noqa: A002 - the query's name
    """Bahasa Indonesia or English, remembered in a cookie; an unknown choice keeps Bahasa Indonesia."""
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, to if to in LANGUAGES else "id", max_age=YEAR, samesite="lax")
    return response


@router.get("/home", include_in_schema=False)
def home(staff: StaffDep) -> Response:
    """Each role lands on its own page."""
    return RedirectResponse(staff.home, status_code=303)


class SessionPublic(BaseModel):
    username: str
    role: str
    scope: str
    csrf: str


@router.get("/session")
def session(request: Request) -> SessionPublic:
    """Who this browser is logged in as, and the CSRF token its scripts send (the offline queue asks before
    syncing); 401 rather than the login page, so a script knows to ask its user to log in."""
    try:
        staff = current_staff(request)
    except LoginRequired:
        raise NotAuthenticated("Your session has ended: log in again; nothing waiting is lost.") from None
    return SessionPublic(username=staff.caller.username, role=staff.role.value, scope=staff.scope, csrf=staff.csrf)


@router.get("/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """Served from the root so that it controls every page (scope ``/``); never cached, so updates arrive."""
    return FileResponse(STATIC / "sw.js", media_type="text/javascript",
                        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"})

"""The ASGI application: ``uvicorn --factory interfaces.api.main:create_app``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from interfaces.api.errors import ERROR_RESPONSES, register_error_handlers
from interfaces.api.limits import RequestLimits
from interfaces.api.routers import audit as audit_routes
from interfaces.api.routers import audit_log as audit_log_routes
from interfaces.api.routers import exports as export_routes
from interfaces.api.routers import (
    dashboard,
    districts,
    login,
    lots,
    registrations,
    reports,
    scans,
    shipments,
    stock,
    users,
    vaccinations,
)
from interfaces.bootstrap import (
    BackgroundFollowers,
    default_settings,
    limits,
    open_campaign,
    open_read_models,
    open_sms_gateway,
    open_throttle,
)
from interfaces.settings import Settings
from interfaces.web import admin as admin_pages
from interfaces.web import desks as desk_pages
from interfaces.web import district as district_pages
from interfaces.web import public as public_pages
from interfaces.web import pages as web_pages
from interfaces.web import staff as staff_pages

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"


def create_app(settings: Settings | None = None, clock: Callable[[], datetime] | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        config = settings or default_settings()
        api.state.sms = open_sms_gateway(config)
        api.state.campaign = open_campaign(config, sms=api.state.sms, clock=clock)
        api.state.read_models = open_read_models(config)
        api.state.throttle = open_throttle(config)
        api.state.limits = limits(config)
        api.state.gateway_secret = config.gateway_secret
        api.state.secure_cookies = config.secure_cookies
        api.state.resolver = config.gs1_resolver.rstrip("/")
        api.state.csrf_secret = hashlib.sha256(b"rantai-csrf:" + (config.cipher_key or "").encode()).digest()
        embedded = config.database_url.startswith("sqlite")
        with BackgroundFollowers(api.state.campaign, api.state.read_models, config) if embedded else nullcontext():
            yield
        for model in api.state.read_models.values():
            model.view.datastore.close()
        api.state.throttle.close()
        api.state.sms.close()
        api.state.campaign.close()

    api = FastAPI(title="Rantai", summary="Vaccine track and trace", lifespan=lifespan)
    register_error_handlers(api)
    web_pages.register(api)
    for module in (login, users, shipments, lots, stock, scans, registrations, vaccinations, districts, reports,
                   dashboard, audit_routes, audit_log_routes, export_routes, staff_pages, desk_pages, public_pages,
                   district_pages, admin_pages):
        api.include_router(module.router, responses=ERROR_RESPONSES)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")

    @api.get("/health", tags=["health"], responses=ERROR_RESPONSES)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    limits_of = settings or default_settings()
    api.add_middleware(RequestLimits, max_body=limits_of.max_body_bytes, max_headers=limits_of.max_header_bytes)
    return api

"""The ASGI application: ``uvicorn --factory interfaces.api.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext

from fastapi import FastAPI

from interfaces.api.errors import register_error_handlers
from interfaces.api.routers import (
    dashboard,
    districts,
    registrations,
    reports,
    scans,
    shipments,
    stock,
    vaccinations,
)
from interfaces.bootstrap import BackgroundFollowers, open_campaign, open_read_models, open_sms_gateway
from interfaces.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        config = settings or Settings()
        api.state.campaign = open_campaign(config)
        api.state.sms = open_sms_gateway(config)
        api.state.read_models = open_read_models(config)
        embedded = config.database_url.startswith("sqlite")
        with BackgroundFollowers(api.state.campaign, api.state.read_models) if embedded else nullcontext():
            yield
        for model in api.state.read_models.values():
            model.view.datastore.close()
        api.state.sms.close()
        api.state.campaign.close()

    api = FastAPI(title="Rantai", summary="Vaccine track and trace", lifespan=lifespan)
    register_error_handlers(api)
    for module in (shipments, stock, scans, registrations, vaccinations, districts, reports, dashboard):
        api.include_router(module.router)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api

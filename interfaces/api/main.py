"""The ASGI application: ``uvicorn --factory interfaces.api.main:create_app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from interfaces.api.errors import register_error_handlers
from interfaces.api.routers import scans, shipments, stock
from interfaces.bootstrap import open_campaign
from interfaces.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(api: FastAPI) -> AsyncIterator[None]:
        api.state.campaign = open_campaign(settings or Settings())
        yield
        api.state.campaign.close()

    api = FastAPI(title="Rantai", summary="Vaccine track and trace", lifespan=lifespan)
    register_error_handlers(api)
    for module in (shipments, stock, scans):
        api.include_router(module.router)

    @api.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return api

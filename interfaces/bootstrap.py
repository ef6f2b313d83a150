"""The one wiring place of each process: settings -> event store -> application."""

from __future__ import annotations

from application.logistics import Logistics
from interfaces.settings import Settings, event_store_env


def open_campaign(settings: Settings | None = None, *, create_tables: bool | None = None) -> Logistics:
    settings = settings or Settings()
    return Logistics(event_store_env(settings, create_tables=create_tables))

"""The one wiring place of each process: settings -> event store -> application."""

from __future__ import annotations

import threading
from functools import cache

from application.campaign import Campaign
from application.target_lists import Regions
from interfaces.reference_data import kecamatan_codes
from interfaces.settings import Settings, event_store_env
from projections.catalog import READ_MODELS, open_read_model
from projections.follower import Follower
from projections.read_model import ReadModel


@cache
def regions() -> Regions:
    return Regions.of(kecamatan_codes())


def open_campaign(settings: Settings | None = None, *, create_tables: bool | None = None) -> Campaign:
    settings = settings or Settings()
    campaign = Campaign(event_store_env(settings, create_tables=create_tables))
    campaign.regions = regions()
    return campaign


def create_schema(settings: Settings) -> list[str]:
    """Create the event store's and every read model's tables (``rantai db init``)."""
    open_campaign(settings, create_tables=True).close()
    for model in open_read_models(settings, create_tables=True).values():
        model.view.datastore.close()
    return list(READ_MODELS)


def open_sms_gateway(settings: Settings):  # -> OutboxGateway | HttpGateway
    from interfaces.sms.http import HttpGateway
    from interfaces.sms.outbox import OutboxGateway

    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_http_username, settings.sms_http_api_key,
                           settings.sms_sender, settings.sms_outbox, settings.sms_rate_per_second)
    return OutboxGateway(settings.sms_outbox, settings.sms_outbox_rate_per_second)


def open_read_models(settings: Settings, *, create_tables: bool | None = None) -> dict[str, ReadModel]:
    env = event_store_env(settings, create_tables=create_tables)
    return {name: open_read_model(cls, env) for name, cls in READ_MODELS.items()}


class BackgroundFollowers:
    """The embedded (SQLite) deployment: every read model followed by a thread
    of the serving process. The PostgreSQL deployment runs ``rantai worker``."""

    def __init__(self, campaign: Campaign, read_models: dict[str, ReadModel]) -> None:
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=Follower(campaign, model).follow, args=(self.stop,),
                             name=f"follow-{name}", daemon=True)
            for name, model in read_models.items()
        ]

    def __enter__(self) -> BackgroundFollowers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

"""The one wiring place of each process: settings -> event store -> application."""

from __future__ import annotations

from functools import cache

from application.campaign import Campaign
from application.target_lists import Regions
from interfaces.reference_data import kecamatan_codes
from interfaces.settings import Settings, event_store_env


@cache
def regions() -> Regions:
    return Regions.of(kecamatan_codes())


def open_campaign(settings: Settings | None = None, *, create_tables: bool | None = None) -> Campaign:
    settings = settings or Settings()
    campaign = Campaign(event_store_env(settings, create_tables=create_tables))
    campaign.regions = regions()
    return campaign


def open_sms_gateway(settings: Settings):  # -> OutboxGateway | HttpGateway
    from interfaces.sms.http import HttpGateway
    from interfaces.sms.outbox import OutboxGateway

    if settings.sms_gateway == "http":
        return HttpGateway(settings.sms_http_url, settings.sms_http_username, settings.sms_http_api_key,
                           settings.sms_sender, settings.sms_outbox, settings.sms_rate_per_second)
    return OutboxGateway(settings.sms_outbox, settings.sms_outbox_rate_per_second)

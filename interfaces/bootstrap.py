"""The one wiring place of each process: settings -> event store -> application."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from application.campaign import Campaign
from application.sms import SmsGateway
from application.target_lists import Regions
from interfaces.reference_data import kecamatan_codes
from interfaces.settings import Settings, event_store_env
from interfaces.throttle import Limit, Throttle
from projections.catalog import READ_MODELS, open_read_model
from projections.follower import Follower
from projections.read_model import ReadModel
from projections.seal import PostgresSeal, Sealer, open_seal


@cache
def regions() -> Regions:
    return Regions.of(kecamatan_codes())


@cache
def default_settings() -> Settings:
    """The settings of this process (environment, .env, var/secrets.env), read once."""
    return Settings()


def open_campaign(settings: Settings | None = None, *, create_tables: bool | None = None,
                  sms: SmsGateway | None = None, clock: Callable[[], datetime] | None = None) -> Campaign:
    settings = settings or default_settings()
    campaign = Campaign(event_store_env(settings, create_tables=create_tables))
    campaign.regions = regions()
    campaign.offline_window = timedelta(hours=settings.offline_window_hours)
    campaign.sms = sms
    if clock is not None:
        campaign.clock = clock
    return campaign


@dataclass(frozen=True)
class Limits:
    """Failed logins per username (strict) and per address (generous: carrier NAT),
    public registration requests per address and failed proofs per NIK."""

    login_user: Limit
    login_address: Limit
    registration_address: Limit
    registration_nik: Limit


def limits(settings: Settings) -> Limits:
    lockout = settings.login_lockout_minutes * 60.0
    return Limits(
        login_user=Limit("login-user", settings.login_failures_per_user, lockout, lockout),
        login_address=Limit("login-addr", settings.login_failures_per_address, lockout, lockout),
        registration_address=Limit("reg-addr", settings.registrations_per_address_per_hour, 3600, 600),
        registration_nik=Limit("reg-nik", settings.registration_failures_per_nik, 3600, 3600),
    )


def open_throttle(settings: Settings) -> Throttle:
    return Throttle(settings)


def create_schema(settings: Settings) -> list[str]:
    """Create the event store's and every read model's tables (``rantai db init``)."""
    open_campaign(settings, create_tables=True).close()
    for model in open_read_models(settings, create_tables=True).values():
        model.view.datastore.close()
    seal = open_seal(event_store_env(settings))
    try:
        seal.create_tables()
        if isinstance(seal, PostgresSeal):
            seal.install_triggers()  # the event tables refuse UPDATE, DELETE and TRUNCATE
    finally:
        seal.close()
    return [*READ_MODELS, "seal"]


def open_sms_gateway(settings: Settings):  # -> OutboxGateway | HttpGateway
    """The SMS gateway; the outbox seals phones and texts under the event store's cipher key.

    Without a key (no ``rantai db init`` yet) the outbox seals under a throwaway key:
    nothing is written in clear, and no campaign opens without the key to send anything."""
    from interfaces.sms.http import HttpGateway
    from interfaces.sms.outbox import OutboxGateway, seal_outbox_file

    if settings.sms_gateway == "http":
        if settings.cipher_key:  # the provider ids share the file an earlier outbox may have left in clear
            seal_outbox_file(settings.sms_outbox, settings.cipher_key)
        return HttpGateway(settings.sms_http_url, settings.sms_http_username, settings.sms_http_api_key,
                           settings.sms_sender, settings.sms_outbox, settings.sms_rate_per_second)
    return OutboxGateway(settings.sms_outbox, settings.sms_outbox_rate_per_second, cipher_key=settings.cipher_key)


def open_read_models(settings: Settings, *, create_tables: bool | None = None,
                     only: list[str] | None = None) -> dict[str, ReadModel]:
    """The read models (``only`` these names, when given) on the settings' store."""
    env = event_store_env(settings, create_tables=create_tables)
    return {name: open_read_model(cls, env) for name, cls in READ_MODELS.items() if only is None or name in only}


def open_sealer(env: dict[str, str], settings: Settings | None) -> Sealer:
    """The sealer of the store ``env`` names; it signs a checkpoint every ``checkpoint_every_minutes``
    while the log grows when ``settings`` hold the checkpoint key."""
    from projections.checkpoints import checkpoint_signer, signing_key

    if settings is None or not settings.checkpoint_key:
        return Sealer(open_seal(env))
    signer = checkpoint_signer(settings.checkpoint_origin, signing_key(settings.checkpoint_key))
    return Sealer(open_seal(env), signer=signer, every=settings.checkpoint_every_minutes * 60)


class BackgroundFollowers:
    """The embedded (SQLite) deployment: every read model followed by a thread
    of the serving process. The PostgreSQL deployment runs ``rantai worker``."""

    def __init__(self, campaign: Campaign, read_models: dict[str, ReadModel], settings: Settings | None = None) -> None:
        self.stop = threading.Event()
        self.threads = [
            threading.Thread(target=Follower(campaign, model).follow, args=(self.stop,),
                             name=f"follow-{name}", daemon=True)
            for name, model in read_models.items()
        ]
        sealer = open_sealer(dict(campaign.env), settings)  # the tamper-evident log, sealed seconds behind
        self.threads.append(threading.Thread(target=sealer.follow, args=(self.stop,), name="follow-seal", daemon=True))

    def __enter__(self) -> BackgroundFollowers:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

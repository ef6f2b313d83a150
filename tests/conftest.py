"""Real storage for every persistence-facing test: a SQLite file in a temp dir
and the real PostgreSQL (a fresh schema per test, dropped afterwards).

Locally a PostgreSQL test skips, loudly, when no server is reachable; under
CI (CI=true) a missing server fails the run.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import psycopg
import pytest

from interfaces.settings import Settings, event_store_env

if TYPE_CHECKING:
    from application.campaign import Campaign
    from tests.scenario import ColdChain

pytest_plugins = ["tests.worked_scenarios"]

TEST_SECRETS = {
    "cipher_key": "0" * 43 + "=",  # 32 zero bytes, base64: tests only
    "nik_secret": "test-nik-secret",
    "gateway_secret": "test-gateway-secret",
}

POSTGRES_URL = os.environ.get(
    "RANTAI_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def postgres_or_skip() -> None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return
    except psycopg.OperationalError as error:
        reason = f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}".strip()
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: a missing server is a failure)")
        pytest.skip(f"!!! SKIPPING POSTGRESQL TEST: {reason}")


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path) -> Iterator[Settings]:
    """Settings naming a fresh, empty event store on each backend."""
    if request.param == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path}/rantai.sqlite",
                       sms_outbox=str(tmp_path / "outbox.sqlite"), **TEST_SECRETS)
        return
    postgres_or_skip()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield Settings(database_url=POSTGRES_URL, postgres_schema=schema,
                       sms_outbox=str(tmp_path / "outbox.sqlite"), **TEST_SECRETS)
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store_env(settings: Settings) -> dict[str, str]:
    """The eventsourcing environment of that store, creating its tables."""
    return event_store_env(settings, create_tables=True)


@pytest.fixture
def app(settings: Settings) -> Iterator[Campaign]:
    from interfaces.bootstrap import create_schema, open_campaign

    create_schema(settings)
    application = open_campaign(settings)
    yield application
    application.close()


@pytest.fixture
def chain(app) -> ColdChain:
    from tests.scenario import ColdChain

    return ColdChain(app).build()


@pytest.fixture
def rantai(settings: Settings, app, monkeypatch):  # app: creates the tables
    """``rantai(*args)`` runs the command line in this process on the test's store."""
    from typer.testing import CliRunner

    from interfaces.cli.main import app as cli
    from tests.scenario import cli_env

    from interfaces.bootstrap import default_settings

    for key, value in cli_env(settings).items():
        if key.startswith("RANTAI_"):
            monkeypatch.setenv(key, value)
    default_settings.cache_clear()  # the CLI reads its settings once per process: here, once per test
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args))

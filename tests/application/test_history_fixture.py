"""Events are forever: a store written by the code before accounts and provenance
(issue 7) still loads, reports and rebuilds with today's code, and old events
whose shape changed are upcast (tests/fixtures/store-v1/README.md says how the
store was made; it is never regenerated)."""

from __future__ import annotations

import csv
import gzip
import shutil
from datetime import date
from pathlib import Path

import pytest

from domain.idempotency import HandledCommand
from domain.shipment import ShipmentStatus
from domain.user import Role
from interfaces.bootstrap import create_schema, open_campaign, open_read_models
from interfaces.reports import EXPORTS, ReportOptions, build_report
from interfaces.settings import Settings
from projections.follower import Follower
from tests.conftest import TEST_SECRETS

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "store-v1"
REPORTS = ("shipments", "stock", "doses", "recipients")
LOG_HEAD = 10758  # events in the fixture
FIXTURE_KEY = "A" * 43 + "="  # the store's cipher key: 32 zero bytes


@pytest.fixture
def old_store(tmp_path: Path) -> Settings:
    with gzip.open(FIXTURE / "rantai.sqlite.gz") as packed, (tmp_path / "rantai.sqlite").open("wb") as file:
        shutil.copyfileobj(packed, file)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/rantai.sqlite", sms_outbox=str(tmp_path / "o.sqlite"),
                        **(TEST_SECRETS | {"cipher_key": FIXTURE_KEY}))
    create_schema(settings)  # the read models' tables (the event tables are there already)
    return settings


def same_columns(rows: list[list[str]], titles: list[str]) -> list[list[str]]:
    """Our rows cut to the old report's columns (reports may gain columns, never lose or change one)."""
    index = [rows[0].index(title) for title in titles]
    return [[row[i] for i in index] for row in rows]


def rows_of(content: str) -> list[list[str]]:
    return list(csv.reader(line for line in content.splitlines() if not line.startswith("# ")))


def test_an_old_store_rebuilds_into_the_same_reports(old_store: Settings) -> None:
    # Given the store written before issue 7, When today's code rebuilds every read model
    app = open_campaign(old_store)
    models = open_read_models(old_store)
    try:
        assert app.recorder.max_notification_id() == LOG_HEAD
        for model in models.values():
            Follower(app, model).rebuild()
        # Then each reconciliation report has exactly the figures the old code exported
        for name in REPORTS:
            built = build_report(name, models, ReportOptions())
            assert built.position["notification_id"] == LOG_HEAD
            ours = rows_of(EXPORTS["csv"][1](built).decode("utf-8-sig"))
            theirs = rows_of((FIXTURE / f"{name}.csv").read_text(encoding="utf-8-sig"))
            assert same_columns(ours, theirs[0]) == theirs, f"report {name} differs after the upgrade"
    finally:
        for model in models.values():
            model.view.datastore.close()
        app.close()


def test_old_events_load_and_old_idempotency_keys_are_upcast(old_store: Settings) -> None:
    app = open_campaign(old_store)
    try:
        # the old global key "1" (HandledCommand v1, no fingerprint) loads as version 2
        handled = app.find(HandledCommand, HandledCommand.id_for("1"))
        assert handled.command == "pack" and handled.fingerprint == ""
        packed = app.get_shipment(handled.result["sscc"])
        assert packed.status is ShipmentStatus.DISPATCHED
        # and every aggregate of the old log loads (a sample of each kind)
        recipients = app.recorder.select_notifications(1, LOG_HEAD, topics=[
            "domain.recipient:Recipient.Vaccinated"])
        assert recipients, "the fixture has doses"
        person = app.get_recipient(recipients[0].originator_id)
        assert person.doses and person.doses[0].day in (date(2021, 1, 14), date(2021, 1, 15))
        assert app.get_stock("BIOFARMA").lots
        # Old events have no role and counted days in WIB: they decode with those defaults
        event = app.repository.event_store.get(packed.id).__next__()
        assert (event.by.role, event.by.zone) == ("", "Asia/Jakarta")
        # And today's code writes on top of the old history: a new user's key "1" is their own
        _, token, _ = app.add_user("sari", Role.WAREHOUSE, "32", app_operator())
        assert app.find(HandledCommand, HandledCommand.id_for("1")).command == "pack"
        assert token.startswith("rt_")
    finally:
        app.close()


def app_operator():
    from application.access import Caller

    return Caller.operator("cli:test")

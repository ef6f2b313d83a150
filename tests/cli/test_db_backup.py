"""``rantai db backup FILE`` / ``rantai db restore FILE`` on SQLite (online backups of
the event store, each read model's file and the SMS outbox, in one tar archive),
their refusals (one line on stderr, exit 1) and exit 2 on PostgreSQL."""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from application.sms import SmsMessage
from interfaces.bootstrap import open_campaign, open_read_models
from interfaces.cli.database import database_files, event_count
from interfaces.scenarios.demo import is_loaded, run_demo
from interfaces.sms.outbox import OutboxGateway
from projections.catalog import READ_MODELS
from projections.follower import Follower
from tests.scenario import ColdChain

sqlite_only = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


def dump(path: Path) -> dict[str, list[tuple]] | None:
    """Every table's rows (sorted; the events with their notification ids), read
    straight from the file; None when there is no file."""
    if not path.exists():
        return None
    with closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
        tables = [row[0] for row in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: sorted(db.execute(
                    f'SELECT {"rowid, " if table == "stored_events" else ""}* FROM "{table}"').fetchall(), key=repr)
                for table in tables}


def all_files(settings) -> list[Path]:
    store, read_models, outbox = database_files(settings)
    return [store, *read_models.values(), outbox]


def snapshot(settings) -> dict[str, dict[str, list[tuple]]]:
    return {str(path): dump(path) for path in all_files(settings)}


def delete_everything(settings) -> None:
    for path in all_files(settings):
        for each in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            each.unlink(missing_ok=True)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got: {text!r}"
    return lines[0]


@pytest.fixture
def demo_store(settings, app):
    """The demo in the store, every read model caught up, one SMS in the outbox; the app closed."""
    run = run_demo(app)
    models = open_read_models(settings)
    try:
        for model in models.values():
            Follower(app, model).catch_up()
    finally:
        for model in models.values():
            model.view.datastore.close()
    outbox = OutboxGateway(settings.sms_outbox)
    outbox.send([SmsMessage("demo-1", "+6281234567890", "Jadwal vaksinasi Anda: besok")])
    outbox.db.close()
    app.close()
    return run


@sqlite_only
def test_a_backup_restores_the_same_events_read_model_rows_and_outbox(
        settings, demo_store, rantai, tmp_path) -> None:
    # Given the demo, its read models caught up, backed up while nothing else changes
    before = snapshot(settings)
    store = database_files(settings)[0]
    events = event_count(store)
    assert events > 1000 and all(before[str(p)] for p in all_files(settings))
    read_model_rows = sum(len(rows) for path in database_files(settings)[1].values()
                          for table, rows in before[str(path)].items() if table.startswith("rm_"))
    assert read_model_rows > 100  # the read models hold the demo, not just their positions
    archive = tmp_path / "backups" / "rantai.tar.gz"
    done = rantai("db", "backup", str(archive))
    assert done.exit_code == 0, done.output
    assert f"Backed up {events} events, {len(READ_MODELS)} read models, the audit log's tree and the SMS outbox" \
        in " ".join(done.output.split())
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names == {"manifest.json", "events.sqlite", "sms-outbox.sqlite",
                     *(f"read-models/{name}.sqlite" for name in (*READ_MODELS, "seal"))}
    assert (manifest["format"], manifest["version"], manifest["events"]) == ("rantai-sqlite-backup", 1, events)
    assert settings.cipher_key not in archive.read_bytes().decode("latin-1")  # no key inside
    # When every database file is deleted and the backup restored
    delete_everything(settings)
    assert not store.exists()
    done = rantai("db", "restore", str(archive))
    # Then the same events, read-model rows and outbox are back
    assert done.exit_code == 0, done.output
    assert f"Restored {events} events and {len(READ_MODELS)} read models" in done.output
    assert snapshot(settings) == before
    verified = rantai("audit", "verify")  # the audit log's tree came back with the log it seals
    assert verified.exit_code == 0 and verified.output.startswith("OK"), verified.output
    # and the application reads them (same keys), its read models at the head of the log
    application = open_campaign(settings)
    try:
        assert is_loaded(application)
        assert [application.get_shipment(s).status.value for s in demo_store.shipments] == ["received"] * 21
        models = open_read_models(settings)
        try:
            assert {name: model.view.position()["notification_id"] for name, model in models.items()} == \
                {name: events for name in READ_MODELS}
        finally:
            for model in models.values():
                model.view.datastore.close()
    finally:
        application.close()


@sqlite_only
def test_restore_refuses_a_store_that_holds_events_unless_forced(settings, demo_store, rantai, tmp_path) -> None:
    # Given a backup of the demo, and more events recorded after it
    archive = tmp_path / "rantai.tar"
    assert rantai("db", "backup", str(archive)).exit_code == 0
    store = database_files(settings)[0]
    backed_up = event_count(store)
    application = open_campaign(settings)
    try:
        chain = ColdChain(application, now=datetime.now(UTC))
        chain.release(lot="AFTER-BACKUP", expiry=date.today() + timedelta(days=365))
    finally:
        application.close()
    later = event_count(store)
    assert later > backed_up
    # When it is restored over that store without --force: refused, nothing changed
    done = rantai("db", "restore", str(archive))
    assert done.exit_code == 1
    assert "already holds" in one_line(done.stderr) and "--force" in done.stderr
    assert event_count(store) == later
    # With --force the store is the backup's again
    done = rantai("db", "restore", str(archive), "--force")
    assert done.exit_code == 0, done.output
    assert event_count(store) == backed_up


def tar_with(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def manifest(**overrides) -> bytes:
    return json.dumps({"format": "rantai-sqlite-backup", "version": 1, "events_file": "events.sqlite",
                       "read_models": {}, "sms_outbox": None, **overrides}).encode()


NOT_BACKUPS = {
    "junk": lambda tmp: (tmp / "junk.tar").write_bytes(b"not a tar at all\n" * 100) and tmp / "junk.tar",
    "no manifest": lambda tmp: tar_with(tmp / "no-manifest.tar", {"events.sqlite": b"x"}),
    "another format": lambda tmp: tar_with(tmp / "other.tar", {"manifest.json": manifest(format="other"),
                                                               "events.sqlite": b"x"}),
    "another version": lambda tmp: tar_with(tmp / "v9.tar", {"manifest.json": manifest(version=9)}),
    "events not SQLite": lambda tmp: tar_with(tmp / "bad-db.tar", {"manifest.json": manifest(),
                                                                   "events.sqlite": b"SQLite? no" * 100}),
    "path in a name": lambda tmp: tar_with(tmp / "escape.tar", {
        "manifest.json": manifest(read_models={"../../evil": "read-models/../../evil.sqlite"}),
        "events.sqlite": b"x"}),
    "missing file": lambda tmp: tmp / "nowhere.tar",
}


@sqlite_only
@pytest.mark.parametrize("kind", list(NOT_BACKUPS))
def test_restore_refuses_what_is_not_a_backup(settings, rantai, tmp_path, kind) -> None:
    # Given an empty store (db init) and a file that is not a rantai backup
    file = NOT_BACKUPS[kind](tmp_path)
    before = snapshot(settings)
    # When it is restored, even with --force: one line on stderr, exit 1, nothing written
    done = rantai("db", "restore", str(file), "--force")
    assert done.exit_code == 1, done.output
    line = one_line(done.stderr)
    assert str(file) in line
    assert snapshot(settings) == before
    assert not (tmp_path.parent / "evil.sqlite").exists()


@sqlite_only
def test_restore_refuses_a_backup_made_under_another_cipher_key(
        settings, demo_store, rantai, tmp_path, monkeypatch) -> None:
    from interfaces.bootstrap import default_settings

    archive = tmp_path / "rantai.tar"
    assert rantai("db", "backup", str(archive)).exit_code == 0
    delete_everything(settings)
    monkeypatch.setenv("RANTAI_CIPHER_KEY", "1" * 43 + "=")
    default_settings.cache_clear()
    done = rantai("db", "restore", str(archive))
    assert done.exit_code == 1
    assert "another RANTAI_CIPHER_KEY" in one_line(done.stderr)
    assert not database_files(settings)[0].exists()


@sqlite_only
def test_backup_refuses_to_overwrite_a_file_unless_forced_and_needs_a_store(settings, rantai, tmp_path) -> None:
    archive = tmp_path / "rantai.tar"
    archive.write_text("keep me")
    done = rantai("db", "backup", str(archive))
    assert done.exit_code == 1 and "--force" in one_line(done.stderr)
    assert archive.read_text() == "keep me"
    assert rantai("db", "backup", str(archive), "--force").exit_code == 0
    assert tarfile.is_tarfile(archive)
    delete_everything(settings)
    done = rantai("db", "backup", str(tmp_path / "other.tar"))
    assert done.exit_code == 1 and "no event store" in one_line(done.stderr)
    assert not (tmp_path / "other.tar").exists()


@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
@pytest.mark.parametrize("command", ["backup", "restore"])
def test_on_postgresql_both_commands_point_at_pg_dump(settings, rantai, tmp_path, command) -> None:
    done = rantai("db", command, str(tmp_path / "rantai.tar"))
    assert done.exit_code == 2
    assert "pg_dump" in one_line(done.stderr)
    assert not (tmp_path / "rantai.tar").exists()


@sqlite_only
def test_a_read_model_missing_from_the_backup_is_removed_not_left_ahead_of_the_log(
        settings, demo_store, rantai, tmp_path) -> None:
    # Given a backup from before the aefi read model existed (its entry left out)
    full, old = tmp_path / "full.tar", tmp_path / "old.tar"
    assert rantai("db", "backup", str(full)).exit_code == 0
    with tarfile.open(full) as source, tarfile.open(old, "w") as target:
        for member in source.getmembers():
            body = source.extractfile(member).read()
            if member.name == "manifest.json":
                content = json.loads(body)
                del content["read_models"]["aefi"]
                body = json.dumps(content).encode()
            elif member.name == "read-models/aefi.sqlite":
                continue
            member.size = len(body)
            target.addfile(member, io.BytesIO(body))
    aefi = database_files(settings)[1]["aefi"]
    assert aefi.exists()
    # When it is restored over the store
    done = rantai("db", "restore", str(old), "--force")
    # Then the aefi file is gone (db init makes it again, empty) and the output says so
    assert done.exit_code == 0, done.output
    assert not aefi.exists()
    assert "aefi" in done.output and "rantai db init" in done.output

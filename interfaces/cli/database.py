"""``rantai db backup FILE`` and ``rantai db restore FILE``: backups of the SQLite deployment.

FILE is a tar archive (gzip-compressed when its name ends in ``.gz`` or
``.tgz``) holding one consistent copy of each database, taken with SQLite's
online backup API while the server may keep running::

    manifest.json                 format, version, time, event count, what is inside
    events.sqlite                 the event store (with the login throttle's table)
    read-models/<name>.sqlite     each read model (their own files next to the store), and the
                                  audit log's Merkle tree as read-models/seal.sqlite
    sms-outbox.sqlite             the SMS outbox / provider ids, when there is one

The read models are copied before the event store, so none is ahead of the
log it is restored with: followers carry on from their copied positions.

The events are encrypted with ``RANTAI_CIPHER_KEY`` and recipients keyed with
``RANTAI_NIK_SECRET`` (``var/secrets.env``). The archive holds neither, only a
fingerprint of the cipher key: keep the secrets file safe, and apart from the
backups. Restore refuses an archive written under another cipher key.

Restore replaces the databases the settings name (stop the server and the
worker first); a read model missing from the archive is removed ('rantai db
init' makes it again, empty, and the followers refill it from the log); an
outbox missing from it is left as it is. It refuses a store that already
holds events unless ``--force``, and anything that is not such an archive;
each refusal is one line on stderr and exit 1. On PostgreSQL both commands
exit 2: use ``pg_dump`` and ``pg_restore`` (README, "Backups").
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import typer

FORMAT = "rantai-sqlite-backup"
VERSION = 1
MANIFEST = "manifest.json"
EVENTS = "events.sqlite"
OUTBOX = "sms-outbox.sqlite"
SEAL = "seal"  # kept beside the read models in the archive (projections/seal.py names the file)
EVENTS_TABLE = "stored_events"  # the eventsourcing library's SQLite table of events


class Refused(Exception):
    """A backup or restore that cannot go ahead, with its one-line reason."""


def register(db: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``rantai db`` group."""
    db.command("backup")(backup)
    db.command("restore")(restore)


def backup(
    file: Path = typer.Argument(..., help="The archive to write (.tar; .tar.gz or .tgz to compress)"),
    force: bool = typer.Option(False, "--force", help="Overwrite FILE if it exists"),
) -> None:
    """Back up the SQLite event store, its read models and the SMS outbox into one archive (online)."""
    from interfaces.cli.terminal import console

    settings = _sqlite_settings("backup")
    try:
        summary = write_backup(settings, file, force=force)
    except Refused as refusal:
        _refuse(refusal)
    parts = [f"{summary['events']} events", f"{sum(name != SEAL for name in summary['read_models'])} read models"]
    parts += ["the audit log's tree"] if SEAL in summary["read_models"] else []
    parts += ["the SMS outbox"] if summary["sms_outbox"] else []
    console.print(f"Backed up {', '.join(parts[:-1])} and {parts[-1]} to {file}.")
    console.print("The archive holds no keys: keep var/secrets.env (RANTAI_CIPHER_KEY, RANTAI_NIK_SECRET) "
                  "safe and apart from it; a restore needs the same keys.")


def restore(
    file: Path = typer.Argument(..., help="An archive written by 'rantai db backup'"),
    force: bool = typer.Option(False, "--force", help="Replace an event store that already holds events"),
) -> None:
    """Restore the SQLite event store, read models and SMS outbox from a 'rantai db backup' archive."""
    from interfaces.cli.terminal import console

    settings = _sqlite_settings("restore")
    try:
        summary = restore_backup(settings, file, force=force)
    except Refused as refusal:
        _refuse(refusal)
    models = [name for name in summary["read_models"] if name != SEAL]
    console.print(f"Restored {summary['events']} events and {len(models)} read models "
                  f"(backed up {summary['created_at']}) to {summary['store']}.")
    for note in summary["notes"]:
        console.print(f"• {note}")


def _refuse(refusal: Refused) -> None:
    from interfaces.cli.terminal import errors

    errors.print(str(refusal), style="red", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(1)


def _sqlite_settings(command: str) -> Any:
    """The process's settings, when they name a SQLite store; otherwise exit 2."""
    from interfaces.bootstrap import default_settings
    from interfaces.cli.terminal import errors

    settings = default_settings()
    if urlparse(settings.database_url).scheme != "sqlite":
        errors.print(f"'rantai db {command}' works on the SQLite store only; on PostgreSQL use pg_dump "
                     "and pg_restore (README, \"Backups\").",
                     style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(2)
    return settings


def database_files(settings: Any) -> tuple[Path, dict[str, Path], Path]:
    """The event store's file, each read model's file (derived as the read models
    derive it: projections.catalog.view_env) and the SMS outbox's file."""
    from interfaces.settings import sqlite_path
    from projections.catalog import READ_MODELS, view_env

    store = sqlite_path(settings)
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(store)}
    read_models = {name: Path(view_env(env, name)["SQLITE_DBNAME"]) for name in READ_MODELS}
    read_models[SEAL] = store.with_name(f"{store.stem}.seal{store.suffix}")  # the tamper-evident log's tree
    return store, read_models, Path(settings.sms_outbox)


def key_fingerprint(settings: Any) -> str | None:
    """A fingerprint of the cipher key (not the key): enough to tell two keys apart."""
    key = settings.cipher_key
    return hashlib.sha256(key.encode()).hexdigest()[:16] if key else None


def write_backup(settings: Any, file: Path, *, force: bool = False) -> dict[str, Any]:
    """Copy every database with SQLite's online backup into the archive ``file``."""
    store, read_models, outbox = database_files(settings)
    if not store.is_file():
        raise Refused(f"There is no event store at {store}: nothing to back up.")
    if file.exists() and not force:
        raise Refused(f"{file} already exists: choose another name, or pass --force to overwrite it.")
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rantai-backup-") as tmp:
        copies: dict[str, Path] = {}
        manifest: dict[str, Any] = {
            "format": FORMAT, "version": VERSION, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "rantai": _version(), "cipher_key_sha256": key_fingerprint(settings),
            "events_file": EVENTS, "read_models": {}, "sms_outbox": None,
        }
        # Read models first, the log last: no read model is ahead of the events restored with it.
        for name, path in read_models.items():
            if path.is_file():
                member = f"read-models/{name}.sqlite"
                _online_copy(path, Path(tmp) / f"{name}.sqlite")
                copies[member] = Path(tmp) / f"{name}.sqlite"
                manifest["read_models"][name] = member
        if outbox.is_file():
            _online_copy(outbox, Path(tmp) / OUTBOX)
            copies[OUTBOX] = Path(tmp) / OUTBOX
            manifest["sms_outbox"] = OUTBOX
        _online_copy(store, Path(tmp) / EVENTS)
        copies[EVENTS] = Path(tmp) / EVENTS
        manifest["events"] = event_count(Path(tmp) / EVENTS)
        partial = file.with_name(f".{file.name}.partial")
        mode = "w:gz" if file.name.endswith((".gz", ".tgz")) else "w"
        try:
            with tarfile.open(partial, mode) as archive:  # type: ignore[call-overload]
                body = json.dumps(manifest, indent=2).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(body), int(datetime.now(UTC).timestamp()), 0o600
                archive.addfile(info, _bytes(body))
                for member, path in copies.items():
                    archive.add(path, arcname=member, recursive=False)
            partial.chmod(0o600)  # read models and the outbox hold personal data in clear
            os.replace(partial, file)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def restore_backup(settings: Any, file: Path, *, force: bool = False) -> dict[str, Any]:
    """Check the whole archive, then write each database into place (the event store last)."""
    from projections.catalog import READ_MODELS

    store, read_models, outbox = database_files(settings)
    with tempfile.TemporaryDirectory(prefix="rantai-restore-") as tmp:
        manifest, copies = _unpack(file, Path(tmp))
        theirs, ours = manifest.get("cipher_key_sha256"), key_fingerprint(settings)
        if theirs and ours and theirs != ours:
            raise Refused(f"{file} was written under another RANTAI_CIPHER_KEY: put that store's "
                          "var/secrets.env (or its RANTAI_* keys) in place first.")
        held = event_count(store) if store.is_file() and not force else 0
        if held and not force:
            raise Refused(f"The event store at {store} already holds {held} events: restoring would "
                          "replace them; pass --force to do so (stop the server and worker first).")
        notes: list[str] = []
        restored: list[str] = []
        for name, path in read_models.items():
            if name in copies:
                _write_into(copies[name], path)
                restored.append(name)
            elif path.exists():  # newer than the backup: its rows belong to the replaced log
                for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                    stale.unlink(missing_ok=True)
                notes.append(f"Read model {name} was not in the backup: run 'rantai db init' and the "
                             "worker (or 'rantai serve') fills it from the log.")
        for name in sorted(set(copies) - set(READ_MODELS) - {EVENTS, OUTBOX, SEAL}):
            notes.append(f"The backup's read model {name} is not one of this version's; left out.")
        if OUTBOX in copies:
            _write_into(copies[OUTBOX], outbox)
        _write_into(copies[EVENTS], store)
        if not ours:
            notes.append("No RANTAI_CIPHER_KEY is configured here: put the backed-up store's "
                         "var/secrets.env in place before using it (do not let 'rantai db init' make new keys).")
    return {"events": event_count(store), "read_models": restored, "created_at": manifest.get("created_at"),
            "store": store, "notes": notes}


def _unpack(file: Path, tmp: Path) -> tuple[dict[str, Any], dict[str, Path]]:
    """The manifest and each database, copied out and checked; any doubt refuses."""
    import re

    not_a_backup = f"{file} is not a rantai db backup"
    if not file.is_file():
        raise Refused(f"{file}: no such file.")
    try:
        with tarfile.open(file, "r:*") as archive:
            manifest = json.loads(_member(archive, MANIFEST).decode())
            if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
                raise Refused(f"{not_a_backup} (its manifest is not one).")
            if manifest.get("version") != VERSION:
                raise Refused(f"{file} is a backup of format version {manifest.get('version')}; "
                              f"this rantai reads version {VERSION}.")
            # Only the names this module writes are read, into names chosen here.
            wanted = {EVENTS: EVENTS}
            for name, member in dict(manifest.get("read_models") or {}).items():
                if not re.fullmatch(r"[a-z0-9_]+", str(name)) or member != f"read-models/{name}.sqlite":
                    raise Refused(f"{not_a_backup} (unexpected read model entry {name!r}).")
                wanted[name] = member
            if manifest.get("sms_outbox"):
                if manifest["sms_outbox"] != OUTBOX:
                    raise Refused(f"{not_a_backup} (unexpected outbox entry).")
                wanted[OUTBOX] = OUTBOX
            copies: dict[str, Path] = {}
            for key, member in wanted.items():
                target = tmp / f"{key}.sqlite"
                target.write_bytes(_member(archive, member))
                copies[key] = target
    except tarfile.ReadError:
        raise Refused(f"{not_a_backup} (not a tar archive).") from None
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())  # one line
        raise Refused(f"{not_a_backup} ({reason}).") from None
    for key, path in copies.items():
        if not _is_healthy_sqlite(path):
            raise Refused(f"{not_a_backup} (its {key} copy is not a sound SQLite database).")
    if not _has_events_table(copies[EVENTS]):
        raise Refused(f"{not_a_backup} (its event store has no {EVENTS_TABLE} table).")
    return manifest, copies


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        info = archive.getmember(name)
    except KeyError:
        raise Refused(f"{archive.name} is not a rantai db backup (no {name} inside).") from None
    extracted = archive.extractfile(info) if info.isfile() else None
    if extracted is None:
        raise Refused(f"{archive.name} is not a rantai db backup ({name} is not a file).")
    with extracted:
        return extracted.read()


def _bytes(body: bytes) -> Any:
    import io

    return io.BytesIO(body)


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rantai")
    except PackageNotFoundError:
        return None


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)


def _online_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: one consistent snapshot, writers carry on (WAL)."""
    try:
        with closing(_read_only(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst)
    except sqlite3.Error as error:
        raise Refused(f"Could not copy {source}: {error}.") from None


def _write_into(source: Path, target: Path) -> None:
    """Replace ``target``'s content with ``source``'s, through SQLite (its WAL and locks kept right)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target, timeout=30)) as dst:
            src.backup(dst)
    except sqlite3.Error as error:
        raise Refused(f"Could not write {target}: {error} (is a server or worker still using it?).") from None


def _is_healthy_sqlite(path: Path) -> bool:
    with path.open("rb") as file:
        if file.read(16) != b"SQLite format 3\x00":
            return False
    try:
        with closing(_read_only(path)) as db:
            return db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        return False


def _has_events_table(path: Path) -> bool:
    with closing(_read_only(path)) as db:
        return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (EVENTS_TABLE,)).fetchone() is not None


def event_count(path: Path) -> int:
    """How many events the store at ``path`` holds (0 without its table)."""
    try:
        with closing(_read_only(path)) as db:
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (EVENTS_TABLE,)).fetchone() is None:
                return 0
            return int(db.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}").fetchone()[0])
    except sqlite3.DatabaseError as error:
        raise Refused(f"{path} is not a readable SQLite event store ({error}).") from None

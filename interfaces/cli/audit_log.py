"""``rantai audit checkpoint | verify | prove | check-proof | public-key``: the tamper-evident log.

Exit codes other tools rely on: 0 all holds; 1 tampering found (the first
line on stdout then starts with ``TAMPERED`` and names the first event that
differs); 2 a usage error, a checkpoint or proof file that cannot be read, or
no connection to the store.

An inclusion proof is a JSON document (``projections/seal_proof.py``) that
``rantai audit check-proof`` checks with the checkpoint and the public key
alone, without the store.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated
from uuid import UUID

import psycopg
import typer

from domain.merkle import ProofError
from interfaces.cli import key_backup, key_rotation  # noqa: F401  (register rantai keys backup / restore / rotate-checkpoint)
from interfaces.cli.audit import audit
from interfaces.settings import MissingSecrets, Settings, event_store_env
from projections.checkpoints import (
    BadCheckpoint,
    Checkpoint,
    UnreadableCheckpoint,
    Key,
    check_origin,
    checkpoint_signer,
    read_any,
    read_verifier_keys,
    signing_key,
    verifier_key,
)
from projections.leaf_stream import HelperFailed
from projections.seal import Leaf, SealStore, Sealer, open_seal
from projections.seal_proof import RowNotSealed, check, proof_document, read_proof
from projections.seal_verify import Verifier, decrypter

UNREACHABLE = (psycopg.Error, sqlite3.Error)  # no connection, or no event store there

TEXT = "utf-8-sig"  # an auditor's files may start with a byte-order mark (Windows Notepad writes one)
CheckpointFile = Annotated[Path | None, typer.Option("--checkpoint", help="A checkpoint note kept by an auditor")]
KeyFile = Annotated[Path | None, typer.Option("--key", help="The log's public (verifier) keys, one a line, from "
                                                            "`rantai audit public-key [--all]`")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``message`` (plain: first line on stdout for code 1, stderr otherwise); the exit to raise."""
    typer.echo(message, err=code != 1)
    return typer.Exit(code)


def settings() -> Settings:
    """The settings; ones that cannot be read end the command (exit 2, not 1: that is tampering)."""
    from pydantic import ValidationError

    from interfaces.bootstrap import default_settings

    try:
        return default_settings()
    except ValidationError as error:
        wrong = ", ".join(f"RANTAI_{'_'.join(map(str, e['loc'])).upper()}" for e in error.errors())
        raise fail(f"The settings cannot be read: {wrong} (see the README's settings).") from None


def origin() -> str:
    """The log's name on its checkpoints; one that cannot be one ends the command (exit 2)."""
    try:
        return check_origin(settings().checkpoint_origin)
    except BadCheckpoint as error:
        raise fail(str(error)) from None


def write_out(out: Path, text: str) -> None:
    try:
        out.write_text(text)
    except OSError as error:
        raise fail(f"Cannot write {out}: {error.strerror or type(error).__name__}") from None


@contextmanager
def seal_store() -> Iterator[tuple[SealStore, dict[str, str]]]:
    """The seal of the configured store; no keys, a wrong URL or no connection end the command (exit 2)."""
    try:
        env = event_store_env(settings())
    except (MissingSecrets, ValueError) as error:
        raise fail(str(error)) from None
    store = open_seal(env)
    try:
        store.create_tables()
        yield store, env
    except UNREACHABLE as error:
        raise fail(f"The event store cannot be read: no connection, or no 'rantai db init' yet "
                   f"({type(error).__name__}).") from None
    except HelperFailed as error:  # no verdict either way
        raise fail(f"Verification stopped before the end: {error}.") from None
    finally:
        store.close()


def private_key():  # -> Ed25519PrivateKey
    seed = settings().checkpoint_key
    if not seed:
        raise fail("RANTAI_CHECKPOINT_KEY is not set: run 'rantai db init' (it adds one to var/secrets.env), "
                   "or restore the keys with 'rantai keys restore'.")
    try:
        return signing_key(seed)
    except BadCheckpoint as error:
        raise fail(str(error)) from None


def public_keys(file: Path | None) -> list[Key]:
    """The verifier keys in ``file`` (one a line), or the configured signing key's and those it replaced."""
    if file is None:
        return [(origin(), private_key().public_key()), *retired_keys()]
    try:
        keys = read_verifier_keys(file.read_text(encoding=TEXT))
    except (OSError, UnicodeDecodeError, BadCheckpoint) as error:
        raise fail(f"The public key {file} cannot be read: {error}") from None
    if not keys:
        raise fail(f"The public key {file} is empty.")
    return keys


def retired_keys() -> list[Key]:
    try:
        return read_verifier_keys(settings().checkpoint_retired_keys)
    except BadCheckpoint as error:
        raise fail(f"RANTAI_CHECKPOINT_RETIRED_KEYS: {error}") from None


def read_checkpoint(file: Path, keys: list[Key]) -> Checkpoint:
    """The checkpoint in ``file``: unreadable -> exit 2; a signature that does not verify -> TAMPERED, exit 1."""
    try:
        return read_any(file.read_text(encoding=TEXT), keys)
    except (OSError, UnicodeDecodeError, UnreadableCheckpoint) as error:
        raise fail(f"The checkpoint {file} cannot be read: {error}") from None
    except BadCheckpoint as error:
        raise fail(f"TAMPERED: the checkpoint {file}: {error}", 1) from None


def issue_checkpoint(store: SealStore) -> Checkpoint:
    """Seal the log to its end and sign (and store) a checkpoint of it."""
    try:
        signer = checkpoint_signer(origin(), private_key())
    except BadCheckpoint as error:
        raise fail(str(error)) from None
    return Sealer(store, signer=signer).checkpoint()


@audit.command("checkpoint")
def checkpoint(out: Annotated[Path | None, typer.Option("--out", help="Write it here (default: stdout)")] = None,
               ) -> None:
    """Seal the log to its end and write a signed checkpoint (size and root hash) for an auditor to keep."""
    with seal_store() as (store, _):
        note = issue_checkpoint(store).note
    if out is None:
        typer.echo(note, nl=False)
        return
    write_out(out, note)


@audit.command("public-key")
def public_key_command(out: Annotated[Path | None, typer.Option("--out", help="Write it here too")] = None,
                       every: Annotated[bool, typer.Option("--all", help="Also the keys it replaced (one a "
                                                                          "line), for older checkpoints")] = False,
                       ) -> None:
    """The key checkpoints are signed with, as a verifier key to publish beside them."""
    keys = public_keys(None) if every else [(origin(), private_key().public_key())]
    text = "".join(verifier_key(name, public) + "\n" for name, public in keys)
    typer.echo(text, nl=False)
    if out is not None:
        write_out(out, text)


@audit.command("verify")
def verify(brought: CheckpointFile = None, key_file: KeyFile = None) -> None:
    """Recompute the tree from the stored rows and compare it with the sealed tree and every checkpoint.

    Exit 0: everything holds. Exit 1: tampering (the first line names the first event that
    differs). Exit 2: usage, an unreadable checkpoint file, or no connection."""
    keys = public_keys(key_file) if key_file or settings().checkpoint_key else None
    if brought is not None and keys is None:
        raise fail("No public key to check the checkpoint with: give --key FILE.")
    with seal_store() as (store, env):
        kept = read_checkpoint(brought, keys) if brought is not None else None
        try:
            report = Verifier(store, decrypter(env), keys).verify(kept)
        except BadCheckpoint as error:  # stored checkpoints but no key to check them
            raise fail(str(error)) from None
    if not report.clean:
        raise fail("\n".join(report.lines()), 1)
    typer.echo(f"OK: {report.rows} events; {report.sealed} sealed, their tree matches; "
               f"{report.rows - report.sealed} not sealed yet, each decrypts; "
               f"{report.checkpoints} checkpoint(s) hold; root {report.root.hex()}")
    if kept is not None:
        how = (f"a consistency proof of {len(report.consistency)} hashes"
               if report.consistency is not None else "recomputing its root from the rows")
        typer.echo(f"The log extends the checkpoint of size {kept.size} ({how}).")


def originator(kind: str, ids: list[str]) -> str:
    """The aggregate id (32 hex digits) history knows ``KIND ID...`` by (``application.history.resolve``);
    a kind it does not know or the wrong number of ids end the command with exit 2, an unknown one with 1."""
    from application.errors import NotFound
    from application.history import UnknownKind, resolve
    from interfaces.bootstrap import open_campaign

    try:
        app = open_campaign(settings())
    except (MissingSecrets, ValueError) as error:
        raise fail(str(error)) from None
    try:
        return resolve(app, kind, ids).aggregate_id.hex
    except UnknownKind as error:
        raise fail(str(error)) from None
    except NotFound as error:
        raise fail(str(error), 1) from None
    finally:
        app.close()


@audit.command("prove")
def prove(kind: Annotated[str, typer.Argument(help="shipment, lot, stock, recipient, session, blast or user")],
          ids_and_version: Annotated[list[str], typer.Argument(help="ID... VERSION", metavar="ID... VERSION")],
          brought: CheckpointFile = None, key_file: KeyFile = None,
          out: Annotated[Path | None, typer.Option("--out", help="Write the proof here (default: stdout)")] = None,
          ) -> None:
    """An inclusion proof of one stored event, for the latest checkpoint (or the one given)."""
    *ids, version_text = ids_and_version
    if not version_text.isdigit():
        raise fail("The last argument is the event's version (a number).")
    aggregate_id = originator(kind, ids)
    with seal_store() as (store, _):
        Sealer(store).seal()
        leaf = store.leaf_of_event(aggregate_id, int(version_text))
        if leaf is None:
            raise fail(f"No sealed event {version_text} of that {kind}.", 1)
        checkpoint = read_checkpoint(brought, public_keys(key_file)) if brought else latest_checkpoint(store, leaf)
        if leaf.index >= checkpoint.size:
            raise fail(f"The checkpoint of size {checkpoint.size} predates that event (leaf {leaf.index}).")
        try:
            proof = proof_document(store, leaf, checkpoint)
        except RowNotSealed as error:
            raise fail(f"TAMPERED: {error}", 1) from None
    text = json.dumps(proof, indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        write_out(out, text)


def latest_checkpoint(store: SealStore, leaf: Leaf) -> Checkpoint:
    stored = store.checkpoints()
    if stored and stored[-1][0] > leaf.index:
        return read_any(stored[-1][2], public_keys(None))
    return issue_checkpoint(store)


@audit.command("check-proof")
def check_proof(
    proof_file: Annotated[Path, typer.Option("--proof", help="A proof from `rantai audit prove`")],
    key_file: Annotated[Path, typer.Option("--key", help="The log's published verifier key")],
    brought: CheckpointFile = None,
) -> None:
    """Check an inclusion proof with a checkpoint and the public key alone (no store needed).

    Without --checkpoint, the checkpoint inside the proof is used (its signature still checked)."""
    keys = public_keys(key_file)
    try:
        row, index, size, path, note = read_proof(json.loads(proof_file.read_text(encoding=TEXT)))
        note = brought.read_text(encoding=TEXT) if brought else note
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise fail(f"The proof cannot be read ({type(error).__name__}).") from None
    try:
        checkpoint = read_any(note, keys)
    except UnreadableCheckpoint as error:
        raise fail(f"The checkpoint cannot be read: {error}") from None
    except BadCheckpoint as error:
        raise fail(f"TAMPERED: {error}", 1) from None
    if checkpoint.size != size:
        raise fail(f"The proof is for a log of {size} events, the checkpoint for {checkpoint.size}: ask for a "
                   "proof against this checkpoint (rantai audit prove … --checkpoint FILE).")
    try:
        check(row, index, path, checkpoint)
    except ProofError as error:
        raise fail(f"TAMPERED: the proof does not hold: {error}", 1) from None
    typer.echo(f"OK: event {row[2]} of aggregate {UUID(hex=row[1])} (log position {row[0]}) is leaf {index} "
               f"of the log of {size} events signed by {checkpoint.origin}.")

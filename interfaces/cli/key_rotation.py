"""``rantai keys rotate-checkpoint``: sign the sealed log's checkpoints with a new key from now on.

For a key that may have leaked, or a custodian who leaves. The log is first
sealed to its end and a last checkpoint signed with the present key, so that
everything up to the rotation is covered by it. The present key's public half
then joins ``RANTAI_CHECKPOINT_RETIRED_KEYS`` (verifier keys, space-separated),
so that the checkpoints it signed still verify; a checkpoint names its
signer's key by the key's id, and a retired key never signs again. Auditors
are given the new public key and keep the old ones.

Only the secrets file the server reads is rotated, and only when it holds the
key in use: keys set in the environment are rotated where it is set. Nothing
is signed before the file is known to be readable and writable, and the file
is replaced in one step (a link is followed: its target is replaced).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path
from typing import Annotated

import typer
from dotenv import dotenv_values

from interfaces.cli.audit import keys
from interfaces.settings import SECRETS_FILE
from projections.checkpoints import new_signing_key, signing_key, verifier_key

KEY, RETIRED = "RANTAI_CHECKPOINT_KEY", "RANTAI_CHECKPOINT_RETIRED_KEYS"
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def name_of(line: str) -> str | None:
    """The name a ``NAME=value`` line of a secrets file sets (``export`` allowed), else None."""
    found = ASSIGNMENT.match(line)
    return found.group(1) if found else None


@keys.command("rotate-checkpoint")
def rotate_checkpoint(
    secrets_file: Annotated[Path, typer.Option("--secrets", help="The secrets file that holds the key")] = SECRETS_FILE,
) -> None:
    """Sign checkpoints with a new key from now on (the present one signs a last checkpoint first, and
    its public key is kept so that the checkpoints it signed still verify)."""
    from interfaces.bootstrap import default_settings
    from interfaces.cli.audit_log import fail, issue_checkpoint, origin, private_key, retired_keys, seal_store, settings

    for name in (KEY, RETIRED):
        if name in os.environ:
            raise fail(f"{name} is set in the environment, which wins over {secrets_file}: rotate the key where "
                       f"the environment is set (and keep the present key's public half in {RETIRED}).")
    target = secrets_file.resolve()
    try:
        text = target.read_text()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise fail(f"{secrets_file} cannot be read: {reason}.") from None
    held = dotenv_values(stream=io.StringIO(text)).get(KEY)  # read as the settings read it
    if not held:
        raise fail(f"{secrets_file} holds no {KEY}: there is no key to rotate.")
    if held != settings().checkpoint_key:
        raise fail(f"{secrets_file} holds another checkpoint key than the one in use: give the secrets file "
                   "the server reads (var/secrets.env where `rantai serve` runs).")
    if not os.access(target.parent, os.W_OK) or not os.access(target, os.W_OK):
        raise fail(f"{secrets_file} cannot be replaced (no write permission): nothing was changed.")
    present, name = private_key(), origin()
    retired = [verifier_key(key_name, public) for key_name, public in retired_keys()]
    with seal_store() as (store, _):
        last = issue_checkpoint(store)
    seed = new_signing_key()
    kept = [line for line in text.splitlines() if name_of(line) not in (KEY, RETIRED)]
    rotated = "".join(f"{line}\n" for line in [*kept, f"{KEY}={seed}",
                                                f"{RETIRED}={' '.join([*retired, verifier_key(name, present.public_key())])}"])
    replace(target, rotated, fail)
    default_settings.cache_clear()
    typer.echo(f"A last checkpoint was signed with the present key: {last.size} events.")
    typer.echo(f"New checkpoint key written to {secrets_file}. Its public key, to publish beside the old one(s):")
    typer.echo(verifier_key(name, signing_key(seed).public_key()))
    typer.echo(f"The replaced key's public half is kept in {RETIRED}: the checkpoints it signed still verify. "
               "Restart rantai worker and rantai serve so that they sign with the new key.")


def replace(target: Path, text: str, fail) -> None:  # noqa: ANN001 - audit_log.fail
    """Write ``text`` to a new file readable by its owner alone, then put it in ``target``'s place at once."""
    temporary = target.with_name(f".{target.name}.new")
    try:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(text)
        os.replace(temporary, target)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise fail(f"{target} could not be replaced ({error.strerror or type(error).__name__}): the present key "
                   "stays in use; its last checkpoint is signed, which does no harm.") from None

"""``rantai keys rotate-checkpoint``: sign the sealed log's checkpoints with a new key from now on.

For a key that may have leaked, or a custodian who leaves. The log is first
sealed to its end and a last checkpoint signed with the present key, so that
everything up to the rotation is covered by it. The present key's public half
then joins ``RANTAI_CHECKPOINT_RETIRED_KEYS`` (verifier keys, space-separated),
so that the checkpoints it signed still verify; a checkpoint names its
signer's key by the key's id, and a retired key never signs again. Auditors
are given the new public key and keep the old ones.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from interfaces.cli.audit import keys
from interfaces.settings import SECRETS_FILE
from projections.checkpoints import new_signing_key, signing_key, verifier_key

KEY, RETIRED = "RANTAI_CHECKPOINT_KEY", "RANTAI_CHECKPOINT_RETIRED_KEYS"


@keys.command("rotate-checkpoint")
def rotate_checkpoint(
    secrets_file: Annotated[Path, typer.Option("--secrets", help="The secrets file that holds the key")] = SECRETS_FILE,
) -> None:
    """Sign checkpoints with a new key from now on (the present one signs a last checkpoint first, and
    its public key is kept so that the checkpoints it signed still verify)."""
    from interfaces.bootstrap import default_settings
    from interfaces.cli.audit_log import fail, issue_checkpoint, private_key, retired_keys, seal_store, settings

    if os.environ.get(KEY):
        raise fail(f"{KEY} comes from the environment: rotate it where the environment is set (keep the present "
                   f"key's public half in {RETIRED}).")
    if not secrets_file.exists() or not any(line.startswith(f"{KEY}=") for line in secrets_file.read_text().split()):
        raise fail(f"{secrets_file} holds no {KEY}: there is no key to rotate.")
    present, origin = private_key(), settings().checkpoint_origin
    retired = [verifier_key(name, public) for name, public in retired_keys()]
    with seal_store() as (store, _):
        last = issue_checkpoint(store)
    replaced = verifier_key(origin, present.public_key())
    seed = new_signing_key()
    kept = [line for line in secrets_file.read_text().splitlines() if line.split("=", 1)[0] not in (KEY, RETIRED)]
    lines = [*kept, f"{KEY}={seed}", f"{RETIRED}={' '.join([*retired, replaced])}"]
    temporary = secrets_file.with_name(secrets_file.name + ".new")
    temporary.write_text("".join(f"{line}\n" for line in lines))
    temporary.chmod(0o600)
    temporary.replace(secrets_file)  # at once: never a file with neither key
    default_settings.cache_clear()
    typer.echo(f"A last checkpoint was signed with the present key: {last.size} events.")
    typer.echo(f"New checkpoint key written to {secrets_file}. Its public key, to publish beside the old one(s):")
    typer.echo(verifier_key(origin, signing_key(seed).public_key()))
    typer.echo(f"The replaced key's public half is kept in {RETIRED}: the checkpoints it signed still verify. "
               "Restart rantai worker and rantai serve so that they sign with the new key.")

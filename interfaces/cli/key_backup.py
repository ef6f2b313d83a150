"""``rantai keys backup | restore``: the keys without which the log is lost.

The event cipher key decrypts every stored event, the NIK secret finds a
recipient by NIK, the checkpoint key signs the sealed log (and the gateway
secret authenticates the SMS provider). The backup is one JSON file: those
values encrypted with AES-256-GCM under a key derived from a passphrase by
scrypt (N=2**15, r=8, p=1, a random salt), so the file can sit with the
database backups and the passphrase with the people who hold it (README,
"Keys").
"""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from interfaces.cli.audit import keys
from interfaces.settings import SECRETS_FILE

FORMAT = "rantai-keys/1"
KEYS = ("RANTAI_CIPHER_KEY", "RANTAI_NIK_SECRET", "RANTAI_CHECKPOINT_KEY", "RANTAI_GATEWAY_SECRET",
        "RANTAI_CHECKPOINT_RETIRED_KEYS")  # the last: public keys a rotation replaced (older checkpoints need them)
REQUIRED = KEYS[:3]
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
MIN_PASSPHRASE = 12

PassphraseStdin = Annotated[bool, typer.Option("--passphrase-stdin", help="Read the passphrase from stdin's first "
                                                                          "line instead of prompting")]


class WrongPassphrase(ValueError):
    pass


def derive(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    return Scrypt(salt=salt, length=32, **params).derive(passphrase.encode())


def seal_keys(values: dict[str, str], passphrase: str) -> dict[str, object]:
    salt, nonce = os.urandom(16), os.urandom(12)
    box = AESGCM(derive(passphrase, salt, SCRYPT)).encrypt(nonce, json.dumps(values).encode(), FORMAT.encode())
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731
    return {"format": FORMAT, "kdf": {"name": "scrypt", **SCRYPT, "salt": encode(salt)},
            "nonce": encode(nonce), "ciphertext": encode(box)}


def open_keys(document: dict, passphrase: str) -> dict[str, str]:
    """The keys in a backup; ``WrongPassphrase`` if it does not open, ``ValueError`` if it is not one."""
    if document.get("format") != FORMAT or document.get("kdf", {}).get("name") != "scrypt":
        raise ValueError("not a Rantai key backup")
    kdf = document["kdf"]
    params = {name: int(kdf[name]) for name in ("n", "r", "p")}
    if params["n"] > 2**20 or params["r"] > 32 or params["p"] > 16:  # a hostile file cannot make us spin
        raise ValueError("scrypt parameters out of range")
    key = derive(passphrase, base64.b64decode(kdf["salt"]), params)
    try:
        plain = AESGCM(key).decrypt(base64.b64decode(document["nonce"]), base64.b64decode(document["ciphertext"]),
                                    FORMAT.encode())
    except InvalidTag:
        raise WrongPassphrase from None
    return {name: str(value) for name, value in json.loads(plain).items() if name in KEYS}


def passphrase(from_stdin: bool, confirm: bool) -> str:
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
    else:
        text = typer.prompt("Passphrase", hide_input=True, confirmation_prompt=confirm)
    if len(text) < MIN_PASSPHRASE:
        typer.echo(f"The passphrase needs at least {MIN_PASSPHRASE} characters.", err=True)
        raise typer.Exit(2)
    return text


def current_keys() -> dict[str, str]:
    """The keys this process runs with (environment, then var/secrets.env)."""
    from interfaces.bootstrap import default_settings

    settings = default_settings()
    values = {"RANTAI_CIPHER_KEY": settings.cipher_key, "RANTAI_NIK_SECRET": settings.nik_secret,
              "RANTAI_CHECKPOINT_KEY": settings.checkpoint_key, "RANTAI_GATEWAY_SECRET": settings.gateway_secret,
              "RANTAI_CHECKPOINT_RETIRED_KEYS": settings.checkpoint_retired_keys}
    return {name: value for name, value in values.items() if value}


@keys.command("backup")
def backup(file: Path, from_stdin: PassphraseStdin = False,
           force: Annotated[bool, typer.Option("--force", help="Replace an existing file")] = False) -> None:
    """Write the event cipher key, the NIK secret and the checkpoint signing key, encrypted with a passphrase."""
    values = current_keys()
    missing = [name for name in REQUIRED if name not in values]
    if missing:
        typer.echo(f"Not set: {', '.join(missing)} (run 'rantai db init' first).", err=True)
        raise typer.Exit(2)
    if file.exists() and not force:
        typer.echo(f"{file} exists; give --force to replace it.", err=True)
        raise typer.Exit(2)
    document = seal_keys(values, passphrase(from_stdin, confirm=True))
    file.write_text(json.dumps(document, indent=2) + "\n")
    file.chmod(0o600)
    typer.echo(f"{len(values)} keys written to {file}, encrypted with the passphrase. Keep the passphrase apart "
               "from the file.")


@keys.command("restore")
def restore(file: Path, from_stdin: PassphraseStdin = False,
            to: Annotated[Path, typer.Option("--to", help="The secrets file to write")] = SECRETS_FILE,
            force: Annotated[bool, typer.Option("--force", help="Replace keys that differ")] = False) -> None:
    """Put the keys of a backup back into the secrets file (var/secrets.env)."""
    try:
        document = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, ValueError):
        typer.echo(f"{file} cannot be read as a key backup.", err=True)
        raise typer.Exit(2) from None
    try:
        values = open_keys(document, passphrase(from_stdin, confirm=False))
    except WrongPassphrase:
        typer.echo("Wrong passphrase (or the file was changed): nothing restored.", err=True)
        raise typer.Exit(1) from None
    except (ValueError, KeyError, TypeError, AttributeError):
        typer.echo(f"{file} is not a Rantai key backup.", err=True)
        raise typer.Exit(2) from None
    lines = to.read_text().splitlines() if to.exists() else []
    present = dict(line.split("=", 1) for line in lines if "=" in line)
    differ = [name for name, value in values.items() if present.get(name) not in (None, value)]
    if differ and not force:
        typer.echo(f"{to} holds other values for {', '.join(differ)}: events sealed with the present keys would "
                   "become unreadable. Give --force only if the present keys are the wrong ones.", err=True)
        raise typer.Exit(1)
    kept = [line for line in lines if line.split("=", 1)[0] not in values]
    to.parent.mkdir(parents=True, exist_ok=True)
    to.write_text("".join(f"{line}\n" for line in kept) + "".join(f"{n}={v}\n" for n, v in values.items()))
    to.chmod(0o600)
    typer.echo(f"{len(values)} keys restored to {to}.")

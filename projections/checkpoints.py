"""Signed checkpoints of the sealed log, as transparency logs write them.

A checkpoint is a note (C2SP ``tlog-checkpoint`` / ``signed-note``): the
log's origin, its size and its root hash in base64, each on a line, then a
blank line and one signature line per signer::

    rantai/campaign
    41237
    hM3xF3o...=

    — rantai/campaign Ab3dE...==

The signature is Ed25519 over the text above the blank line; the base64 on
the signature line is the key's 4-byte id followed by the 64-byte signature,
and the key is published as a verifier key ``name+keyid+base64(0x01||key)``.
An auditor who keeps a checkpoint and the public key can later check, with
nothing else from the operator, that the log still holds what it held then
(a consistency proof) and that one event is in it (an inclusion proof).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"  # the signed-note algorithm byte for Ed25519
DASH = "\u2014"


class BadCheckpoint(ValueError):
    """A checkpoint whose signature does not verify (or that cannot be read)."""


class UnreadableCheckpoint(BadCheckpoint):
    """Not a checkpoint note at all."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: str  # the whole signed text

    @property
    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def new_signing_key() -> str:
    """A new Ed25519 private key (its 32-byte seed, base64), for ``var/secrets.env``."""
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    return base64.b64encode(raw).decode()


def signing_key(seed: str) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(seed, validate=True))
    except (ValueError, binascii.Error) as error:
        raise BadCheckpoint("the checkpoint signing key is not a base64 Ed25519 seed of 32 bytes") from error


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: Ed25519PublicKey) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + raw_public(public)).digest()[:4]


def verifier_key(name: str, public: Ed25519PublicKey) -> str:
    """The public key as a signed-note verifier key: ``name+keyid(hex)+base64(0x01 || key)``."""
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(ED25519 + raw_public(public)).decode()}"


def read_verifier_key(text: str) -> tuple[str, Ed25519PublicKey]:
    """(name, public key) of a verifier key; ``BadCheckpoint`` if it is not one."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)  # base64 may hold "+" too; a name may not
        raw = base64.b64decode(encoded, validate=True)
        if raw[:1] != ED25519 or len(raw) != 33:
            raise ValueError("not an Ed25519 key")
        public = Ed25519PublicKey.from_public_bytes(raw[1:])
    except (ValueError, binascii.Error) as error:
        raise BadCheckpoint("the public key is not a verifier key (name+keyid+base64)") from error
    if key_id(name, public).hex() != hex_id:
        raise BadCheckpoint("the public key's id does not match its name and key")
    return name, public


def sign(origin: str, size: int, root: bytes, key: Ed25519PrivateKey) -> Checkpoint:
    unsigned = Checkpoint(origin, size, root, "")
    body = unsigned.body
    signature = key_id(origin, key.public_key()) + key.sign(body.encode())
    note = f"{body}\n{DASH} {origin} {base64.b64encode(signature).decode()}\n"
    return Checkpoint(origin, size, root, note)


def check_origin(origin: str) -> str:
    """A log's name on its checkpoints and keys: one word without '+'."""
    if not origin or "+" in origin or any(c.isspace() for c in origin):
        raise BadCheckpoint("a checkpoint's origin is one word without '+' (RANTAI_CHECKPOINT_ORIGIN)")
    return origin


def checkpoint_signer(origin: str, key: Ed25519PrivateKey) -> Callable[[int, bytes], Checkpoint]:
    """What a sealer calls to sign a checkpoint of (size, root)."""
    check_origin(origin)
    return lambda size, root: sign(origin, size, root, key)


def read_unsigned(note: str) -> Checkpoint:
    """The checkpoint in ``note``, its signatures not checked (the server serving its own)."""
    body, separator, _ = note.partition("\n\n")
    lines = body.split("\n")
    if not separator or len(lines) < 3:
        raise UnreadableCheckpoint("this is not a checkpoint note (origin, size and root, a blank line, signatures)")
    origin, size_text, root_text = lines[:3]
    try:
        size = int(size_text)
        root = base64.b64decode(root_text, validate=True)
    except (ValueError, binascii.Error) as error:
        raise UnreadableCheckpoint("the checkpoint's size or root hash cannot be read") from error
    if size < 0 or len(root) != 32 or size_text != str(size):
        raise UnreadableCheckpoint("the checkpoint's size or root hash cannot be read")
    return Checkpoint(origin, size, root, note)


Key = tuple[str, Ed25519PublicKey]  # (name, public key): a verifier key


def read(note: str, name: str, public: Ed25519PublicKey) -> Checkpoint:
    """The checkpoint in ``note`` once a signature by (``name``, ``public``) verifies on it."""
    return read_any(note, [(name, public)])


def read_any(note: str, keys: Sequence[Key]) -> Checkpoint:
    """The checkpoint in ``note`` once a signature by one of ``keys`` verifies on it (a log's
    signing key and the ones it replaced: a checkpoint names its signer's key by its id)."""
    checkpoint = read_unsigned(note)
    body, _, signatures = note.partition("\n\n")
    wanted = {(name, key_id(name, public)): (name, public) for name, public in keys}
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            continue
        try:
            signature = base64.b64decode(parts[2], validate=True)
        except binascii.Error:
            continue
        key = wanted.get((parts[1], signature[:4]))
        if key is None:
            continue
        try:
            key[1].verify(signature[4:], (body + "\n").encode())
        except InvalidSignature:
            raise BadCheckpoint(f"the signature of {key[0]} on the checkpoint of size {checkpoint.size} "
                                "does not verify") from None
        return checkpoint
    names = " or ".join(sorted({name for name, _ in keys}))
    known = f" (under any of its {len(keys)} keys)" if len(keys) > 1 else ""
    raise BadCheckpoint(f"the checkpoint of size {checkpoint.size} carries no signature by {names}{known}")


def read_verifier_keys(text: str) -> list[Key]:
    """Every verifier key in ``text`` (one per line or separated by spaces); ``BadCheckpoint`` if one is not."""
    return [read_verifier_key(word) for word in text.split()]

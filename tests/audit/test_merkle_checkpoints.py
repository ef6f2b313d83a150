"""Checkpoint notes: the transparency-log format, Ed25519 signatures that
verify only on the signed text and only with the right key."""

from __future__ import annotations

import base64

import pytest

from domain.merkle import leaf_hash, root_of
from projections.checkpoints import (
    BadCheckpoint,
    UnreadableCheckpoint,
    checkpoint_signer,
    key_id,
    new_signing_key,
    raw_public,
    read,
    read_verifier_key,
    sign,
    signing_key,
    verifier_key,
)

KEY = signing_key(new_signing_key())
ROOT = root_of([leaf_hash(b"%d" % i) for i in range(41)])


def test_a_checkpoint_is_a_signed_note_in_the_transparency_log_format() -> None:
    note = sign("rantai/campaign", 41, ROOT, KEY).note
    lines = note.split("\n")
    assert lines[:4] == ["rantai/campaign", "41", base64.b64encode(ROOT).decode(), ""]
    dash, name, signature = lines[4].split(" ")
    assert (dash, name) == ("\u2014", "rantai/campaign") and lines[5:] == [""]
    raw = base64.b64decode(signature)
    assert raw[:4] == key_id("rantai/campaign", KEY.public_key()) and len(raw) == 4 + 64
    KEY.public_key().verify(raw[4:], "\n".join(lines[:3]).encode() + b"\n")  # signed: the text above the blank line
    checkpoint = read(note, "rantai/campaign", KEY.public_key())
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == ("rantai/campaign", 41, ROOT)


def test_a_changed_size_or_root_or_another_key_does_not_verify() -> None:
    note = sign("rantai/campaign", 41, ROOT, KEY).note
    with pytest.raises(BadCheckpoint, match="does not verify"):
        read(note.replace("\n41\n", "\n42\n", 1), "rantai/campaign", KEY.public_key())
    other_root = base64.b64encode(bytes(32)).decode()
    with pytest.raises(BadCheckpoint, match="does not verify"):
        read(note.replace(base64.b64encode(ROOT).decode(), other_root, 1), "rantai/campaign", KEY.public_key())
    with pytest.raises(BadCheckpoint, match="no signature"):
        read(note, "rantai/campaign", signing_key(new_signing_key()).public_key())
    with pytest.raises(UnreadableCheckpoint):
        read("rantai/campaign\nforty-one\n\n", "rantai/campaign", KEY.public_key())


def test_a_verifier_key_reads_back_whatever_its_base64_holds() -> None:
    for _ in range(64):  # about half of the keys' base64 holds a "+"
        public = signing_key(new_signing_key()).public_key()
        name, back = read_verifier_key(verifier_key("rantai/campaign", public))
        assert name == "rantai/campaign" and raw_public(back) == raw_public(public)
    with pytest.raises(BadCheckpoint):
        read_verifier_key("rantai/campaign+00000000+" + base64.b64encode(b"\x01" + bytes(32)).decode())
    for origin in ("", "two words", "a+b"):
        with pytest.raises(BadCheckpoint):
            checkpoint_signer(origin, KEY)

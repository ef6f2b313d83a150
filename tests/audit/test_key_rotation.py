"""``rantai keys rotate-checkpoint``: checkpoints are signed with a new key from then on, the ones
the old key signed still verify (its public half is kept), and an auditor given only one of the
keys is told which checkpoints it cannot vouch for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from projections.checkpoints import BadCheckpoint, new_signing_key, read_any, read_verifier_keys

KEY, RETIRED = "RANTAI_CHECKPOINT_KEY", "RANTAI_CHECKPOINT_RETIRED_KEYS"


@pytest.fixture
def filed(rantai, chain, monkeypatch, tmp_path):
    """The checkpoint key in var/secrets.env (where `rantai db init` puts it), not in the environment."""
    from interfaces.bootstrap import default_settings

    monkeypatch.delenv(KEY, raising=False)
    monkeypatch.delenv(RETIRED, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "secrets.env").write_text(f"RANTAI_OTHER=kept\n{KEY}={new_signing_key()}\n")
    default_settings.cache_clear()
    chain.release("CV001", 200)
    return rantai, chain, tmp_path


def secrets(tmp: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in (tmp / "var" / "secrets.env").read_text().splitlines())


def test_checkpoints_signed_before_a_rotation_still_verify(filed) -> None:
    rantai, chain, tmp = filed
    # Given a checkpoint an auditor kept, and the public key of the time
    assert rantai("audit", "checkpoint", "--out", "old.txt").exit_code == 0
    assert rantai("audit", "public-key", "--out", "old.pub").exit_code == 0
    old_key = secrets(tmp)[KEY]
    # When the key is rotated, and the log grows and is checkpointed under the new key
    result = rantai("keys", "rotate-checkpoint")
    assert result.exit_code == 0, result.output
    assert "A last checkpoint was signed with the present key" in result.stdout
    kept = secrets(tmp)
    assert kept[KEY] != old_key and kept["RANTAI_OTHER"] == "kept"
    assert [name for name, _ in read_verifier_keys(kept[RETIRED])] == ["rantai/campaign"]
    assert (tmp / "old.pub").read_text().strip() in kept[RETIRED]
    new_public = result.stdout.splitlines()[2]
    chain.receive_all(chain.ship("BIOFARMA", "32", ("CV001", 10)))
    assert rantai("audit", "checkpoint", "--out", "new.txt").exit_code == 0
    # Then the new checkpoint is the new key's alone
    new_note = (tmp / "new.txt").read_text()
    read_any(new_note, read_verifier_keys(new_public))
    with pytest.raises(BadCheckpoint):
        read_any(new_note, read_verifier_keys((tmp / "old.pub").read_text()))
    # and every stored checkpoint, old and new, verifies, as does the auditor's old one
    result = rantai("audit", "verify", "--checkpoint", "old.txt")
    assert result.exit_code == 0, result.output
    assert "3 checkpoint(s) hold" in result.stdout
    # and an auditor holding both public keys (public-key --all) verifies too
    assert rantai("audit", "public-key", "--all", "--out", "all.pub").exit_code == 0
    assert len((tmp / "all.pub").read_text().splitlines()) == 2
    assert rantai("audit", "verify", "--checkpoint", "old.txt", "--key", "all.pub").exit_code == 0
    # but one given only the old key is told that the newer checkpoints carry no signature it knows
    result = rantai("audit", "verify", "--key", "old.pub")
    assert result.exit_code == 1
    assert result.stdout.startswith("TAMPERED") and "carries no signature by rantai/campaign" in result.stdout


def test_without_the_replaced_public_key_the_old_checkpoints_do_not_verify(filed) -> None:
    rantai, _, tmp = filed
    assert rantai("audit", "checkpoint").exit_code == 0
    assert rantai("keys", "rotate-checkpoint").exit_code == 0
    # When the retired keys are lost
    lines = (tmp / "var" / "secrets.env").read_text().splitlines()
    (tmp / "var" / "secrets.env").write_text("".join(f"{line}\n" for line in lines if not line.startswith(RETIRED)))
    from interfaces.bootstrap import default_settings

    default_settings.cache_clear()
    # Then the checkpoints the old key signed cannot be vouched for
    result = rantai("audit", "verify")
    assert result.exit_code == 1 and "carries no signature" in result.stdout, result.output


def test_what_cannot_be_rotated_safely_is_refused_and_nothing_changes(filed, monkeypatch) -> None:
    from interfaces.bootstrap import default_settings

    rantai, _, tmp = filed
    secrets_file = tmp / "var" / "secrets.env"
    before = secrets_file.read_text()

    def refused(*args: str) -> str:
        default_settings.cache_clear()
        result = rantai("keys", "rotate-checkpoint", *args)
        assert result.exit_code == 2, result.output  # a usage error, not a traceback (1)
        assert secrets_file.read_text() == before
        return result.output

    # a key, or the retired keys (even empty), set in the environment: it wins over the file
    for name, value in ((KEY, new_signing_key()), (RETIRED, "")):
        monkeypatch.setenv(name, value)
        assert "is set in the environment" in refused()
        monkeypatch.delenv(name)
    # a file that is missing, a directory, not text, or holds no key
    assert "cannot be read" in refused("--secrets", str(tmp / "missing.env"))
    assert "cannot be read" in refused("--secrets", str(tmp / "var"))
    (tmp / "binary.env").write_bytes(b"\xff\xfe\x00")
    assert "cannot be read" in refused("--secrets", str(tmp / "binary.env"))
    (tmp / "empty.env").write_text("RANTAI_OTHER=1\n")
    assert "holds no RANTAI_CHECKPOINT_KEY" in refused("--secrets", str(tmp / "empty.env"))
    # another file's key than the one in use (it would be discarded, and the one in use stay active)
    (tmp / "other.env").write_text(f"{KEY}={new_signing_key()}\n")
    assert "another checkpoint key than the one in use" in refused("--secrets", str(tmp / "other.env"))
    assert (tmp / "other.env").read_text().count(KEY) == 1
    # a file that cannot be replaced
    secrets_file.chmod(0o400)
    try:
        if not os.access(secrets_file, os.W_OK):  # (root may write anyway)
            assert "cannot be replaced" in refused()
    finally:
        secrets_file.chmod(0o600)
    assert not list((tmp / "var").glob(".*.new"))


def test_export_lines_quotes_and_a_linked_secrets_file_are_rotated_in_place(filed) -> None:
    from interfaces.bootstrap import default_settings

    rantai, _, tmp = filed
    seed = new_signing_key()
    real = tmp / "keys" / "secrets.env"
    real.parent.mkdir()
    real.write_text(f"RANTAI_OTHER=kept\nexport {KEY} = \"{seed}\"\n")
    (tmp / "var" / "secrets.env").unlink()
    (tmp / "var" / "secrets.env").symlink_to(real)
    default_settings.cache_clear()
    assert default_settings().checkpoint_key == seed  # the settings read it so
    result = rantai("keys", "rotate-checkpoint")
    assert result.exit_code == 0, result.output
    assert (tmp / "var" / "secrets.env").is_symlink()  # the link kept; its target rotated
    text = real.read_text()
    assert seed not in text.split(f"{RETIRED}=")[0]  # the old private key is gone, not left beside the new one
    assert text.count(f"{KEY}=") == 1 and "RANTAI_OTHER=kept" in text
    assert oct(real.stat().st_mode & 0o777) == "0o600"
    default_settings.cache_clear()
    assert default_settings().checkpoint_key not in (None, seed)
    assert rantai("audit", "verify").exit_code == 0

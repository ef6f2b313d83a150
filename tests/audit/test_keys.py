"""``rantai keys backup | restore``: the keys leave only encrypted with a passphrase,
come back only with it, and never silently replace different keys."""

from __future__ import annotations

import json

import pytest

from projections.checkpoints import new_signing_key

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keyed(rantai, settings, monkeypatch, tmp_path):
    monkeypatch.setenv("RANTAI_CHECKPOINT_KEY", new_signing_key())
    monkeypatch.chdir(tmp_path)
    return rantai, settings, tmp_path


def run_with_input(rantai, text: str, *args: str):
    from typer.testing import CliRunner

    from interfaces.cli.main import app as cli

    return CliRunner().invoke(cli, list(args), input=text)


def test_keys_round_trip_through_an_encrypted_backup(keyed) -> None:
    rantai, settings, tmp = keyed
    # Given a backup
    result = run_with_input(rantai, PASSPHRASE + "\n", "keys", "backup", "keys.json", "--passphrase-stdin")
    assert result.exit_code == 0, result.output
    backup = (tmp / "keys.json").read_text()
    assert settings.cipher_key not in backup and settings.nik_secret not in backup
    assert json.loads(backup)["kdf"]["name"] == "scrypt"
    # When it is restored on a new machine
    result = run_with_input(rantai, PASSPHRASE + "\n", "keys", "restore", "keys.json", "--passphrase-stdin",
                            "--to", "new/secrets.env")
    # Then the same keys are back
    assert result.exit_code == 0, result.output
    restored = dict(line.split("=", 1) for line in (tmp / "new" / "secrets.env").read_text().splitlines())
    assert restored["RANTAI_CIPHER_KEY"] == settings.cipher_key
    assert restored["RANTAI_NIK_SECRET"] == settings.nik_secret
    assert restored["RANTAI_CHECKPOINT_KEY"]


def test_a_wrong_passphrase_restores_nothing(keyed) -> None:
    rantai, _, tmp = keyed
    run_with_input(rantai, PASSPHRASE + "\n", "keys", "backup", "keys.json", "--passphrase-stdin")
    result = run_with_input(rantai, "not the passphrase\n", "keys", "restore", "keys.json", "--passphrase-stdin",
                            "--to", "secrets.env")
    assert result.exit_code == 1
    assert not (tmp / "secrets.env").exists()


def test_restore_never_silently_replaces_other_keys(keyed) -> None:
    rantai, settings, tmp = keyed
    run_with_input(rantai, PASSPHRASE + "\n", "keys", "backup", "keys.json", "--passphrase-stdin")
    (tmp / "secrets.env").write_text("RANTAI_CIPHER_KEY=another-key\nRANTAI_SMS_GATEWAY=outbox\n")
    args = ("keys", "restore", "keys.json", "--passphrase-stdin", "--to", "secrets.env")
    assert run_with_input(rantai, PASSPHRASE + "\n", *args).exit_code == 1
    assert "another-key" in (tmp / "secrets.env").read_text()
    assert run_with_input(rantai, PASSPHRASE + "\n", *args, "--force").exit_code == 0
    text = (tmp / "secrets.env").read_text()
    assert f"RANTAI_CIPHER_KEY={settings.cipher_key}\n" in text and "RANTAI_SMS_GATEWAY=outbox" in text
    assert "another-key" not in text


def test_backup_refuses_a_short_passphrase_and_an_existing_file(keyed) -> None:
    rantai, _, tmp = keyed
    assert run_with_input(rantai, "short\n", "keys", "backup", "keys.json", "--passphrase-stdin").exit_code == 2
    assert not (tmp / "keys.json").exists()
    (tmp / "keys.json").write_text("{}")
    assert run_with_input(rantai, PASSPHRASE + "\n", "keys", "backup", "keys.json",
                          "--passphrase-stdin").exit_code == 2
    assert run_with_input(rantai, PASSPHRASE + "\n", "keys", "restore", "keys.json",
                          "--passphrase-stdin").exit_code == 2  # not a backup

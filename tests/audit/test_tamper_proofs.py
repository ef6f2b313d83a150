"""Inclusion proofs an outsider checks with a checkpoint and the public key
alone; PostgreSQL's append-only triggers; the exit codes other tools rely on."""

from __future__ import annotations

import json

import psycopg
import pytest
from typer.testing import CliRunner

from interfaces.cli.main import app as cli
from projections.checkpoints import new_signing_key
from tests.conftest import POSTGRES_URL
from tests.scenario import CORONAVAC

KEY = new_signing_key()


@pytest.fixture
def sealed(rantai, chain, monkeypatch, tmp_path):
    monkeypatch.setenv("RANTAI_CHECKPOINT_KEY", KEY)
    chain.release("CV001", 500)
    sscc = chain.ship("BIOFARMA", "32", ("CV001", 40))
    chain.receive_all(sscc)
    assert rantai("audit", "public-key", "--out", str(tmp_path / "key.pub")).exit_code == 0
    return rantai, chain, sscc, tmp_path


def test_an_outsider_checks_an_inclusion_proof_with_the_checkpoint_and_key_alone(sealed) -> None:
    rantai, chain, sscc, tmp = sealed
    # Given an auditor's checkpoint, and a proof of the shipment's receipt (its third event) for it
    assert rantai("audit", "checkpoint", "--out", str(tmp / "kept.txt")).exit_code == 0
    chain.release("CV002", 10)  # the log grows after the checkpoint
    result = rantai("audit", "prove", "shipment", sscc, "3", "--checkpoint", str(tmp / "kept.txt"),
                    "--out", str(tmp / "proof.json"))
    assert result.exit_code == 0, result.output
    proof = json.loads((tmp / "proof.json").read_text())
    assert proof["event"]["version"] == 3 and "Received" in proof["event"]["topic"]
    # (files saved by an editor that adds a byte-order mark, with Windows line ends, read the same)
    for name in ("kept.txt", "key.pub", "proof.json"):
        text = (tmp / name).read_text()
        (tmp / f"bom-{name}").write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    bom = ["audit", "check-proof", "--proof", str(tmp / "bom-proof.json"), "--key", str(tmp / "bom-key.pub"),
           "--checkpoint", str(tmp / "bom-kept.txt")]
    assert rantai(*bom).exit_code == 0, rantai(*bom).output
    assert rantai("audit", "verify", "--checkpoint", str(tmp / "bom-kept.txt"), "--key", str(tmp / "bom-key.pub"),
                  ).exit_code == 0
    # When the outsider checks it (no store involved)
    check = ["audit", "check-proof", "--proof", str(tmp / "proof.json"), "--key", str(tmp / "key.pub"),
             "--checkpoint", str(tmp / "kept.txt")]
    result = CliRunner().invoke(cli, check, env={"RANTAI_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    # Then
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"OK: event 3 of aggregate ") and "log position" in result.stdout
    # and an altered event fails it
    proof["event"]["state"] = proof["event"]["state"][:-4] + ("AAAA" if proof["event"]["state"][-4:] != "AAAA"
                                                              else "BBBB")
    (tmp / "proof.json").write_text(json.dumps(proof))
    result = rantai(*check)
    assert result.exit_code == 1 and result.stdout.startswith("TAMPERED"), result.output


def test_a_proof_without_a_checkpoint_comes_with_a_new_one(sealed) -> None:
    rantai, chain, sscc, tmp = sealed
    result = rantai("audit", "prove", "shipment", sscc, "1", "--out", str(tmp / "proof.json"))
    assert result.exit_code == 0, result.output
    assert rantai("audit", "check-proof", "--proof", str(tmp / "proof.json"), "--key",
                  str(tmp / "key.pub")).exit_code == 0
    for kind in (("lot", CORONAVAC, "CV001"), ("stock", "BIOFARMA")):
        result = rantai("audit", "prove", *kind, "1", "--out", str(tmp / "other-proof.json"))
        assert result.exit_code == 0, (kind, result.output)
        assert rantai("audit", "check-proof", "--proof", str(tmp / "other-proof.json"), "--key",
                      str(tmp / "key.pub")).exit_code == 0
    other_key = tmp / "other.pub"
    other_key.write_text("someone+00000000+AQ" + "A" * 42 + "=\n")
    assert rantai("audit", "check-proof", "--proof", str(tmp / "proof.json"), "--key", str(other_key)).exit_code == 2


def test_prove_refuses_what_it_cannot_name(sealed) -> None:
    rantai, _, sscc, _ = sealed
    assert rantai("audit", "prove", "shipment", sscc, "99").exit_code == 1  # no such version
    assert rantai("audit", "prove", "shipment", "000000000000000000", "1").exit_code == 1  # no such shipment
    assert rantai("audit", "prove", "shipment", sscc, "x").exit_code == 2
    assert rantai("audit", "prove", "lot", "only-a-gtin", "1").exit_code == 2
    assert rantai("audit", "prove", "planet", "earth", "1").exit_code == 2


def test_verify_without_a_connection_exits_2(sealed, monkeypatch) -> None:
    from interfaces.bootstrap import default_settings

    rantai, *_ = sealed
    monkeypatch.setenv("RANTAI_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/test")
    default_settings.cache_clear()
    result = rantai("audit", "verify")
    assert result.exit_code == 2, result.output


def test_postgres_event_tables_refuse_update_delete_and_truncate(settings, sealed) -> None:
    if not settings.database_url.startswith("postgres"):
        pytest.skip("triggers are PostgreSQL's (SQLite has no owner to refuse)")
    from interfaces.bootstrap import create_schema

    rantai, chain, _, _ = sealed
    create_schema(settings)  # rantai db init, a second time: the triggers are installed once, still
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"SET search_path TO {settings.postgres_schema}")
        for statement in ("UPDATE campaign_events SET state = state", "DELETE FROM campaign_events",
                          "TRUNCATE campaign_events", "DELETE FROM campaign_snapshots"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                db.execute(statement)
        count = db.execute("SELECT count(*) FROM campaign_events").fetchone()[0]
    # the library's own writes (LOCK TABLE ... IN EXCLUSIVE MODE, then INSERT) still go through
    chain.receive_all(chain.ship("BIOFARMA", "31", ("CV001", 5)))
    with psycopg.connect(POSTGRES_URL, autocommit=True) as db:
        db.execute(f"SET search_path TO {settings.postgres_schema}")
        assert db.execute("SELECT count(*) FROM campaign_events").fetchone()[0] > count
    assert rantai("audit", "verify").exit_code == 0


def test_the_sealer_follows_the_log_and_issues_checkpoints_while_it_grows(settings, app, chain) -> None:
    import threading
    import time

    from interfaces.settings import event_store_env
    from projections.checkpoints import checkpoint_signer, signing_key
    from projections.seal import Sealer, open_seal
    from projections.seal_verify import Verifier, decrypter

    store = open_seal(event_store_env(settings))
    stop = threading.Event()
    sealer = Sealer(store, signer=checkpoint_signer("test/log", signing_key(KEY)), every=0)
    follower = threading.Thread(target=sealer.follow, args=(stop, 0.05), daemon=True)
    follower.start()
    try:
        chain.release("CV001", 100)
        chain.receive_all(chain.ship("BIOFARMA", "32", ("CV001", 10)))
        head = app.recorder.max_notification_id()
        deadline = time.monotonic() + 60
        while (not store.checkpoints() or store.checkpoints()[-1][0] < store.sealed()[0]
               or store.sealed()[1] < head) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        follower.join(timeout=10)
    try:
        assert store.sealed()[1] == head  # every event sealed, by the follower alone
        size = store.checkpoints()[-1][0]
        public = signing_key(KEY).public_key()
        assert size == store.sealed()[0]
        report = Verifier(store, decrypter(event_store_env(settings)), [("test/log", public)]).verify()
        assert report.clean and report.checkpoints == len(store.checkpoints()) >= 1
    finally:
        store.close()


def test_rantai_serve_embedded_followers_seal_and_sign_with_the_configured_key(settings, app, chain) -> None:
    import time

    from interfaces.bootstrap import BackgroundFollowers
    from interfaces.settings import event_store_env
    from projections.seal import open_seal

    keyed = settings.model_copy(update={"checkpoint_key": KEY, "checkpoint_every_minutes": 0})
    chain.release("CV001", 100)
    head = app.recorder.max_notification_id()
    store = open_seal(event_store_env(settings))
    try:
        with BackgroundFollowers(app, {}, keyed):
            deadline = time.monotonic() + 60
            while not (store.checkpoints() and store.sealed()[1] == head) and time.monotonic() < deadline:
                time.sleep(0.1)
        # every event sealed, and a checkpoint signed of all of them (log positions may skip: sizes compared)
        assert store.sealed()[1] == head and store.checkpoints()[-1][0] == store.sealed()[0]
    finally:
        store.close()


def test_an_empty_log_and_its_checkpoint_verify(rantai, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("RANTAI_CHECKPOINT_KEY", KEY)
    assert rantai("audit", "checkpoint", "--out", str(tmp_path / "empty.txt")).exit_code == 0
    assert (tmp_path / "empty.txt").read_text().split("\n")[1] == "0"
    result = rantai("audit", "verify", "--checkpoint", str(tmp_path / "empty.txt"))
    assert result.exit_code == 0, result.output


def test_settings_and_files_that_cannot_be_used_are_usage_errors_not_tampering(sealed, monkeypatch) -> None:
    from interfaces.bootstrap import default_settings

    rantai, _, _, tmp = sealed

    def usage_error(*args: str) -> str:
        default_settings.cache_clear()
        result = rantai(*args)
        assert result.exit_code == 2, (args, result.output)  # never 1: that says the log was tampered with
        return result.output

    assert "Cannot write" in usage_error("audit", "public-key", "--out", str(tmp / "missing" / "key.pub"))
    assert "Cannot write" in usage_error("audit", "public-key", "--out", str(tmp))
    assert "Cannot write" in usage_error("audit", "checkpoint", "--out", str(tmp))
    monkeypatch.setenv("RANTAI_CHECKPOINT_ORIGIN", "two words")
    for args in (("audit", "verify"), ("audit", "public-key"), ("audit", "checkpoint")):
        assert "origin is one word" in usage_error(*args)
    monkeypatch.delenv("RANTAI_CHECKPOINT_ORIGIN")
    monkeypatch.setenv("RANTAI_CHECKPOINT_EVERY_MINUTES", "abc")
    for args in (("audit", "verify"), ("audit", "public-key", "--all")):
        assert "RANTAI_CHECKPOINT_EVERY_MINUTES" in usage_error(*args)

"""The SMS outbox holds no personal data in clear: phones and texts are sealed with
the event store's key (AES-GCM), yet the right phone still reaches the provider."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from application.sms import SmsMessage
from domain.recipient import Channel
from interfaces.bootstrap import open_sms_gateway
from interfaces.sms.http import HttpGateway
from interfaces.sms.outbox import OutboxGateway, OutboxKeyError
from tests.conftest import TEST_SECRETS
from tests.scenario import ColdChain, nik, target_row
from tests.sms.test_gateways import provider

KEY = TEST_SECRETS["cipher_key"]
OTHER_KEY = "1" * 43 + "="
WIB = timezone(timedelta(hours=7))
JAN_14 = date(2021, 1, 14)
DEADLINE = datetime(2021, 1, 13, 23, 59, 59, tzinfo=WIB)
TARGETS = 5


def phone_forms(serial: int) -> list[str]:
    """A target's phone as it could be written: 08…, +62…, 62… and the bare national digits."""
    national = f"812{serial:08d}"
    return [f"0{national}", f"+62{national}", f"62{national}", national]


def raw_bytes(path: str | Path) -> bytes:
    """The outbox as it is on disk: the database file and its WAL and shared-memory files."""
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{path}{suffix}").exists())


def raw_rows(path: str | Path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT * FROM messages").fetchall()


def assert_no_phone(path: str | Path, serials: range, *texts: str) -> None:
    disk = raw_bytes(path)
    rows = repr(raw_rows(path)).encode()
    for serial in serials:
        for form in phone_forms(serial):
            assert form.encode() not in disk, f"{form} is in the outbox file"
            assert form.encode() not in rows, f"{form} is in an outbox row"
            assert form.encode("utf-16-le") not in disk
    for text in texts:
        assert text.encode() not in disk and text.encode() not in rows, f"{text!r} is in the outbox in clear"


def test_a_blast_and_a_ticket_leave_no_phone_in_the_outbox_but_reach_the_provider(
        chain: ColdChain, settings) -> None:
    # Given targets in Kota Bandung, the phase open, and the outbox the wiring builds
    by = chain.by("KEMENKES", "admin")
    rows = [target_row(i) for i in range(1, TARGETS + 1)]
    for _ in chain.app.import_targets(enumerate(rows, start=2), 1, "SDMK 2021", by):
        pass
    chain.app.set_calendar(1, DEADLINE, [JAN_14, JAN_14 + timedelta(days=1)], by)
    gateway = open_sms_gateway(settings)
    chain.app.sms = gateway
    # When the blast goes out and the first target registers (her ticket goes by SMS)
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang di pedulilindungi.id", DEADLINE, by)
    assert list(chain.app.send_blast(blast.id, gateway, by))[-1] == TARGETS
    ticket = chain.app.register(nik(serial=1), "0001", Channel.WEB, "P327301", JAN_14,
                                chain.by("web")).result["ticket"]
    # Then neither the file's bytes nor its rows hold a phone number in any form, nor a text
    assert len(raw_rows(settings.sms_outbox)) == TARGETS + 1
    assert_no_phone(settings.sms_outbox, range(1, TARGETS + 1), "Daftar ulang", "2021-01-14")
    # And the gateway reads them back decrypted, by id and in order
    sent = gateway.message(f"ticket-{ticket}")
    assert sent.phone == "+6281200000001" and ticket in sent.text and "2021-01-14" in sent.text
    assert gateway.message("ticket-NOSUCH") is None
    pending = list(gateway.pending())
    assert [m.message_id for m in pending][-1] == f"ticket-{ticket}"
    # And handed to a (fake) provider, each goes to the right phone
    calls, transport = provider([])
    http = HttpGateway("https://sms.test/messaging", "kemenkes", "secret", "KEMENKES",
                       Path(settings.sms_outbox).with_name("ids.sqlite"), per_second=0,
                       client=httpx.Client(transport=transport))
    http.send(pending)
    numbers = sorted(n for call in calls for n in call["to"][0].split(","))
    assert numbers == sorted([f"+62812{i:08d}" for i in range(1, TARGETS + 1)] + ["+6281200000001"])
    assert any(ticket in call["message"][0] for call in calls)
    http.close()
    gateway.close()


def legacy_outbox(path: Path, messages: list[SmsMessage]) -> None:
    """An outbox as Rantai wrote it before phones were sealed: TEXT in clear, WAL mode,
    the last rows still in the WAL (not checkpointed), as a killed process leaves it."""
    staging = path.with_name("staging.sqlite")
    db = sqlite3.connect(staging)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE messages (message_id TEXT PRIMARY KEY, phone TEXT NOT NULL, "
               "text TEXT NOT NULL, queued_at TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 1)")
    with db:
        db.executemany("INSERT INTO messages (message_id, phone, text, queued_at, attempts) VALUES (?, ?, ?, ?, ?)",
                       [(m.message_id, m.phone, m.text, "2021-01-12T00:00:00+00:00", 1 + i % 2)
                        for i, m in enumerate(messages[:-2])])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with db:
        db.executemany("INSERT INTO messages (message_id, phone, text, queued_at) VALUES (?, ?, ?, ?)",
                       [(m.message_id, m.phone, m.text, "2021-01-12T00:00:00+00:00") for m in messages[-2:]])
    assert Path(f"{staging}-wal").stat().st_size > 0
    path.write_bytes(staging.read_bytes())  # a snapshot of the files while the writer still runs
    Path(f"{path}-wal").write_bytes(Path(f"{staging}-wal").read_bytes())
    db.close()


LEGACY = [SmsMessage(f"ticket-T{i:05d}", f"+62812{i:08d}", f"Tiket T{i:05d} di Puskesmas Sukasari")
          for i in range(1, 2501)]  # more than one page of the migration


def test_a_clear_outbox_from_before_is_encrypted_in_place_when_opened(tmp_path) -> None:
    path = tmp_path / "outbox.sqlite"
    legacy_outbox(path, LEGACY)
    assert b"+6281200002500" in Path(f"{path}-wal").read_bytes()  # the last rows: in the WAL only
    assert b"+6281200000001" in path.read_bytes()
    outbox = OutboxGateway(path, cipher_key=KEY)
    assert_no_phone(path, range(1, len(LEGACY) + 1), "Puskesmas Sukasari")
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM messages WHERE typeof(phone) != 'blob' "
                          "OR typeof(text) != 'blob'").fetchone() == (0,)
        assert db.execute("SELECT sum(attempts) FROM messages").fetchone() == (len(LEGACY) + 1249,)
    assert list(outbox.pending()) == LEGACY
    assert outbox.message("ticket-T00007") == LEGACY[6]
    outbox.send([LEGACY[0], SmsMessage("ticket-NEW", "+6281299999999", "Tiket NEW")])
    outbox.close()
    again = OutboxGateway(path, cipher_key=KEY)  # opening again: nothing left to migrate, nothing changed
    assert list(again.pending()) == [*LEGACY, SmsMessage("ticket-NEW", "+6281299999999", "Tiket NEW")]
    assert again.db.execute("SELECT attempts FROM messages WHERE message_id = 'ticket-T00001'").fetchone() == (2,)
    again.close()


def test_the_http_wiring_seals_an_outbox_left_in_its_file(tmp_path, settings) -> None:
    legacy_outbox(Path(settings.sms_outbox), LEGACY[:5])
    http = open_sms_gateway(settings.model_copy(update={"sms_gateway": "http", "sms_http_url": "https://sms.test"}))
    http.close()
    assert_no_phone(settings.sms_outbox, range(1, 6), "Puskesmas Sukasari")
    assert list(OutboxGateway(settings.sms_outbox, cipher_key=KEY).pending()) == LEGACY[:5]


def test_without_the_key_a_clear_outbox_is_refused_not_sealed_out_of_reach(tmp_path) -> None:
    path = tmp_path / "outbox.sqlite"
    legacy_outbox(path, LEGACY[:3])
    with pytest.raises(ValueError, match="in clear.*RANTAI_CIPHER_KEY"):
        OutboxGateway(path)
    assert b"+6281200000001" in raw_bytes(path)  # untouched: the right key still migrates it


def test_a_throwaway_outbox_seals_too_and_reads_back_its_own(tmp_path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = OutboxGateway(path)
    outbox.send(LEGACY[:3])
    assert_no_phone(path, range(1, 4), "Puskesmas Sukasari")
    assert list(outbox.pending()) == LEGACY[:3]
    outbox.close()


def test_another_key_or_a_moved_value_does_not_open(tmp_path) -> None:
    path = tmp_path / "outbox.sqlite"
    outbox = OutboxGateway(path, cipher_key=KEY)
    outbox.send(LEGACY[:2])
    with pytest.raises(OutboxKeyError, match="another key"):
        OutboxGateway(path, cipher_key=OTHER_KEY).message(LEGACY[0].message_id)
    # a phone copied onto another person's message, or into the text column, is refused
    with outbox.db:
        outbox.db.execute("UPDATE messages SET phone = (SELECT phone FROM messages WHERE message_id = ?) "
                          "WHERE message_id = ?", (LEGACY[0].message_id, LEGACY[1].message_id))
    with pytest.raises(OutboxKeyError):
        outbox.message(LEGACY[1].message_id)
    with outbox.db:
        outbox.db.execute("UPDATE messages SET text = phone WHERE message_id = ?", (LEGACY[0].message_id,))
    with pytest.raises(OutboxKeyError):
        outbox.message(LEGACY[0].message_id)
    outbox.close()


def test_every_value_has_a_fresh_nonce(tmp_path) -> None:
    outbox = OutboxGateway(tmp_path / "outbox.sqlite", cipher_key=KEY)
    same = [SmsMessage(f"b-{i}", "+6281200000001", "Daftar ulang") for i in range(50)]
    outbox.send(same)
    phones, texts = zip(*outbox.db.execute("SELECT phone, text FROM messages").fetchall())
    assert len(set(phones)) == len(set(texts)) == 50
    assert len({p[:12] for p in phones + texts}) == 100
    outbox.close()

"""The SMS blast: at-least-once sending that no recipient notices, even across a kill."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from interfaces.sms.outbox import OutboxGateway
from tests.scenario import ColdChain, cli_env, target_row

TARGETS = 4000


def import_targets(chain: ColdChain, count: int, district_rows: int = 0) -> None:
    rows = [target_row(i) for i in range(1, count + 1)]
    rows += [target_row(9000 + i, nik=f"3171011708850{i:03d}", district="31.71") for i in range(district_rows)]
    for _ in chain.app.import_targets(enumerate(rows, start=2), 1, "SDMK", chain.by("KEMENKES")):
        pass


def outbox_rows(path: Path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as db:
        try:
            return db.execute(
                "SELECT count(*), 0, coalesce(sum(attempts), 0) FROM messages"
            ).fetchone()
        except sqlite3.OperationalError:  # the blast has opened the outbox but not made its table yet
            return 0, 0, 0


def blast_command() -> list[str]:
    return [sys.executable, "-m", "interfaces.cli.main", "blast", "start", "--phase", "1", "--districts", "32.73"]


def test_killed_blast_resumes_and_every_target_has_exactly_one_message(chain: ColdChain, settings) -> None:
    # Given 4,000 targets in Kota Bandung (and 5 elsewhere, not in this blast)
    import_targets(chain, TARGETS, district_rows=5)
    outbox = Path(settings.sms_outbox)
    env = cli_env(settings) | {"RANTAI_SMS_OUTBOX_RATE_PER_SECOND": "2000"}
    # When the blast process is killed (SIGKILL) part-way through
    process = subprocess.Popen(blast_command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if outbox.exists() and outbox_rows(outbox)[0] >= 1000:
            break
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    sent_before_restart = outbox_rows(outbox)[0]
    assert 0 < sent_before_restart < TARGETS, "the kill must land mid-blast"
    # and started again
    again = subprocess.run(blast_command(), env=cli_env(settings), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    # Then every target has exactly one message, and only the page in flight was sent twice
    messages, _, attempts = outbox_rows(outbox)
    reader = OutboxGateway(outbox, cipher_key=settings.cipher_key)
    assert messages == len({m.phone for m in reader.pending()}) == TARGETS
    reader.close()
    assert attempts - messages <= 1000


def test_resend_starts_a_new_run_that_messages_everyone_again(chain: ColdChain, settings) -> None:
    import_targets(chain, 30)
    gateway = OutboxGateway(settings.sms_outbox)
    by = chain.by("KEMENKES")
    deadline = datetime(2021, 1, 13, 17, tzinfo=UTC)
    first = chain.app.start_blast(1, ["32.73"], "Daftar ulang", deadline, by)
    assert list(chain.app.send_blast(first.id, gateway, by))[-1] == 30
    resumed = chain.app.start_blast(1, ["32.73"], "Daftar ulang", deadline, by)
    assert resumed.id == first.id and list(chain.app.send_blast(resumed.id, gateway, by)) == []
    second = chain.app.start_blast(1, ["32.73"], "Daftar ulang", deadline, by, resend=True)
    assert second.id != first.id
    list(chain.app.send_blast(second.id, gateway, by))
    sent = list(gateway.pending())
    assert len(sent) == 60 and len({m.phone for m in sent}) == 30
    gateway.close()


def test_targets_without_a_phone_are_imported_but_not_messaged(chain: ColdChain, settings) -> None:
    rows = [target_row(1), target_row(2, phone="")]
    for _ in chain.app.import_targets(enumerate(rows, start=2), 1, "SDMK", chain.by("KEMENKES")):
        pass
    gateway = OutboxGateway(settings.sms_outbox)
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", datetime(2021, 1, 13, tzinfo=UTC), by)
    assert list(chain.app.send_blast(blast.id, gateway, by)) == [1]
    gateway.close()

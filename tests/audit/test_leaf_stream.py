"""The verifier's stream of leaf hashes: the same whether this process reads
the log alone or shares it with a helper process, across skipped log
positions; a helper that fails or dies is reported, never waited for."""

from __future__ import annotations

import os

import pytest

from interfaces.settings import event_store_env
from projections import leaf_stream
from projections.leaf_stream import HelperFailed, leaf_pages
from projections.seal import leaf_hashes, open_seal
from tests.audit.tamper import Attacker


@pytest.fixture
def store(settings, chain):
    """A few dozen events, with log positions skipped in the middle (as after failed inserts)."""
    chain.release("CV001", 500)
    for destination in ("32", "31"):
        chain.receive_all(chain.ship("BIOFARMA", destination, ("CV001", 20)))
    attacker = Attacker(settings)
    try:
        rows = attacker.rows()
        for position, *_ in rows[10:14]:
            attacker.delete(position)
    finally:
        attacker.close()
    opened = open_seal(event_store_env(settings))
    yield opened
    opened.close()


def flat(pages) -> tuple[list[int], list[bytes]]:
    positions, hashes = [], []
    for page_positions, page_hashes in pages:
        positions += page_positions
        hashes += page_hashes
    return positions, hashes


@pytest.mark.parametrize("block", [3, 8, 1000])
def test_a_helper_process_gives_the_same_stream_as_one_reader(store, monkeypatch, block) -> None:
    # Given every row, read the plain way
    rows = store.rows(0, 10_000)
    head = rows[-1][0]
    assert head - rows[0][0] + 1 > len(rows)  # positions were skipped
    # When the stream is read alone and with a helper, in blocks of ``block`` positions
    monkeypatch.setattr(leaf_stream, "BLOCK", block)
    monkeypatch.setattr(leaf_stream, "READ_PAGE", 5)
    alone = flat(leaf_pages(store, head, helper=False))
    shared = flat(leaf_pages(store, head, helper=True))
    # Then both are the rows' own positions and leaf hashes, in log order
    assert alone == shared == ([row[0] for row in rows], leaf_hashes(rows))
    # and up to a position in the middle, only the rows up to it
    middle = rows[len(rows) // 2][0]
    assert flat(leaf_pages(store, middle, helper=True))[0] == [row[0] for row in rows if row[0] <= middle]


def test_a_helper_that_cannot_read_is_reported(store, monkeypatch) -> None:
    class Unreadable:
        def rows_upto(self, *_):
            raise RuntimeError("no connection")

        def close(self) -> None:
            pass

    monkeypatch.setattr(leaf_stream, "BLOCK", 4)
    monkeypatch.setattr(store, "reopened", Unreadable)
    with pytest.raises(HelperFailed, match="could not read the log: RuntimeError: no connection"):
        flat(leaf_pages(store, store.head(), helper=True))


def test_a_helper_that_dies_is_reported_not_waited_for(store, monkeypatch) -> None:
    monkeypatch.setattr(leaf_stream, "BLOCK", 4)
    monkeypatch.setattr(leaf_stream, "help_with", lambda *_: os._exit(3))
    with pytest.raises(HelperFailed, match="stopped \\(exit code 3\\)"):
        flat(leaf_pages(store, store.head(), helper=True))


def test_rantai_audit_verify_with_a_dead_helper_is_no_verdict_exit_2(rantai, store, monkeypatch) -> None:
    monkeypatch.setattr(leaf_stream, "BLOCK", 4)
    monkeypatch.setattr(leaf_stream, "help_with", lambda *_: os._exit(3))
    result = rantai("audit", "verify")
    assert result.exit_code == 2, result.output  # not 1: nothing was found to be tampered with
    assert "Verification stopped before the end: the verifying helper process stopped" in result.output


HELD_UP = """
import json, multiprocessing, sys, threading, time
from projections import leaf_stream
from projections.seal import open_seal

store = open_seal(json.loads(sys.argv[1]))
reading = leaf_stream.block_pages

def slowly(*block):  # each page held up: the verifier is still at work when it is killed
    for page in reading(*block):
        time.sleep(0.3)
        yield page

leaf_stream.block_pages, leaf_stream.BLOCK, leaf_stream.READ_PAGE = slowly, 4, 2
threading.Timer(1.0, lambda: print(*[p.pid for p in multiprocessing.active_children()], flush=True)).start()
for _ in leaf_stream.leaf_pages(store, store.head()):
    pass
"""


def exited(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie has exited (nobody reaped it)
    except FileNotFoundError:
        return True


def test_a_verifier_killed_midway_leaves_no_helper_behind(settings, store) -> None:
    import json
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    # Given a verifier at work, with its helper
    verifier = subprocess.Popen([sys.executable, "-c", HELD_UP, json.dumps(event_store_env(settings))],
                                stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    helper = None
    try:
        (helper,) = map(int, verifier.stdout.readline().split())
        assert not exited(helper)
        # When the verifier is killed (kill -9)
        verifier.send_signal(signal.SIGKILL)
        verifier.wait(timeout=10)
        # Then its helper sees it and stops too, rather than waiting for work forever
        deadline = time.monotonic() + 15
        while not exited(helper):
            assert time.monotonic() < deadline, "the helper outlived the verifier"
            time.sleep(0.1)
    finally:
        verifier.kill()
        verifier.wait()
        if helper is not None and not exited(helper):  # (a failed run leaves nothing behind either)
            os.kill(helper, signal.SIGKILL)

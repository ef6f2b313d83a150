"""The log's leaf hashes in log order, for the verifier: read and hashed by
this process and, where the machine can fork, by a helper process at once.

Hashing a row costs about as much Python time as reading it, and a thread of
its own would only take turns with this one (SHA-256 holds the interpreter's
lock for inputs this small). A helper process has an interpreter of its own.
The log is cut into blocks of log positions; the helper reads and hashes some
blocks on a connection of its own while this process does the others, and
hands back each block's log positions and leaf hashes (40 bytes a row, never
the rows). Blocks are given out in log order and taken back in log order, so
the stream is exactly the one a single reader would make.

The helper is forked (it starts at once: nothing to import) and runs only the
code below, on a store it opens itself. The two talk through two one-way pipes,
each end held by one process only, so that either sees the other die: a helper
that dies or cannot read is reported (``HelperFailed``), and a verifier killed
midway takes its helper with it. Where there is no ``fork`` (or the log is a
single block) this process reads everything alone.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import queue
import signal
import threading
from array import array
from collections import deque
from collections.abc import Iterator
from typing import Any

from projections.seal import SealStore, leaf_hashes

READ_PAGE = 10_000
BLOCK = 20_000  # log positions per block (smaller blocks keep both busy to the end)
HELPER_TAKES = (False, True, False, True, True)  # 3 blocks in 5 go to the helper: this
# process also builds the tree (measured: 1 in 2 left the helper idle)
AHEAD = 2  # blocks given to the helper before their turn
WAIT = 0.5  # seconds between looks at whether a silent helper is still alive

Page = tuple[list[int], list[bytes]]  # log positions, leaf hashes


class HelperFailed(RuntimeError):
    """The helper process stopped or could not read its block."""


def leaf_pages(store: SealStore, head: int, helper: bool = True) -> Iterator[Page]:
    """The (log positions, leaf hashes) of every row after position 0 up to ``head``, in log order."""
    blocks = blocks_of(store, head)
    first = list(itertools.islice(blocks, 2))
    blocks = itertools.chain(first, blocks)
    if helper and len(first) > 1 and "fork" in multiprocessing.get_all_start_methods():
        yield from shared(store, blocks)
    else:
        for lo, hi in blocks:
            yield from block_pages(store, lo, hi)


def blocks_of(store: SealStore, head: int) -> Iterator[tuple[int, int]]:
    """Blocks of log positions (after ``lo``, up to ``hi``) that hold rows: each starts at the next
    row, so a gap costs one lookup however wide (a forged row at a far position included)."""
    lo = 0
    while lo < head and (start := store.next_position(lo)) is not None and start <= head:
        lo, hi = start - 1, min(start - 1 + BLOCK, head)
        yield lo, hi
        lo = hi


def block_pages(store: SealStore, lo: int, hi: int) -> Iterator[Page]:
    """The rows after log position ``lo`` up to ``hi``, a page at a time."""
    for rows in store.rows_upto(lo, hi, READ_PAGE):
        yield [row[0] for row in rows], leaf_hashes(rows)


def shared(store: SealStore, blocks: Iterator[tuple[int, int]]) -> Iterator[Page]:
    context = multiprocessing.get_context("fork")
    tasks_in, tasks_out = context.Pipe(duplex=False)  # (receiving end, sending end)
    results_in, results_out = context.Pipe(duplex=False)
    process = context.Process(target=help_with, args=(store.reopened(), tasks_in, results_out, (tasks_out, results_in)),
                              name="rantai-verify-helper", daemon=True)
    process.start()
    tasks_in.close()  # each end is held by one process only: when either process dies, the other reads EOF
    results_out.close()
    numbered = enumerate(blocks)
    planned: deque[tuple[bool, tuple[int, int]]] = deque()  # (the helper's?, block), in log order
    given = 0  # blocks given to the helper and not yet answered

    def plan() -> None:  # blocks are found as the log is read: the helper's are given AHEAD of their turn
        nonlocal given
        while given < AHEAD and (found := next(numbered, None)) is not None:
            n, block = found
            helpers = HELPER_TAKES[n % len(HELPER_TAKES)]
            planned.append((helpers, block))
            if helpers:
                give(tasks_out, block, process)
                given += 1

    try:
        plan()
        while planned:
            helpers, (lo, hi) = planned.popleft()
            if helpers:
                positions, hashes = answer(results_in, process)
                given -= 1
                plan()
                yield positions, hashes
            else:
                yield from block_pages(store, lo, hi)
            plan()
    finally:
        tasks_out.close()  # the helper reads the end of its work
        results_in.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def give(tasks: Any, block: tuple[int, int], process: Any) -> None:
    """A block for the helper."""
    try:
        tasks.send(block)
    except OSError:  # nobody reads its tasks any more
        raise stopped(process) from None


def stopped(process: Any) -> HelperFailed:
    process.join(timeout=WAIT)
    return HelperFailed(f"the verifying helper process stopped (exit code {process.exitcode})")


def answer(results: Any, process: Any) -> Page:
    """The helper's next block, unpacked."""
    try:
        while not results.poll(WAIT):
            if not process.is_alive():
                break
        found = results.recv()
    except (EOFError, OSError):
        raise stopped(process) from None
    if isinstance(found, str):
        raise HelperFailed(found)
    packed_positions, packed_hashes = found
    positions = array("q")
    positions.frombytes(packed_positions)
    return positions.tolist(), [packed_hashes[i:i + 32] for i in range(0, len(packed_hashes), 32)]


def help_with(store: SealStore, tasks: Any, results: Any, theirs: tuple[Any, ...]) -> None:
    """The helper process: read and hash each block it is given, until its tasks end (the
    other process closed them, or died). A thread of its own sends the answers, so that the
    next block is read while the other process has not yet taken the last one."""
    for end in theirs:  # the other process's ends, inherited by the fork: closed, so that its death is seen
        end.close()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the verifier's to answer; its end of the pipes ends this
    outbox: queue.Queue[object] = queue.Queue(AHEAD)
    sender = threading.Thread(target=send_all, args=(outbox, results), daemon=True)
    sender.start()
    try:
        while True:
            try:
                block = tasks.recv()
            except EOFError:
                break
            positions, hashes = array("q"), []
            for page_positions, page_hashes in block_pages(store, *block):
                positions.extend(page_positions)
                hashes += page_hashes
            outbox.put((positions.tobytes(), b"".join(hashes)))
    except Exception as error:  # noqa: BLE001 - reported by the process that waits for the block
        outbox.put(f"the verifying helper process could not read the log: {type(error).__name__}: {error}")
        with contextlib.suppress(EOFError, OSError):  # taking the blocks still sent, until the other process ends
            while True:
                tasks.recv()
    finally:
        outbox.put(None)
        sender.join()
        store.close()


def send_all(outbox: queue.Queue[object], results: Any) -> None:
    """Send what the helper puts in ``outbox`` until None; once nobody reads any more (the other
    process is gone), keep taking without sending, so that the helper never waits on a full outbox."""
    reader_gone = False
    while (item := outbox.get()) is not None:
        if reader_gone:
            continue
        try:
            results.send(item)
        except (BrokenPipeError, EOFError, OSError):
            reader_gone = True
    with contextlib.suppress(OSError):
        results.close()

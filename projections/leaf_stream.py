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
code below, on a store it opens itself. Where there is no ``fork`` (or the log
is a single block) this process reads everything alone.
"""

from __future__ import annotations

import multiprocessing
import queue
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
    """The (log positions, leaf hashes) of every row up to log position ``head``, in log order."""
    blocks = [(lo, min(lo + BLOCK, head)) for lo in range(0, head, BLOCK)]
    if helper and len(blocks) > 1 and "fork" in multiprocessing.get_all_start_methods():
        yield from shared(store, blocks)
    else:
        for lo, hi in blocks:
            yield from block_pages(store, lo, hi)


def block_pages(store: SealStore, lo: int, hi: int) -> Iterator[Page]:
    """The rows after log position ``lo`` up to ``hi``, a page at a time."""
    for rows in store.rows_upto(lo, hi, READ_PAGE):
        yield [row[0] for row in rows], leaf_hashes(rows)


def shared(store: SealStore, blocks: list[tuple[int, int]]) -> Iterator[Page]:
    context = multiprocessing.get_context("fork")
    tasks: Any = context.SimpleQueue()
    results: Any = context.Queue()
    process = context.Process(target=help_with, args=(store.reopened(), tasks, results),
                              name="rantai-verify-helper", daemon=True)
    process.start()
    try:
        given = deque(block for n, block in enumerate(blocks) if HELPER_TAKES[n % len(HELPER_TAKES)])
        for _ in range(AHEAD):
            if given:
                tasks.put(given.popleft())
        for n, (lo, hi) in enumerate(blocks):
            if not HELPER_TAKES[n % len(HELPER_TAKES)]:
                yield from block_pages(store, lo, hi)
                continue
            positions, hashes = answer(results, process)
            if given:
                tasks.put(given.popleft())
            yield positions, hashes
    finally:
        tasks.put(None)
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()


def answer(results: Any, process: Any) -> Page:
    """The helper's next block, unpacked."""
    while True:
        try:
            found = results.get(timeout=WAIT)
            break
        except queue.Empty:
            if not process.is_alive():
                msg = f"the verifying helper process stopped (exit code {process.exitcode})"
                raise HelperFailed(msg) from None
    if isinstance(found, str):
        raise HelperFailed(found)
    packed_positions, packed_hashes = found
    positions = array("q")
    positions.frombytes(packed_positions)
    return positions.tolist(), [packed_hashes[i:i + 32] for i in range(0, len(packed_hashes), 32)]


def help_with(store: SealStore, tasks: Any, results: Any) -> None:
    """The helper process: read and hash each block it is given, until it is given None."""
    try:
        while (block := tasks.get()) is not None:
            positions, hashes = array("q"), []
            for page_positions, page_hashes in block_pages(store, *block):
                positions.extend(page_positions)
                hashes += page_hashes
            results.put((positions.tobytes(), b"".join(hashes)))
    except Exception as error:  # noqa: BLE001 - reported by the process that waits for the block
        results.put(f"the verifying helper process could not read the log: {type(error).__name__}: {error}")
    finally:
        store.close()

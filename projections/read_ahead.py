"""Reading the next page of a log while the previous one is being worked on.

Replaying the log alternates between waiting for the database and working in
Python. ``ReadAhead`` runs the reads in a thread of its own, a few
pages ahead, so the database works while Python does: each page is asked for as
soon as the one before it has arrived (its last position is where the next starts).
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

S = TypeVar("S")
T = TypeVar("T")

_DONE = object()


class ReadAhead(Generic[S, T]):
    """``step(state)`` answers (next state, page), or None at the end; iterating gives the
    pages in order, read up to ``ahead`` pages in advance. A failure of a read is raised
    where the page would have been; leaving the ``with`` block stops the reader."""

    def __init__(self, step: Callable[[S], tuple[S, T] | None], start: S, ahead: int = 2) -> None:
        self.step, self.start = step, start
        self.queue: queue.Queue[object] = queue.Queue(ahead)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._read, name="read-ahead", daemon=True)

    def __enter__(self) -> ReadAhead[S, T]:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        while self.thread.is_alive():  # a reader blocked on a full queue sees the stop
            with contextlib.suppress(queue.Empty):
                self.queue.get(timeout=0.05)
        self.thread.join()

    def __iter__(self) -> Iterator[T]:
        while True:
            item = self.queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]

    def _read(self) -> None:
        try:
            state = self.start
            while not self.stopping.is_set():
                found = self.step(state)
                if found is None:
                    break
                state, page = found
                self._put(page)
            self._put(_DONE)
        except BaseException as error:  # noqa: BLE001 - raised in the consuming thread
            self._put(error)

    def _put(self, item: object) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(queue.Full):
                self.queue.put(item, timeout=0.1)
                return

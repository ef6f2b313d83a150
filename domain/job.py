"""A long command an admin starts from a page — a target list import, an SMS blast —
run in the background by one server process. Its progress is kept as events on
the job, so any server process can show it and a page reload finds it again; a
job whose process died stays at its last recorded step (its page says since when)."""

from __future__ import annotations

from datetime import datetime

from eventsourcing.domain import Aggregate, event

from domain.bounds import clean_text
from domain.errors import RuleBroken
from domain.provenance import Provenance

RUNNING, FINISHED, FAILED = "running", "finished", "failed"


class JobOver(RuleBroken):
    pass


class Job(Aggregate):
    @event("Started")
    def __init__(self, kind: str, title: str, total: int, by: Provenance) -> None:
        self.kind = kind
        self.title = title
        self.total = total  # 0 when not known in advance
        self.done = 0
        self.note = ""
        self.state = RUNNING
        self.started_by = by.actor
        self.started_at: datetime = by.occurred_at
        self.updated_at: datetime = by.occurred_at

    @classmethod
    def start(cls, kind: str, title: str, total: int, by: Provenance) -> Job:
        return cls(kind, clean_text(title, "The job's title"), max(total, 0), by)

    def check_running(self) -> None:
        if self.state != RUNNING:
            raise JobOver(f"This job has {self.state}; start a new one.")

    def advance(self, done: int, note: str, by: Provenance) -> None:
        self.check_running()
        self._advanced(max(done, 0), clean_text(note, "The note"), by)

    @event("Advanced")
    def _advanced(self, done: int, note: str, by: Provenance) -> None:
        self.done, self.note, self.updated_at = done, note, by.occurred_at

    def finish(self, note: str, by: Provenance) -> None:
        self.check_running()
        self._finished(clean_text(note, "The note"), by)

    @event("Finished")
    def _finished(self, note: str, by: Provenance) -> None:
        self.state, self.note, self.updated_at = FINISHED, note, by.occurred_at

    def fail(self, reason: str, by: Provenance) -> None:
        self.check_running()
        self._failed(clean_text(reason, "The reason"), by)

    @event("Failed")
    def _failed(self, reason: str, by: Provenance) -> None:
        self.state, self.note, self.updated_at = FAILED, reason, by.occurred_at

    @property
    def fraction(self) -> float | None:
        return min(self.done / self.total, 1.0) if self.total else None

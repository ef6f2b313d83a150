"""Long commands started from a page and run in the background: a target list import
and the SMS blast. Each is a ``Job`` whose progress is recorded as events after every
batch, so any server process shows it and a page reload finds it again.

``start_job`` checks the caller's right to the command itself (``permission`` in
``POLICY``) before anything runs; ``run_job`` drives a generator of (done, note) steps
and records each, then the end — or the error, in a line a person can read (its type
only for an unexpected one: never the data that caused it).
"""

from __future__ import annotations

from collections.abc import Iterator
import logging
from uuid import UUID

from application.access import CAMPAIGN, Caller
from application.errors import ApplicationError, NotFound
from domain.bounds import SHORT_TEXT
from domain.errors import RuleBroken
from domain.job import Job


class JobNotFound(NotFound):
    pass


def start_job(app: object, permission: str, kind: str, title: str, total: int, caller: Caller) -> Job:
    by = app.acting(permission, caller, CAMPAIGN)  # type: ignore[attr-defined]
    job = Job.start(kind, title[:SHORT_TEXT], total, by)
    app.save(job)  # type: ignore[attr-defined]
    return job


def get_job(app: object, job_id: UUID) -> Job:
    return app.load(Job, job_id, JobNotFound, "There is no such job.")  # type: ignore[attr-defined]


def run_job(app: object, job_id: UUID, permission: str, steps: Iterator[tuple[int, str]], caller: Caller) -> None:
    """Record each step's progress, then the end. Meant for a background thread: it never raises."""
    def by() -> object:
        return app.acting(permission, caller, CAMPAIGN)  # type: ignore[attr-defined]

    job = get_job(app, job_id)
    done, note = 0, ""
    try:
        for done, note in steps:
            job.advance(done, note[:SHORT_TEXT], by())
            app.save(job)  # type: ignore[attr-defined]
        job.finish(note[:SHORT_TEXT], by())
    except (ApplicationError, RuleBroken) as error:
        job = get_job(app, job_id)
        job.fail(str(error)[:SHORT_TEXT], by())
    except Exception as error:  # noqa: BLE001 - a background thread has nobody else to tell
        logging.getLogger(__name__).exception("job %s stopped", job_id)
        job = get_job(app, job_id)
        job.fail(f"Stopped by an unexpected {type(error).__name__} after {done}; see the server's log.", by())
    app.save(job)  # type: ignore[attr-defined]

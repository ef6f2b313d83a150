"""Server processes (uvicorn --workers N) start at the same moment on a fresh store:
each opens the login throttle, whose table the first one creates."""

from __future__ import annotations

import threading

import psycopg

from interfaces.bootstrap import create_schema
from interfaces.throttle import Throttle
from tests.conftest import POSTGRES_URL

STARTING = 6


def test_processes_starting_together_all_open_the_throttle(settings) -> None:
    create_schema(settings)
    for _ in range(3):  # the race is a matter of timing: try it a few times
        barrier, opened, failed = threading.Barrier(STARTING), [], []

        def start() -> None:
            barrier.wait()
            try:
                opened.append(Throttle(settings))
            except Exception as error:  # noqa: BLE001 - the failure is what the test looks for
                failed.append(error)

        threads = [threading.Thread(target=start) for _ in range(STARTING)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for throttle in opened:
            throttle.close()
        assert failed == []
        assert len(opened) == STARTING
        if settings.postgres_schema and not settings.database_url.startswith("sqlite"):
            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP TABLE "{settings.postgres_schema}".rantai_throttle')

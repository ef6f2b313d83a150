"""Bounded query and path parameters shared by the routers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path

from domain.bounds import EARLIEST
from domain.errors import OutOfBounds

MAX_PHASE = 20  # campaign phases
MAX_OFFSET = 10_000_000
FacilityCodePath = Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9.]+$",
                                        description="A facility code: BIOFARMA, 32, 32.73, P327301")]


def parse_instant(text: str, name: str) -> datetime:
    """An ISO 8601 time with its offset, from 2020 to 9999 refused: a number is not a time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OutOfBounds(f"{name} must be an ISO 8601 time with its offset, e.g. 2021-01-14T00:00:00+07:00.") from None
    if moment.tzinfo is None:
        raise OutOfBounds(f"{name} needs its offset, e.g. +07:00.")
    if not EARLIEST <= moment <= datetime(2100, 1, 1, tzinfo=moment.tzinfo):
        raise OutOfBounds(f"{name} must lie between 2020 and 2100.")
    return moment

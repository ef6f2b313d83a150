"""The monitoring dashboard (HTML) and its JSON feeds."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["dashboard"])

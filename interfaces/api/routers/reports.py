"""Read models and reconciliation reports over HTTP (JSON, CSV, XLSX)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/reports", tags=["reports"])

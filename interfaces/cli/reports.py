"""``rantai report …``: reconciliation reports to the screen, CSV or XLSX."""

from __future__ import annotations

import typer

reports = typer.Typer(help="Reconciliation reports.", no_args_is_help=True)

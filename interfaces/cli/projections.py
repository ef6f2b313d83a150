"""``rantai projections …`` and ``rantai worker``: following, status and rebuilds of the read models."""

from __future__ import annotations

import typer

projections = typer.Typer(help="Read models (projections of the event log).", no_args_is_help=True)

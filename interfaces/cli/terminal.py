"""What every ``rantai`` command shares: the console, the store opened for one
command, the operator it acts as, and the progress bar."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.access import Caller
from application.campaign import Campaign
from application.errors import ApplicationError
from domain.errors import RuleBroken
from interfaces.bootstrap import default_settings, open_campaign
from interfaces.settings import MissingSecrets

console = Console()
errors = Console(stderr=True)


def operator() -> Caller:
    """The command line runs on the server, with full rights, as ``cli:<os user>``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = f"uid{os.getuid()}"
    return Caller.operator(f"cli:{name}")


@contextmanager
def campaign(create_tables: bool | None = None) -> Iterator[Campaign]:
    """The store for one command; a refused command prints its reason on stderr and exits 1."""
    try:
        application = open_campaign(default_settings(), create_tables=create_tables)
    except (MissingSecrets, ValueError) as error:  # no keys yet, or a database URL that cannot be right
        errors.print(str(error), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    try:
        yield application
    except (RuleBroken, ApplicationError) as error:
        errors.print(str(error), style="red", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        application.close()


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[note]}"))

"""``rantai projections …`` and ``rantai worker``: following, status and rebuilds of the read models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from projections.catalog import READ_MODELS

projections = typer.Typer(help="Read models (projections of the event log).", no_args_is_help=True)


def chosen(name: str | None) -> list[str]:
    """``name``, or every read model when none is given; an unknown name ends the command (exit 2)."""
    from interfaces.cli.terminal import console

    if name is None:
        return list(READ_MODELS)
    if name not in READ_MODELS:
        console.print(f"[red]There is no read model '{name}'. Choose one of: {', '.join(READ_MODELS)}.[/red]")
        raise typer.Exit(2)
    return [name]


def utc_time(iso: str | None) -> str:
    """When the event at a position was recorded, to the second, in UTC."""
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M:%S}" if iso else "—"


@projections.command("status")
def status() -> None:
    """Where each read model is in the event log, and how far behind its head.

    Position: the notification id of the last event a read model reflects, and
    when that event was recorded; lag: how many events the log has beyond it.
    When a read model's follower cannot get past the event at log position N,
    a state column says "stuck at N" and the error follows the table (its
    figures stay at its position until `rantai projections rebuild NAME`, after
    a fix); the exit code is then 1."""
    from interfaces.bootstrap import open_read_models
    from interfaces.cli.terminal import campaign, console
    from interfaces.bootstrap import default_settings

    with campaign() as app:
        head = app.recorder.max_notification_id() or 0
        models = open_read_models(default_settings())
        try:
            rows = [(name, model.view.position(), model.view.stuck()) for name, model in models.items()]
        finally:
            for model in models.values():
                model.view.datastore.close()
        sealed = seal_position(default_settings())
    stuck = {name: mark for name, _, mark in rows if mark}
    table = Table(title=f"Read models ({head} events in the log)")
    for column in ("read model", "position", "head", "lag", "recorded (UTC)", *(("state",) if stuck else ())):
        table.add_column(column, no_wrap=column != "recorded (UTC)",  # a narrow terminal: date above time
                         justify="left" if column in ("read model", "state") else "right")
    for name, position, mark in rows:
        behind = head - position["notification_id"]
        state = (f"[red]stuck at {mark['notification_id']}[/red]" if mark else "ok",) if stuck else ()
        table.add_row(name, str(position["notification_id"]), str(head),
                      f"[yellow]{behind}[/yellow]" if behind else "0", utc_time(position["recorded_at"]), *state)
    if sealed is not None:  # the audit log's tree (rantai worker seals it too): how far behind the log it is
        behind = head - sealed
        table.add_row(SEAL_ROW, str(sealed), str(head), f"[yellow]{behind}[/yellow]" if behind else "0", "—",
                      *(("ok",) if stuck else ()))
    console.print(table)
    for name, mark in stuck.items():
        console.print(f"[red]{name} is {escape(stuck_state(mark))}[/red]")
    if stuck:
        console.print("Fix the cause, then `rantai projections rebuild NAME` (the other read models go on meanwhile).")
        raise typer.Exit(1)


SEAL_ROW = "seal (audit log)"


def seal_position(settings: Any) -> int | None:
    """The log position the audit log's tree has sealed up to; None where it has no tables yet."""
    from interfaces.settings import event_store_env
    from projections.seal import open_seal

    store = open_seal(event_store_env(settings))
    try:
        return store.sealed()[1]
    except Exception:  # noqa: BLE001 - a store made before the seal existed: no row rather than no status
        return None
    finally:
        store.close()


def stuck_state(stuck: dict | None) -> str:
    """``stuck at N: error`` for a stuck read model, else empty."""
    return f"stuck at {stuck['notification_id']}: {stuck['error']}" if stuck else ""


@projections.command("rebuild")
def rebuild(name: str | None = typer.Argument(None, help="One read model (default: all of them)")) -> None:
    """Empty read models and process the whole event log again, a page per transaction.

    Clears a read model's "stuck" mark (exit code 1 if it gets stuck again).
    Safe while the worker (or `rantai serve`) runs: the position only moves from
    where a follower found it, so no page is counted twice."""
    from interfaces.cli.terminal import campaign, console, progress_bar
    from interfaces.bootstrap import default_settings, open_read_models
    from interfaces.worker import page_size
    from projections.follower import Follower

    names = chosen(name)
    stuck: dict[str, str] = {}
    with campaign() as app, progress_bar() as bar:
        for each in names:
            model = open_read_models(default_settings(), only=[each])[each]
            try:
                follower = Follower(app, model, page_size())
                task = bar.add_task(each, total=follower.head(), note="")
                processed = follower.rebuild(
                    lambda position, head, task=task: bar.update(task, completed=position, total=head))
                bar.update(task, note=f"{processed} events")
                if follower.stuck:
                    stuck[each] = stuck_state(follower.stuck)
            finally:
                model.view.datastore.close()
        head = app.recorder.max_notification_id() or 0
    rebuilt = [each for each in names if each not in stuck]
    if rebuilt:
        console.print(f"Rebuilt {', '.join(rebuilt)} up to position {head}.")
    for each, state in stuck.items():
        console.print(f"[red]{each} is {escape(state)}[/red]")
    if stuck:
        raise typer.Exit(1)


def worker(
    only: str | None = typer.Option(None, "--only", metavar="NAME",
                                    help="Follow just this read model (or 'seal', the audit log's tree), "
                                         "in this process (for debugging)"),
) -> None:
    """Follow every read model, each in its own process, until SIGTERM or Ctrl-C.

    The PostgreSQL deployment runs this beside `rantai serve`. In the embedded
    SQLite mode `rantai serve` normally follows the read models itself, in
    background threads; the worker works there too, but run one or the other.
    RANTAI_PROJECTION_PAGE_SIZE sets the events written per transaction (1000)."""
    from interfaces.worker import SEAL, run_worker

    if only is not None and only != SEAL:
        chosen(only)
    run_worker(only)

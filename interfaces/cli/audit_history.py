"""``rantai audit history | figures | replay``: an aggregate's history and past states, figures as
of a past moment, and every read model rebuilt from zero and compared with the live one.

The command line is the server's operator: it sees every history; personal
data stays masked unless ``--unmask`` is given.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from interfaces.api.params import MAX_PHASE
from interfaces.cli.audit import audit, keys  # noqa: F401

LIMIT = 20  # differences printed per read model (all of them with --json)

Kind = Annotated[str, typer.Argument(help="shipment, lot, stock, recipient, session, blast or user")]
Ids = Annotated[list[str] | None, typer.Argument(
    help="SSCC | GTIN LOT | FACILITY | RECIPIENT_ID | FACILITY DAY | BLAST_ID | USERNAME", show_default=False)]


def moment(text: str, what: str) -> datetime:
    """An ISO time with its offset; anything else ends the command (exit 2)."""
    from interfaces.cli.terminal import errors

    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        errors.print(f"{what}: give an ISO time with its offset, e.g. 2021-01-13T18:30:00+07:00.", style="red")
        raise typer.Exit(2)
    return found


@audit.command("history")
def history(
    kind: Kind,
    ids: Ids = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event, one a line")] = False,
    nik_stdin: Annotated[bool, typer.Option("--nik-stdin", help="recipient: read the NIK from stdin")] = False,
    unmask: Annotated[bool, typer.Option("--unmask", help="Show NIK, name and phone (operator only)")] = False,
    as_of_version: Annotated[int | None, typer.Option(help="The state at this version instead")] = None,
    as_of_recorded: Annotated[str | None, typer.Option(help="The state as the system knew it then (ISO)")] = None,
    as_of_occurred: Annotated[str | None, typer.Option(help="The state as things had happened by then (ISO)")] = None,
) -> None:
    """Every event of one aggregate, in order, with its provenance; or its state as of a moment.

    Per event: who (and role), where, device, when it occurred and when it was recorded, the
    idempotency key, the log position and the corrections that refer to it. With an --as-of
    option, the aggregate's state at that version or moment instead."""
    from application.history import History, resolve, state_of
    from interfaces.cli.terminal import campaign, console, errors, operator

    ids = list(ids or [])
    chosen = [o for o in (as_of_version, as_of_recorded, as_of_occurred) if o is not None]
    if len(chosen) > 1:
        errors.print("Give one of --as-of-version, --as-of-recorded, --as-of-occurred.", style="red")
        raise typer.Exit(2)
    if nik_stdin and kind != "recipient":
        errors.print("--nik-stdin is for a recipient's history.", style="red")
        raise typer.Exit(2)
    with campaign() as app:
        if nik_stdin:
            ids = [app.find_by_nik(sys.stdin.readline().strip()).id.hex]
        subject = resolve(app, kind, ids)
        reader = History(app)
        reader.check(operator(), subject)
        masked = not unmask
        if chosen:
            if as_of_version is not None:
                state = reader.as_of_version(subject, as_of_version)
            elif as_of_recorded is not None:
                state = reader.as_of_recorded(subject, moment(as_of_recorded, "--as-of-recorded"))
            else:
                state = reader.as_of_occurred(subject, moment(as_of_occurred or "", "--as-of-occurred"))
            shown = state_of(state, masked) if state is not None else None
            if as_json:
                typer.echo(json.dumps({"kind": kind, "id": " ".join(subject.key), "state": shown}))
            elif shown is None:
                console.print(f"The {subject.label} did not exist yet then.")
            else:
                show_state(subject.label, shown)
            return
        entries = reader.entries(subject, masked)
    if as_json:
        for entry in entries:
            typer.echo(json.dumps(entry.as_json(subject), ensure_ascii=False))
        return
    show_history(subject.label, [entry.as_json(subject) for entry in entries])


def show_history(label: str, rows: list[dict[str, Any]]) -> None:
    """One block per event (a table would fold its many columns past reading)."""
    from interfaces.cli.terminal import console

    console.print(f"[bold]History of {escape(label)}[/bold] ({len(rows)} events)")
    for row in rows:
        console.print(f"[bold]v{row['version']} {row['event']}[/bold]  log position {row['position']}", highlight=False)
        lines = [f"occurred {row['occurred_at'] or '?'} ({row['zone'] or '?'}), recorded {row['recorded_at']}",
                 f"by {row['actor']} ({row['role'] or 'no role recorded'}) at {row['facility']}, "
                 f"device {row['device']}"]
        if row["idempotency_key"]:
            lines.append(f"idempotency key {row['idempotency_key']} ({row['command']})")
        if row["corrects"]:
            lines.append(f"corrects v{row['corrects']}")
        if row["corrected_by"]:
            lines.append("corrected by " + ", ".join(f"v{v}" for v in row["corrected_by"]))
        details = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in row["data"].items())
        lines.append(details if len(details) <= 400 else details[:400] + " …")
        for line in lines:
            console.print(f"    {escape(line)}", highlight=False, soft_wrap=True)


def show_state(label: str, state: dict[str, Any]) -> None:
    from interfaces.cli.terminal import console

    table = Table("attribute", "value", title=f"{escape(label)} at version {state['version']}")
    for name, value in state.items():
        table.add_row(name, escape(json.dumps(value, ensure_ascii=False)[:300]))
    console.print(table)


@audit.command("figures")
def figures(
    at: Annotated[str | None, typer.Option("--at", help="What had happened by then (ISO with offset)")] = None,
    position: Annotated[int | None, typer.Option(help="What was recorded up to this log position")] = None,
    report: Annotated[str | None, typer.Option(help="Also this report as of then (see rantai report list)")] = None,
    phase: Annotated[int | None, typer.Option(min=1, max=MAX_PHASE, help="The funnel of this phase only")] = None,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="Every panel of the dashboard (stock, "
                                                               "shipments in transit, AEFI too)")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The dashboard's funnel (or, with --dashboard, every panel; and a report) as it stood at a past moment.

    The log is replayed into scratch read models up to a log position (--position: what was
    recorded by then), or with the events that had occurred by --at (what had happened by then)."""
    from interfaces.api.routers.dashboard import DASHBOARD_READ_MODELS, dashboard_figures
    from interfaces.as_of import AsOfNotUnderstood, Moment, funnel_figures, read_models_as_of, stands_for
    from interfaces.bootstrap import default_settings
    from interfaces.cli.terminal import campaign, console, errors, operator
    from interfaces.reports import UnknownReport, build_report, report_definition
    from interfaces.settings import event_store_env

    if (at is None) == (position is None):
        errors.print("Give --at MOMENT or --position N.", style="red")
        raise typer.Exit(2)
    try:
        when = Moment(position, moment(at, "--at") if at is not None else None)
        definition = report_definition(report) if report is not None else None
    except (AsOfNotUnderstood, UnknownReport) as error:
        errors.print(str(error), style="red")
        raise typer.Exit(2) from None
    panels = None
    with campaign() as app:
        names = [*(DASHBOARD_READ_MODELS if dashboard else ["funnel"]), *([definition.read_model] if definition else [])]
        with read_models_as_of(app, event_store_env(default_settings()), when, list(dict.fromkeys(names))) as models:
            totals = funnel_figures(models, phase=phase)["totals"]
            built = build_report(report, models) if definition else None
            if dashboard:
                panels = dashboard_figures(models, app, operator(), None, None, *stands_for(app, when))
    if as_json:
        typer.echo(json.dumps({"as_of": when.as_json(), "funnel": totals,
                               "report": built.as_json() if built else None}
                              | ({"dashboard": panels} if panels else {}), default=str))
        return
    table = Table("stage", "count", title=f"Funnel {when.describe()}")
    for stage, value in totals.items():
        table.add_row(stage, str(value))
    console.print(table)
    if panels:
        other = Table("panel", "figure", title=f"Dashboard {when.describe()}")
        stock, moving, aefi = panels["stock"], panels["shipments"], panels["aefi"]
        other.add_row("stock: facility/lot rows", f"{stock['rows']} ({stock['stock_outs']} out of stock, "
                                                   f"{stock['below_minimum']} below minimum)")
        other.add_row("shipments in transit", f"{moving['in_transit']} ({moving['overdue']} overdue, "
                                              f"{moving['vials']} vials)")
        other.add_row("AEFI reports", str(aefi["total"]))
        console.print(other)
    if built:
        rows = Table(*(c.title for c in built.definition.columns), title=built.definition.title)
        for row in built.rows:
            rows.add_row(*(str(row[c.key]) for c in built.definition.columns))
        console.print(rows)


@audit.command("replay")
def replay_command(
    as_json: Annotated[bool, typer.Option("--json", help="Every difference as JSON")] = False,
) -> None:
    """Rebuild every read model from zero and compare it with the live one, row by row.

    The rebuild goes into a scratch schema (scratch files on SQLite), in one pass over the log,
    each read model up to where its live one stands. Exit 0 when all agree; 1 with the
    differences (read model, table, row key, columns) when not."""
    from interfaces.as_of import replay_and_compare
    from interfaces.bootstrap import default_settings, open_read_models
    from interfaces.cli.terminal import campaign, console, progress_bar
    from interfaces.settings import event_store_env

    settings = default_settings()
    with campaign() as app:
        live = open_read_models(settings)
        try:
            if as_json:  # stdout is the JSON alone
                result = replay_and_compare(app, event_store_env(settings), live)
            else:
                with progress_bar() as bar:
                    task = bar.add_task("replay", total=app.recorder.max_notification_id() or 0, note="")
                    result = replay_and_compare(app, event_store_env(settings), live,
                                                lambda done, end: bar.update(task, completed=done, total=end))
        finally:
            for model in live.values():
                model.view.datastore.close()
    if as_json:
        typer.echo(json.dumps({"clean": result.clean, "positions": result.positions, "events": result.events,
                               "differences": [vars(d) for ds in result.differences.values() for d in ds]},
                              default=str))
    else:
        for name, found in result.differences.items():
            state = "[green]same[/green]" if not found else f"[red]{len(found)} rows differ[/red]"
            console.print(f"{name}: position {result.positions[name]}, {result.events[name]} events replayed: {state}")
            for difference in found[:LIMIT]:
                console.print(f"  {escape(str(difference))}", highlight=False, soft_wrap=True)
            if len(found) > LIMIT:
                console.print(f"  … and {len(found) - LIMIT} more (--json lists them all)")
        console.print("[green]Every read model agrees with its rebuild.[/green]" if result.clean else
                      "[red]The live read models differ from a rebuild of the log.[/red]")
    if not result.clean:
        raise typer.Exit(1)

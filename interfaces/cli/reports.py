"""``rantai report …``: reconciliation reports to the screen, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from application.errors import ApplicationError
from interfaces.bootstrap import default_settings, open_campaign, open_read_models
from interfaces.reports import (
    EXPORTS,
    OPTION_LABELS,
    RATE,
    REPORTS,
    Report,
    ReportOptions,
    as_text,
    build_report,
    wib,
)
from projections.follower import Follower
from projections.read_model import ReadModel

reports = typer.Typer(help="Reconciliation reports.", no_args_is_help=True)
console = Console()


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"


Name = Annotated[str, typer.Argument(help=f"Which report: {', '.join(REPORTS)}")]
FromDay = Annotated[datetime | None, typer.Option(
    "--from", formats=["%Y-%m-%d"], help="First day of the period, WIB (stock), e.g. 2021-01-05")]
ToDay = Annotated[datetime | None, typer.Option(
    "--to", formats=["%Y-%m-%d"], help="Last day of the period, WIB (stock), e.g. 2021-01-10")]
Facility = Annotated[str | None, typer.Option(help="Only this facility code (shipments, stock, doses)")]
Phase = Annotated[int | None, typer.Option(help="Only this campaign phase (recipients)")]


@contextmanager
def read_models() -> Iterator[dict[str, ReadModel]]:
    models = open_read_models(default_settings())
    try:
        yield models
    finally:
        for model in models.values():
            model.view.datastore.close()


def produce(name: str, first_day: datetime | None, last_day: datetime | None,
            facility: str | None, phase: int | None) -> Report:
    options = ReportOptions(first_day.date() if first_day else None, last_day.date() if last_day else None,
                            facility, phase)
    with read_models() as models:
        if name in REPORTS:  # bring its read model up to the log's head first (safe beside a worker)
            campaign = open_campaign(default_settings())
            try:
                follower = Follower(campaign, models[REPORTS[name].read_model])
                follower.catch_up()
                if follower.stuck:
                    from interfaces.cli.terminal import errors

                    errors.print(f"Warning: read model {REPORTS[name].read_model} is stuck at log position "
                                 f"{follower.stuck['notification_id']}; this report stops there (see rantai projections "
                                 "status).", style="yellow", highlight=False, markup=False, soft_wrap=True)
            finally:
                campaign.close()
        try:
            return build_report(name, models, options)
        except ApplicationError as error:
            console.print(f"[red]{error}[/red]")
            raise typer.Exit(2) from None


def shown(kind: str, value: Any) -> str:
    if kind == RATE and value is not None:
        return f"{value:.1%}"
    return as_text(value)


@reports.command("list")
def list_reports() -> None:
    """The reports, what they show and the options they take."""
    table = Table("name", "title", "options", "what it shows")
    for definition in REPORTS.values():
        options = " ".join(f"--{OPTION_LABELS[name][2]}" for name in definition.accepts)
        table.add_row(definition.name, definition.title, options, definition.description)
    console.print(table)


@reports.command("show")
def show(name: Name, first_day: FromDay = None, last_day: ToDay = None,
         facility: Facility = None, phase: Phase = None) -> None:
    """Print a report, with the log position it reflects."""
    report = produce(name, first_day, last_day, facility, phase)
    columns = report.definition.columns
    table = Table(title=report.definition.title)
    for column in columns:
        table.add_column(column.title, justify="left" if column.kind == "text" else "right")
    for row in report.cells():
        table.add_row(*(shown(c.kind, v) for c, v in zip(columns, row, strict=True)))
    # never squeeze a report into a narrow terminal: folded or cropped figures mislead
    natural = Measurement.get(console, console.options.update_width(1000), table).maximum
    Console(width=max(console.width, natural)).print(table)
    if not report.rows:
        console.print("No rows.")
    console.print(report.position_line())
    options = "".join(f"; {label.lower()}: {value}" for label, value in report.option_lines())
    console.print(f"Generated {as_text(wib(report.generated_at))} WIB{options}.")


@reports.command("export")
def export(
    name: Name,
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="File to write")],
    fmt: Annotated[ExportFormat | None, typer.Option(
        "--format", help="csv or xlsx (default: from the --out file's extension)")] = None,
    first_day: FromDay = None, last_day: ToDay = None, facility: Facility = None, phase: Phase = None,
) -> None:
    """Write a report to CSV or XLSX, stating its log position, generation time and options."""
    chosen = fmt.value if fmt else ("xlsx" if out.suffix.lower() == ".xlsx" else "csv")
    report = produce(name, first_day, last_day, facility, phase)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(EXPORTS[chosen][1](report))
    console.print(f"{report.definition.title}: {len(report.rows)} rows written to {out} ({chosen}).")
    console.print(report.position_line())

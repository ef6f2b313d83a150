"""``rantai targets …`` and ``rantai blast …``: target lists and the SMS blast."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import typer

from application.target_lists import TARGET_COLUMNS
from interfaces.scenarios.sample import sample_rows

targets = typer.Typer(help="Target lists (sasaran).", no_args_is_help=True)
blast = typer.Typer(help="The SMS blast.", no_args_is_help=True)
sms = typer.Typer(help="Messages to recipients.", no_args_is_help=True)


class WrongColumns(ValueError):
    pass


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Check a target CSV's header now, then stream (line number, row)."""
    file = path.open(newline="", encoding="utf-8-sig")
    reader = csv.DictReader(file)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in TARGET_COLUMNS if c not in header]
    if missing:
        file.close()
        msg = (f"{path.name} does not have the columns {', '.join(missing)}; a target list needs "
               f"exactly: {','.join(TARGET_COLUMNS)} (found: {','.join(header) or 'nothing'}).")
        raise WrongColumns(msg)
    reader.fieldnames = header

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        with file:
            for row in reader:
                yield reader.line_num, row

    return rows()


def count_lines(path: Path) -> int:
    with path.open("rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


@targets.command("import")
def import_targets(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: " + ",".join(TARGET_COLUMNS)),
    phase: int = typer.Option(..., help="Campaign phase (1: health workers)"),
    source: str = typer.Option(..., help="Where the list comes from, e.g. 'BPJS 2021-01'"),
    report: Path | None = typer.Option(None, help="Rejected rows go here (default FILE.rejected.csv)"),
    workers: int = typer.Option(1, help="Processes preparing rows while this one writes (0: none)"),
) -> None:
    """Validate, deduplicate by NIK and import a target list (safe to run twice)."""
    from interfaces.cli.terminal import campaign, console, operator, progress_bar

    report = report or file.with_suffix(".rejected.csv")
    totals = {"imported": 0, "already_listed": 0, "rejected": 0}
    by = operator()
    try:
        rows = read_rows(file)
    except WrongColumns as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None
    with campaign() as app, report.open("w", newline="") as out, progress_bar() as bar:
        rejected = csv.writer(out)
        rejected.writerow(["line", "reason"])
        task = bar.add_task("Importing", total=max(count_lines(file) - 1, 0), note="")
        for batch in app.import_targets(rows, phase, source, by, workers=workers):
            rejected.writerows(batch.rejected)
            totals["imported"] += batch.imported
            totals["already_listed"] += batch.already_listed
            totals["rejected"] += len(batch.rejected) - batch.already_listed
            bar.update(task, completed=batch.last_line - 1, note=f"{totals['imported']} new")
    console.print(f"{totals['imported']} targets imported, {totals['already_listed']} already on the list, "
                  f"{totals['rejected']} rejected (see {report}).")


@targets.command("sample")
def sample(
    count: int = typer.Option(1000, help="How many targets"),
    districts: int = typer.Option(91, help="Spread over this many kabupaten/kota"),
    out: Path = typer.Option(Path("var/targets.csv"), help="Where to write the CSV"),
    seed: int = typer.Option(2021, help="Same seed, same list"),
) -> None:
    """Write a realistic synthetic target list (streamed; any size)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(TARGET_COLUMNS)
        writer.writerows(sample_rows(count, districts, seed))
    typer.echo(f"{count} targets in {districts} districts written to {out}")


@blast.command("start")
def start_blast(
    phase: int = typer.Option(..., help="Campaign phase"),
    districts: str = typer.Option(..., help="Comma-separated kabupaten/kota codes, or 'all-targeted'"),
    message: str = typer.Option(
        "Anda terdaftar sebagai penerima vaksin COVID-19. Daftar ulang di pedulilindungi.id atau *119#",
        help="The SMS text (no personal data)"),
    deadline: str = typer.Option("2021-01-13T23:59:59+07:00",
                                 help="When web and USSD registration close (ISO 8601 with its offset)"),
    days: str = typer.Option("2021-01-14,2021-01-15", help="The phase's vaccination days, comma-separated"),
    resend: bool = typer.Option(False, help="Start a new run: everyone gets the message again"),
) -> None:
    """Set the phase's calendar, then send (or resume) the blast; a killed run resumes
    where its last batch was recorded."""
    from interfaces.bootstrap import default_settings, open_sms_gateway
    from interfaces.cli.terminal import campaign, console, operator, progress_bar

    try:
        closes = datetime.fromisoformat(deadline)
        vaccination_days = [date.fromisoformat(d.strip()) for d in days.split(",") if d.strip()]
    except ValueError:
        console.print("[red]--deadline must be ISO 8601 (2021-01-13T23:59:59+07:00); --days like 2021-01-14.[/red]")
        raise typer.Exit(2) from None
    if closes.tzinfo is None:
        console.print("[red]--deadline needs its offset (+07:00 WIB, +08:00 WITA, +09:00 WIT).[/red]")
        raise typer.Exit(2)
    codes = sorted({d.strip() for d in districts.split(",") if d.strip()})
    by = operator()
    gateway = open_sms_gateway(default_settings())
    try:
        with campaign() as app, progress_bar() as bar:
            app.set_calendar(phase, closes, vaccination_days, by)
            run = app.start_blast(phase, codes, message, closes, by, resend=resend)
            task = bar.add_task(f"Blast run {run.run}", total=None, note="")
            sent = run.sent
            for sent in app.send_blast(run.id, gateway, by):
                bar.update(task, completed=sent, note=f"{sent} sent")
            console.print(f"Blast {run.id} (run {run.run}): {sent} messages sent.")
    finally:
        gateway.close()


@sms.command("reminders")
def reminders(day: str = typer.Option("", help="The vaccination day to remind of (default: tomorrow, WIB)")) -> None:
    """Send a reminder to everyone booked on DAY or due for dose 2 on it (run daily, the day
    before; running it twice sends nothing twice: each reminder has its own message id)."""
    from datetime import timedelta

    from domain.calendar import WIB, local_day
    from interfaces.bootstrap import default_settings, open_sms_gateway
    from interfaces.cli.terminal import campaign, console

    gateway = open_sms_gateway(default_settings())
    try:
        with campaign() as app:
            app.sms = gateway
            try:
                when = date.fromisoformat(day) if day else local_day(app.clock(), WIB) + timedelta(days=1)
            except ValueError:
                console.print("[red]--day must look like 2021-01-14.[/red]")
                raise typer.Exit(2) from None
            sent = app.send_reminders(when)
        console.print(f"{sent} reminders for {when.isoformat()} handed to the SMS gateway.")
    finally:
        gateway.close()

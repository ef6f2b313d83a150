"""``rantai targets …`` and ``rantai blast …``: target lists and the SMS blast."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from application.target_lists import TARGET_COLUMNS
from domain.provenance import Provenance
from interfaces.reference_data import kecamatan_codes, puskesmas_code

targets = typer.Typer(help="Target lists (sasaran).", no_args_is_help=True)
blast = typer.Typer(help="The SMS blast.", no_args_is_help=True)


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


def progress_bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("{task.fields[note]}"))


@targets.command("import")
def import_targets(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="CSV: " + ",".join(TARGET_COLUMNS)),
    phase: int = typer.Option(..., help="Campaign phase (1: health workers)"),
    source: str = typer.Option(..., help="Where the list comes from, e.g. 'BPJS 2021-01'"),
    report: Path | None = typer.Option(None, help="Rejected rows go here (default FILE.rejected.csv)"),
    actor: str = typer.Option("admin", help="Who is importing"),
    workers: int = typer.Option(1, help="Processes preparing rows while this one writes (0: none)"),
) -> None:
    """Validate, deduplicate by NIK and import a target list (safe to run twice)."""
    from interfaces.cli.main import campaign, console

    report = report or file.with_suffix(".rejected.csv")
    totals = {"imported": 0, "already_listed": 0, "rejected": 0}
    by = Provenance(actor, "KEMENKES", "cli", datetime.now(UTC))
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


FIRST = ["Siti", "Dewi", "Sri", "Nur", "Rina", "Ayu", "Putri", "Budi", "Agus", "Andi", "Dedi", "Rizky",
         "Ahmad", "Eko", "Hendra", "Wahyu", "Fitri", "Indah", "Yusuf", "Bambang", "Lestari", "Ratna"]
LAST = ["Santoso", "Wijaya", "Lestari", "Saputra", "Hidayat", "Nugroho", "Kurniawan", "Siregar",
        "Rahmawati", "Pratama", "Setiawan", "Susanti", "Wibowo", "Harahap", "Simanjuntak", "Purnomo"]
OPERATORS = ["811", "812", "813", "821", "822", "852", "853", "857", "858", "877", "878", "895", "896"]


def sample_rows(count: int, districts: int, seed: int = 2021) -> Iterator[list[str]]:
    """Synthetic health workers whose NIKs are valid for their kecamatan and birth date."""
    rng = random.Random(seed)
    by_district: dict[str, list[str]] = {}
    for code in kecamatan_codes():
        by_district.setdefault(code[:5], []).append(code)
    chosen = sorted(rng.sample(sorted(by_district), min(districts, len(by_district))))
    kecamatan = [k for d in chosen for k in by_district[d]]
    for i in range(count):
        kec = kecamatan[i % len(kecamatan)]
        serial = i // len(kecamatan) + 1
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
        woman = rng.random() < 0.7
        nik = f"{kec.replace('.', '')}{born.day + (40 if woman else 0):02d}{born:%m%y}{serial:04d}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"0{rng.choice(OPERATORS)}{rng.randrange(10**7, 10**8)}"
        category = "nakes" if rng.random() < 0.8 else "tenaga_penunjang"
        yield [nik, name, phone, category, kec[:5], puskesmas_code(kec)]


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
    deadline: datetime = typer.Option(datetime(2021, 1, 13, 23, 59), help="Registration closes (WIB)"),
    resend: bool = typer.Option(False, help="Start a new run: everyone gets the message again"),
    actor: str = typer.Option("admin", help="Who is sending"),
) -> None:
    """Send (or resume) the blast; a killed run resumes where its last batch was recorded."""
    from interfaces.bootstrap import open_sms_gateway
    from interfaces.cli.main import campaign, console
    from interfaces.settings import Settings

    wib = deadline if deadline.tzinfo else deadline.replace(tzinfo=datetime.now().astimezone().tzinfo)
    codes = sorted({d.strip() for d in districts.split(",") if d.strip()})
    by = Provenance(actor, "KEMENKES", "cli", datetime.now(UTC))
    gateway = open_sms_gateway(Settings())
    try:
        with campaign() as app, progress_bar() as bar:
            run = app.start_blast(phase, codes, message, wib, by, resend=resend)
            task = bar.add_task(f"Blast run {run.run}", total=None, note="")
            sent = run.sent
            for sent in app.send_blast(run.id, gateway, by):
                bar.update(task, completed=sent, note=f"{sent} sent")
            console.print(f"Blast {run.id} (run {run.run}): {sent} messages sent.")
    finally:
        gateway.close()

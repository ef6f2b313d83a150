"""The ``rantai`` command line."""

from __future__ import annotations

import typer
from rich.table import Table

from interfaces.bootstrap import create_schema, default_settings, open_sms_gateway
from interfaces.cli import audit as audit_cli
from interfaces.cli import audit_export, audit_history, audit_log  # noqa: F401  (they register their commands)
from interfaces.cli import database as database_cli
from interfaces.cli import labels as labels_cli
from interfaces.cli import lots as lots_cli
from interfaces.cli import projections as projections_cli
from interfaces.cli import reports as reports_cli
from interfaces.cli import scan as scan_cli
from interfaces.cli import targets as targets_cli
from interfaces.cli import tls as tls_cli
from interfaces.cli import users as users_cli
from interfaces.cli.terminal import campaign, console, operator, progress_bar
from interfaces.settings import SECRETS_FILE, ensure_secrets

app = typer.Typer(help="Rantai: track and trace for the vaccination campaign.", no_args_is_help=True)
db = typer.Typer(help="The event store.", no_args_is_help=True)
shipment = typer.Typer(help="Shipments.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(shipment, name="shipment")
app.add_typer(targets_cli.targets, name="targets")
app.add_typer(targets_cli.blast, name="blast")
app.add_typer(targets_cli.sms, name="sms")
app.add_typer(projections_cli.projections, name="projections")
app.command()(projections_cli.worker)
app.add_typer(reports_cli.reports, name="report")
app.add_typer(users_cli.users, name="users")
app.add_typer(scan_cli.scan, name="scan")
app.add_typer(labels_cli.labels, name="labels")
app.add_typer(lots_cli.lot, name="lot")
app.add_typer(audit_cli.audit, name="audit")
app.add_typer(audit_cli.keys, name="keys")
app.command()(tls_cli.tls)


@db.command("init")
def db_init() -> None:
    """Create the event store's tables (once, before serving processes start)."""
    if ensure_secrets():
        console.print(f"New keys (encryption, NIK secret, gateway secret, checkpoint signing key) written to "
                      f"{SECRETS_FILE} (keep it safe; back it up with rantai keys backup).")
        default_settings.cache_clear()
    names = create_schema(default_settings())
    console.print(f"Event store and read models ready ({', '.join(names)}).")


database_cli.register(db)  # rantai db backup / restore (after init, in that order in --help)


@app.command()
def demo(
    scenario: str = typer.Option("small", help="small: a cold chain of 21 shipments; jan2021: the rollout"),
    scale: float = typer.Option(0.01, help="jan2021 only: 1.0 is 500,000 health workers in 91 districts"),
) -> None:
    """Load a demo: a small January 2021 cold chain, or the whole rollout of 3–15 January."""
    from interfaces.scenarios.demo import is_loaded, run_demo

    if scenario == "jan2021":
        replay_rollout(scale)
        return
    if scenario != "small":
        console.print(f"[red]Unknown scenario {scenario!r}: choose small or jan2021.[/red]")
        raise typer.Exit(2)
    with campaign() as application:
        if is_loaded(application):
            console.print("Demo data is already loaded; nothing written.")
            return
        with console.status("Replaying 2–10 January 2021..."):
            run = run_demo(application)
        table = Table("from", "to", "status", "vials sent", "accepted", "excursion")
        table.add_column("shipment (SSCC)", no_wrap=True)
        for sscc in run.shipments:
            s = application.get_shipment(sscc)
            sent = sum(line.vials for line in s.lines)
            accepted = sum(line.accepted for line in s.receipt)
            table.add_row(s.origin, s.destination, s.status.value, str(sent), str(accepted),
                          "yes" if s.excursion else "", sscc)
        console.print(table)
        for note in run.notes:
            console.print(f"• {note}")
        console.print(f"{application.recorder.max_notification_id()} events in the log.")
        who = run.newcomer
        console.print(f"Try registering today (DEMO data, phase 2): NIK {who['nik']}, last phone digits "
                      f"{who['phone_last_four']}, at {who['facility']} on {who['day']} (POST /registrations).")


def replay_rollout(scale: float) -> None:
    import time

    from interfaces.scenarios.jan2021 import Rollout, rollout_loaded

    gateway = open_sms_gateway(default_settings())
    started = time.perf_counter()
    with campaign() as application, progress_bar() as bar:
        if rollout_loaded(application):
            console.print("The jan2021 scenario is already loaded; nothing written.")
            return
        tasks: dict[str, object] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total, note="")
            bar.update(tasks[step], completed=done, total=total)

        Rollout(application, gateway, scale=scale, progress=progress).run()
        events = application.recorder.max_notification_id()
    gateway.close()
    console.print(f"jan2021 at scale {scale}: {events:,} events in {time.perf_counter() - started:.0f} s.")


@shipment.command("show")
def shipment_show(sscc: str) -> None:
    """Show a shipment: route, lines, receipt and temperatures."""
    with campaign() as application:
        s = application.get_shipment(sscc)  # the operator reads everything
        console.print(f"[bold]Shipment {s.sscc}[/bold]  {s.origin} → {s.destination}  [{s.status.value}]")
        if s.dispatched_at:
            console.print(f"dispatched {s.dispatched_at}")
        if s.received_at:
            console.print(f"received {s.received_at} at {s.arrival_celsius} °C")
        received = {line.lot_key: line for line in s.receipt}
        table = Table("GTIN", "lot", "vials sent", "accepted", "rejected", "short", "reason", "VVM")
        for line in s.lines:
            r = received.get(line.lot_key)
            cells = ["", "", "", "", ""]
            if r:
                short = line.vials - r.accepted - r.rejected
                cells = [str(r.accepted), str(r.rejected), str(short), r.reason, str(r.vvm_stage)]
            table.add_row(line.gtin, line.lot_number, str(line.vials), *cells)
        console.print(table)
        for at, celsius, excursion in s.readings:
            console.print(f"{at}  {celsius} °C" + ("  [red]EXCURSION[/red]" if excursion else ""))


@app.command()
def stock(facility: str) -> None:
    """Show a facility's stock card: on hand per lot."""
    with campaign() as application:
        place = application.get_facility(facility)
        ledger = application.get_stock(facility)
        table = Table("GTIN", "lot", "expiry", "vials", "doses")
        for key, info in sorted(ledger.lots.items()):
            doses = ledger.doses_of(key)
            per = int(info["doses_per_vial"])
            table.add_row(str(info["gtin"]), str(info["lot_number"]), str(info["expiry"]),
                          f"{doses // per}" + (f" + {doses % per} doses" if doses % per else ""),
                          str(doses))
        console.print(f"[bold]{place.label()}[/bold]")
        console.print(table)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8000, help="Port to listen on"),
    workers: int = typer.Option(1, help="Server processes (PostgreSQL only; SQLite serves from one)"),
    certfile: str = typer.Option(None, help="HTTPS: certificate chain (PEM; rantai tls makes one); RANTAI_TLS_CERT"),
    keyfile: str = typer.Option(None, help="HTTPS: its private key (PEM); RANTAI_TLS_KEY"),
) -> None:
    """Serve the API (docs at /docs) on the configured event store, over HTTPS when given a certificate."""
    import os

    import uvicorn

    settings = default_settings()
    certfile, keyfile = certfile or settings.tls_cert, keyfile or settings.tls_key
    if bool(certfile) != bool(keyfile):
        console.print("[red]HTTPS needs both a certificate and its key (--certfile and --keyfile).[/red]")
        raise typer.Exit(2)
    if certfile:  # behind HTTPS the session cookie is Secure (worker processes inherit the environment)
        os.environ["RANTAI_SECURE_COOKIES"] = "true"
        default_settings.cache_clear()
    scheme = "https" if certfile else "http"
    console.print(f"Rantai: dashboard on {scheme}://{host}:{port}/  API docs on {scheme}://{host}:{port}/docs")
    uvicorn.run("interfaces.api.main:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, ssl_certfile=certfile, ssl_keyfile=keyfile)


if __name__ == "__main__":
    app()

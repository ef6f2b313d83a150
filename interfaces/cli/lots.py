"""``rantai lot …``: a lot's status (quarantine, lifting it, recall) and its recall trace.

Fixed interface: ``rantai lot quarantine GTIN LOT --reason TEXT --reference REF``,
``rantai lot lift-quarantine GTIN LOT --reason TEXT``, ``rantai lot recall GTIN
LOT --reason TEXT --reference REF``, ``rantai lot trace GTIN LOT --json``.
"""

from __future__ import annotations

import typer

from interfaces.cli.terminal import campaign, console, operator

lot = typer.Typer(help="Vaccine lots: quarantine, recall and the recall trace.", no_args_is_help=True)


@lot.command("quarantine")
def quarantine(
    gtin: str, lot_number: str = typer.Argument(..., metavar="LOT"),
    reason: str = typer.Option(..., help="Why the lot is held"),
    reference: str = typer.Option("", help="The BPOM notice or other reference"),
) -> None:
    """Hold a lot everywhere: it may not be packed onward, accepted as usable or given."""
    with campaign() as app:
        app.quarantine_lot(gtin, lot_number, reason, operator(), reference)
    console.print(f"Lot {lot_number} is in quarantine everywhere.")


@lot.command("lift-quarantine")
def lift_quarantine(
    gtin: str, lot_number: str = typer.Argument(..., metavar="LOT"),
    reason: str = typer.Option(..., help="Why the lot may be used again"),
) -> None:
    """Release a lot from quarantine."""
    with campaign() as app:
        app.release_lot_from_quarantine(gtin, lot_number, operator(), reason)
    console.print(f"Lot {lot_number} is released from quarantine.")


@lot.command("recall")
def recall(
    gtin: str, lot_number: str = typer.Argument(..., metavar="LOT"),
    reason: str = typer.Option(..., help="Why the lot is recalled"),
    reference: str = typer.Option("", help="The BPOM notice or other reference"),
) -> None:
    """Recall a lot everywhere at once: it can travel only back towards Bio Farma."""
    with campaign() as app:
        app.recall_lot(gtin, lot_number, reason, operator(), reference)
    console.print(f"Lot {lot_number} is recalled everywhere.")


@lot.command("trace")
def trace(
    gtin: str, lot_number: str = typer.Argument(..., metavar="LOT"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object and nothing else"),
) -> None:
    """Where the lot is now and who was vaccinated from it (the recall trace read model,
    brought up to the log's head first)."""
    import json

    from interfaces.bootstrap import default_settings, open_read_models
    from interfaces.cli.terminal import errors
    from projections.follower import Follower

    with campaign() as app:
        model = open_read_models(default_settings(), only=["recall_trace"])["recall_trace"]
        try:
            Follower(app, model).catch_up()
            found = model.view.trace(app.get_lot(gtin, lot_number).gtin, lot_number,
                                     app.today_at("BIOFARMA").isoformat())
            position = model.view.max_tracking_id(app.name) or 0
        finally:
            model.view.datastore.close()
    if found is None:
        errors.print("That lot is not known.", style="red", highlight=False, markup=False)
        raise typer.Exit(1)
    found["log_position"] = position
    if as_json:
        typer.echo(json.dumps(found, default=str))
        return
    console.print(f"[bold]Lot {lot_number}[/bold] ({found['status']}), log position {position}")
    for row in found["on_hand"]:
        console.print(f"  on hand at {row['facility']}: {row['usable_doses']} usable, "
                      f"{row['quarantined_doses']} quarantined doses")
    for row in found["in_transit"]:
        console.print(f"  in transit {row['sscc']}: {row['origin']} → {row['destination']}, {row['vials']} vials")
    console.print(f"  {found['doses_given']} doses given to {found['recipients']} people; {found['aefi']} AEFI reports")

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

"""``rantai audit export …``: standard documents for other systems.

Fixed interface: ``rantai audit export epcis (--shipment SSCC | --gtin GTIN --lot LOT |
--from DAY --to DAY) [--out FILE]`` and ``rantai audit export fhir (--facility CODE |
--recipient ID | --nik-stdin) [--from DAY] [--to DAY] [--out FILE]``. The document goes to FILE or
stdout; a FHIR export names people by NIK and is recorded as a read of their data.
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import typer

from interfaces.cli.audit import audit, keys  # noqa: F401
from interfaces.cli.terminal import campaign, errors, operator
from interfaces.exports.documents import epcis_document, fhir_bundle

export = typer.Typer(help="Standard documents: GS1 EPCIS 2.0 (logistics), HL7 FHIR Immunization (doses).",
                     no_args_is_help=True)
audit.add_typer(export, name="export")

DAY = ["%Y-%m-%d"]
OUT = typer.Option(None, "--out", help="Write the document to this file (default: stdout)")
FROM = typer.Option(None, "--from", formats=DAY, help="First day of a period (YYYY-MM-DD)")
TO = typer.Option(None, "--to", formats=DAY, help="Last day of a period, inclusive")


@export.command("epcis")
def epcis(
    shipment: str = typer.Option(None, help="A shipment's SSCC"),
    gtin: str = typer.Option(None, help="A lot's GTIN (with --lot)"),
    lot: str = typer.Option(None, help="A lot's number (with --gtin)"),
    first: datetime = FROM, last: datetime = TO, out: Path = OUT,
) -> None:
    """An EPCIS 2.0 JSON-LD document of a shipment, a lot, or a period's logistics events."""
    with campaign() as app:
        document = epcis_document(app, operator(), shipment=shipment, gtin=gtin, lot=lot, first=day(first),
                                  last=day(last))
    write(document, out, f"{len(document['epcisBody']['eventList'])} EPCIS events")


@export.command("fhir")
def fhir(
    facility: str = typer.Option(None, help="Doses given at this facility or below it (a district, national)"),
    recipient: str = typer.Option(None, help="Doses of one person, by id (never a NIK)"),
    nik_stdin: bool = typer.Option(False, "--nik-stdin", help="Doses of one person, the NIK read from stdin"),
    first: datetime = FROM, last: datetime = TO, out: Path = OUT,
) -> None:
    """A FHIR R4 bundle of Immunization resources (SATUSEHAT's shape), the patient by NIK."""
    with campaign() as app:
        if nik_stdin:  # a NIK never on a command line (shell history, the process list)
            recipient = app.find_by_nik(sys.stdin.readline().strip()).id.hex
        bundle = fhir_bundle(app, operator(), facility=facility, recipient=recipient, first=day(first), last=day(last))
    write(bundle, out, f"{len(bundle['entry'])} immunizations")


def day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def write(document: dict[str, Any], out: Path | None, what: str) -> None:
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if out is None:
        typer.echo(text)
        return
    out.write_text(text + "\n")
    errors.print(f"{what} written to {out}.", highlight=False)

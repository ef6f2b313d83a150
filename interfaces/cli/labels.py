"""``rantai labels …``: printable labels from the store (the server's own command line).

The interface is fixed (other tools call it): ``rantai labels shipment SSCC
--pdf FILE`` and ``rantai labels lot GTIN LOT --count N --pdf FILE`` write
A4 PDF sheets (shipment labels 8 a page, 105 x 74 mm; lot labels 24 a page,
70 x 37 mm). ``--png`` and ``--svg`` write one label. The QR codes point at
``--resolver`` (``RANTAI_GS1_RESOLVER``; GS1's own by default).
"""

from __future__ import annotations

from pathlib import Path

import typer

from interfaces.cli.terminal import campaign, console
from interfaces.scanner import drawing
from interfaces.scanner import labels as printing
from interfaces.scanner.digital_link import RESOLVER

labels = typer.Typer(help="Printable labels: shipments, lots (boxes and vials), tickets.", no_args_is_help=True)
PDF = typer.Option(None, "--pdf", help="Write an A4 PDF sheet", dir_okay=False, writable=True)
PNG = typer.Option(None, "--png", help="Write the (first) label as PNG, 300 dpi", dir_okay=False, writable=True)
SVG = typer.Option(None, "--svg", help="Write the (first) label as SVG", dir_okay=False, writable=True)
RESOLVER_OPTION = typer.Option(RESOLVER, "--resolver", envvar="RANTAI_GS1_RESOLVER",
                               help="The GS1 Digital Link resolver the codes point at")


def _write(drawings: list[drawing.Drawing], sheet: drawing.Sheet, pdf: Path | None, png: Path | None,
           svg: Path | None) -> None:
    if not (pdf or png or svg):
        console.print("[red]Say where to write: --pdf FILE, --png FILE or --svg FILE.[/red]")
        raise typer.Exit(2)
    if pdf:
        pdf.write_bytes(drawing.pdf(drawings, sheet))
        pages = -(-len(drawings) // sheet.per_page)
        console.print(f"{len(drawings)} label(s) on {pages} A4 page(s): {pdf}")
    if png:
        png.write_bytes(drawing.png(drawings[0]))
        console.print(f"PNG: {png}")
    if svg:
        svg.write_text(drawing.svg(drawings[0]))
        console.print(f"SVG: {svg}")


@labels.command("shipment")
def shipment(
    sscc: list[str] = typer.Argument(..., help="One or more shipments' SSCC (18 digits)", metavar="SSCC..."),
    pdf: Path | None = PDF, png: Path | None = PNG, svg: Path | None = SVG,
    copies: int = typer.Option(1, min=1, max=50, help="Labels of each shipment (a box, the paperwork)"),
    resolver: str = RESOLVER_OPTION,
) -> None:
    """A shipment's label: QR, SSCC, from -> to, the lots and vials, the packing date."""
    with campaign() as app:
        cards = [printing.shipment_card(app, app.get_shipment(number)) for number in sscc]
    _write([printing.shipment_label(card, resolver) for card in cards for _ in range(copies)],
           printing.SHIPMENT_SHEET, pdf, png, svg)


@labels.command("lot")
def lot(
    gtin: str = typer.Argument(..., help="The product's GTIN"),
    lot_number: str = typer.Argument(..., metavar="LOT", help="The lot number"),
    count: int = typer.Option(1, min=1, max=10_000, help="How many labels (one per box or vial)"),
    serial: bool = typer.Option(True, "--serial/--no-serial", help="A random serial (AI 21) on each label"),
    pdf: Path | None = PDF, png: Path | None = PNG, svg: Path | None = SVG,
    resolver: str = RESOLVER_OPTION,
) -> None:
    """Labels for a lot's boxes or vials: QR with GTIN, lot, expiry (and a serial), and the same in words."""
    with campaign() as app:
        cards = printing.lot_cards(app, gtin, lot_number, count, serial)
    _write([printing.lot_label(card, resolver) for card in cards], printing.LOT_SHEET, pdf, png, svg)


@labels.command("ticket")
def ticket(
    code: str = typer.Argument(..., metavar="TICKET", help="The ticket's code (10 characters)"),
    pdf: Path | None = PDF, png: Path | None = PNG, svg: Path | None = SVG,
) -> None:
    """A recipient's ticket: the code as QR and in letters, the puskesmas and the day (never the NIK)."""
    with campaign() as app:
        card = printing.ticket_card(app, code)
    _write([printing.ticket_label(card)], printing.TICKET_SHEET, pdf, png, svg)

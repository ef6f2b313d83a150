"""``rantai scan …``: the codes in photos, read as the API reads them, without the store.

The interface is fixed (other tools call it): ``rantai scan decode --json
IMAGE...`` prints one JSON object per image, one a line, in the order given::

    {"file": "<path as given>", "codes": [{"text": …, "symbology": "qr|datamatrix|gs1-128|ean-13|other",
     "kind": "shipment|lot|ticket|unknown", "parsed": {…} or null}], "error": null}

A file that cannot be opened as an image (missing, not an image, empty,
truncated, too large, too many pixels) gives ``"codes": []`` and the reason
in ``"error"``, and the run goes on. Exit status 0 when every file was
opened as an image (codes found or not), 1 otherwise. Nothing else on stdout.
"""

from __future__ import annotations

import json

import typer

from interfaces.scanner.decoding import MAX_BYTES, ImageRefused, decode
from interfaces.scanner.digital_link import ScanNotUnderstood, read

scan = typer.Typer(help="Codes in photos: QR, GS1 DataMatrix, GS1-128, EAN-13.", no_args_is_help=True)


def _describe(text: str) -> tuple[str, dict[str, str | None] | None]:
    try:
        label = read(text)
    except ScanNotUnderstood:
        return "unknown", None
    return label.kind, label.fields()


def _read_file(path: str) -> bytes:
    """At most ``MAX_BYTES`` (a larger file is refused unread)."""
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ImageRefused("No such file.") from None
    except IsADirectoryError:
        raise ImageRefused("This is a directory, not a photo.") from None
    except OSError as error:
        raise ImageRefused(f"The file cannot be read ({error.strerror}).") from None
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"The file is larger than {MAX_BYTES // 1_000_000} MB: send a smaller photo.")
    return data


def decode_file(path: str) -> dict[str, object]:
    try:
        found = decode(_read_file(path))
    except ImageRefused as refusal:
        return {"file": path, "codes": [], "error": refusal.message}
    codes = []
    for code in found:
        kind, parsed = _describe(code.text)
        codes.append({"text": code.text, "symbology": code.symbology, "kind": kind, "parsed": parsed})
    return {"file": path, "codes": codes, "error": None}


@scan.command("decode")
def decode_images(
    images: list[str] = typer.Argument(..., help="Photos (JPEG, PNG, WebP), as many as you like", metavar="IMAGE..."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per image, one a line; nothing else"),
) -> None:
    """Read every code in each photo: its text, symbology and what it names."""
    failed = False
    for path in images:
        record = decode_file(path)
        failed = failed or record["error"] is not None
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False))
            continue
        if record["error"]:
            typer.echo(f"{path}: {record['error']}", err=True)
        elif not record["codes"]:
            typer.echo(f"{path}: no code found")
        for code in record["codes"]:  # type: ignore[union-attr]
            typer.echo(f"{path}: {code['kind']} ({code['symbology']}) {code['text']!r}")
    raise typer.Exit(1 if failed else 0)

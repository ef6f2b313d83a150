"""Files a scanner must refuse, made in the tests: shared by the CLI and the API tests."""

from __future__ import annotations

import io
import struct
import zlib
from functools import cache

from PIL import Image

from interfaces.scanner.digital_link import shipment_uri
from interfaces.scanner.labels import qr_png

SSCC = "089928060000000013"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def bomb_png(side: int = 30_000) -> bytes:
    """A valid 1-bit PNG of ``side`` x ``side`` white pixels, ~100 KB: 900 megapixels once decompressed."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)  # filter byte, then the row's bits
    packer = zlib.compressobj(9)
    parts = [packer.compress(row * 1000) for _ in range(side // 1000)]
    parts.append(packer.compress(row * (side % 1000)) + packer.flush())
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")


@cache
def label_jpeg() -> bytes:
    """A photo-like JPEG of a shipment label's code."""
    image = Image.open(io.BytesIO(qr_png(shipment_uri(SSCC)))).convert("L")
    buffer = io.BytesIO()
    image.rotate(12, expand=True, fillcolor=200).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def truncated_jpeg() -> bytes:
    return label_jpeg()[: len(label_jpeg()) // 2]


NOT_AN_IMAGE = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n" + b"x" * 2000
EMPTY = b""
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 100

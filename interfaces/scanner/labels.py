"""QR labels as PNG images, and reading them back from a photo."""

from __future__ import annotations

import io

import qrcode
from PIL import Image, ImageOps


def qr_png(payload: str, *, box_size: int = 8) -> bytes:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=4)
    code.add_data(payload)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def decode_image(data: bytes) -> list[str]:
    """Every QR payload found in a photo; tries a few clean-ups if the first look fails."""
    from pyzbar import pyzbar  # needs the system library libzbar0

    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("L")
    attempts = (
        lambda im: im,
        ImageOps.autocontrast,
        lambda im: im.resize((im.width * 2, im.height * 2)),
        lambda im: im.point(lambda p: 255 if p > 128 else 0),
    )
    for clean in attempts:
        found = pyzbar.decode(clean(image), symbols=[pyzbar.ZBarSymbol.QRCODE])
        if found:
            return [symbol.data.decode("utf-8") for symbol in found]
    return []

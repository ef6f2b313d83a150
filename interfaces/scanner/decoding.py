"""Every code in a photo: its text, symbology and position, inside a time budget.

``decode(data)`` opens the bytes as an image only after checking them (not
empty, not too many bytes, a known image format, not too many pixels: the
pixel count is read from the header, before anything is decompressed), then
runs ``STEPS`` in order. A step that reads a code and saw none it could not
read ends the run; otherwise the next step looks, until the budget is spent:

1. zxing-cpp, QR, on the photo at half size (a JPEG decoded at half size
   straight from its DCT): most photos end here. A wide photo (a pallet, over
   2000 px) goes on to full size whatever it found;
2. zxing-cpp, QR, at full size (small modules, far labels);
3. zxing-cpp at full size for the other symbols: GS1 DataMatrix (vials and
   boxes), GS1-128 and EAN-13 (cartons), and light-on-dark codes (a phone's
   screen in dark mode);
4. zxing-cpp on the photo sharpened (blur, motion, JPEG);
5. zxing-cpp on the photo upscaled x2 and sharpened (blur and small modules);
6. pyzbar on the photo sharpened: a second, independent reader as the last resort.

Order and clean-ups were chosen on the bench's corpus of phone-like photos
(``bench/qr_score.py``; figures in ``bench/README.md``): sharpening is what
recovers blurred codes, for zxing-cpp far more than for pyzbar; pyzbar's
clean-ups (autocontrast, local binarisation, upscaling) read no code there
that the zxing-cpp steps had not; Micro QR is not read (its tiny symbols
have no error correction: text and stripes read as one).

``text`` is the content as the symbol carries it: a Digital Link URI as is;
a GS1 element string with its symbology identifier (``]d2``, ``]Q3``,
``]C1``) and ASCII 29 between variable-length elements, as a handheld
scanner would type it.
"""

from __future__ import annotations

import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter, ImageOps, UnidentifiedImageError

from interfaces.scanner.digital_link import ScanNotUnderstood

MAX_BYTES = 20_000_000  # a file (the API's own body limit is lower)
MAX_PIXELS = 40_000_000  # 8000 x 5000: any phone's photo; a decompression bomb is refused before decoding
MAX_SIDE = 3000  # a larger JPEG is decoded scaled down (1/2, 1/4...) towards this, straight from its DCT
FORMATS = ("JPEG", "PNG", "WEBP", "BMP")
BUDGET_SECONDS = 0.5  # once spent, no further step is started
UPSCALE_SIDE = 2000  # larger photos are not upscaled (their codes are read at full size, or not at all)
WIDE_SIDE = 2000  # a larger photo is a wide shot (a pallet): reading it at half size does not end the run

Point = tuple[int, int]


class ImageRefused(ScanNotUnderstood):
    """Bytes that are not a photo this scanner may open: the reason in words."""


@dataclass(frozen=True)
class Found:
    text: str
    symbology: str  # qr | datamatrix | gs1-128 | ean-13 | other
    position: tuple[Point, Point, Point, Point]  # corners in the photo's pixels, clockwise from the code's top left


class Photo:
    """The checked bytes of a photo, decoded to grey at full or half size when a step first asks."""

    def __init__(self, data: bytes, max_pixels: int = MAX_PIXELS) -> None:
        self.data = data
        self.size = _check(data, max_pixels)
        self._grey: dict[bool, Image.Image] = {}

    def grey(self, half: bool = False) -> Image.Image:
        half = half and max(self.size) >= 1200  # smaller photos are read at full size only
        if half not in self._grey:
            self._grey[half] = _open(self.data, half)
        return self._grey[half]


def _check(data: bytes, max_pixels: int = MAX_PIXELS) -> tuple[int, int]:
    """The photo's size from its header, or ``ImageRefused``; nothing is decompressed yet."""
    if not data:
        raise ImageRefused("The file is empty: take the photo again.")
    if len(data) > MAX_BYTES:
        raise ImageRefused(f"The file is larger than {MAX_BYTES // 1_000_000} MB: send a smaller photo.")
    if data[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftypheif"):
        raise ImageRefused("This is a HEIC photo, which the scanner cannot open: send it as JPEG "
                           "(on an iPhone: Settings > Camera > Formats > Most Compatible).")
    width, height = _header(data).size
    if width * height > max_pixels:
        raise ImageRefused(_too_many_pixels(max_pixels, width, height))
    return width, height


def _header(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's own bomb warning: refused in words instead
            return Image.open(io.BytesIO(data), formats=FORMATS)
    except Image.DecompressionBombError:
        raise ImageRefused(_too_many_pixels(MAX_PIXELS)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("This file is not a photo the scanner can read (JPEG, PNG or WebP): "
                           "take the photo again with the phone's camera.") from None


def _open(data: bytes, half: bool) -> Image.Image:
    image = _header(data)
    side = max(image.size) // (2 if half else 1)
    try:
        if image.format == "JPEG":
            scale = 1
            while max(image.size) // (scale * 2) >= min(side, MAX_SIDE) and scale < 8:
                scale *= 2
            image.draft("L", (image.width // scale, image.height // scale))
        image.load()
        if image.mode != "L" and ("A" in image.getbands() or "transparency" in image.info):
            image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
        grey = image if image.mode == "L" else image.convert("L")  # a transparent background reads as paper
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        raise ImageRefused("The photo is damaged or cut short (truncated): take it again, "
                           "or send it again if it was copied.") from None
    if max(grey.size) > side * 1.5:
        grey = grey.reduce(round(max(grey.size) / side))
    return grey


def _too_many_pixels(limit: int, width: int = 0, height: int = 0) -> str:
    size = f" ({width:,} x {height:,})" if width else ""
    return (f"The image has too many pixels{size}; at most {limit // 1_000_000} megapixels are read: "
            "send the photo at a lower resolution, not a scan of a large sheet.")


def open_photo(data: bytes) -> Image.Image:
    """The photo in grey at full size, or ``ImageRefused``; memory stays bounded whatever the bytes say."""
    return Photo(data).grey()


# The steps: each looks at the photo and says what it read, and whether it saw a code it could not read.

@dataclass(frozen=True)
class Attempt:
    found: list[Found]
    unread: bool  # a code was seen and not read, or may have been missed: the next step should look


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Photo], Attempt]


def _zxing(image: Image.Image, scale: float, formats: str, invert: bool = False, downscale: bool = True) -> Attempt:
    import zxingcpp

    found, unread = [], False
    for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.barcode_formats_from_str(formats),
                                          text_mode=zxingcpp.TextMode.Plain, try_invert=invert,
                                          try_downscale=downscale, return_errors=True):
        if not barcode.valid:
            unread = True
            continue
        text = barcode.text
        if barcode.content_type == zxingcpp.ContentType.GS1:
            text = barcode.symbology_identifier + text
        p = barcode.position
        corners = tuple((round(pt.x * scale), round(pt.y * scale))
                        for pt in (p.top_left, p.top_right, p.bottom_right, p.bottom_left))
        found.append(Found(text, _symbology(barcode.format.name, barcode.symbology_identifier), corners))  # type: ignore[arg-type]
    return Attempt(found, unread)


def _symbology(name: str, identifier: str) -> str:
    if name == "QRCode":
        return "qr"
    if name == "DataMatrix":
        return "datamatrix"
    if name == "Code128" and identifier == "]C1":
        return "gs1-128"
    if name == "EAN13":
        return "ean-13"
    return "other"


QR = "QRCodeModel2"  # not Micro QR: its tiny symbols have no error correction, and text reads as one


def zxing_half(photo: Photo) -> Attempt:
    """A wide photo (over ``WIDE_SIDE``) goes on to full size: it may hold codes too small for half."""
    image = photo.grey(half=True)
    attempt = _zxing(image, photo.size[0] / image.width, QR, downscale=False)  # half size is zxing's downscale
    return Attempt(attempt.found, attempt.unread or max(photo.size) > WIDE_SIDE)


def zxing_full(photo: Photo) -> Attempt:
    image = photo.grey()
    return _zxing(image, photo.size[0] / image.width, QR)


def zxing_other(photo: Photo) -> Attempt:
    """GS1 DataMatrix (vials, boxes), GS1-128 and EAN-13 (cartons), and light-on-dark codes (a phone's screen)."""
    image = photo.grey()
    return _zxing(image, photo.size[0] / image.width, f"{QR},DataMatrix,Code128,EAN13", invert=True)


def zxing_sharpened(photo: Photo) -> Attempt:
    image = photo.grey()
    return _zxing(sharpened(image, 2), photo.size[0] / image.width, f"{QR},DataMatrix", downscale=False)


def zxing_upscaled(photo: Photo) -> Attempt:
    image = photo.grey()
    if max(image.size) > UPSCALE_SIDE:
        return Attempt([], False)
    return _zxing(sharpened(upscaled(image)), photo.size[0] / image.width / 2, f"{QR},DataMatrix", downscale=False)


def _pyzbar(image: Image.Image, scale: float) -> Attempt:
    from pyzbar import pyzbar as zbar  # needs the system library libzbar0

    found = []
    for symbol in zbar.decode(image, symbols=[zbar.ZBarSymbol.QRCODE, zbar.ZBarSymbol.EAN13]):
        try:
            text = symbol.data.decode("utf-8")
        except UnicodeDecodeError:
            continue  # never guess at a text the symbol did not carry
        xs, ys = [round(x * scale) for x, _ in symbol.polygon], [round(y * scale) for _, y in symbol.polygon]
        corners = ((min(xs), min(ys)), (max(xs), min(ys)), (max(xs), max(ys)), (min(xs), max(ys)))
        found.append(Found(text, {"QRCODE": "qr", "EAN13": "ean-13"}.get(symbol.type, "other"), corners))
    return Attempt(found, False)


def pyzbar_step(name: str, clean: Callable[[Image.Image], Image.Image] = lambda image: image,
                scale: float = 1.0) -> Step:
    def run(photo: Photo) -> Attempt:
        image = photo.grey()
        return _pyzbar(clean(image), photo.size[0] / image.width / scale)

    return Step(name, run)


def sharpened(image: Image.Image, radius: float = 3) -> Image.Image:
    return image.filter(ImageFilter.UnsharpMask(radius=radius, percent=250, threshold=0))


def upscaled(image: Image.Image) -> Image.Image:
    return image.resize((image.width * 2, image.height * 2), Image.Resampling.BICUBIC)


def binarised(image: Image.Image) -> Image.Image:
    """Each pixel against the mean of its neighbourhood: uneven light and glare made flat."""
    background = image.filter(ImageFilter.BoxBlur(max(8, min(image.size) // 40)))
    return ImageChops.subtract(image, background, scale=1.0, offset=128).point(lambda p: 255 if p >= 124 else 0)


ZXING_ALONE = [Step("zxing", zxing_other)]
PYZBAR_ALONE = [pyzbar_step("pyzbar")]
PYZBAR_CLEANUPS = [
    pyzbar_step("pyzbar"),
    pyzbar_step("pyzbar_autocontrast", ImageOps.autocontrast),
    pyzbar_step("pyzbar_sharpened", sharpened),
    pyzbar_step("pyzbar_binarised", binarised),
    pyzbar_step("pyzbar_upscaled", upscaled, scale=2.0),
]
STEPS = [
    Step("zxing_half", zxing_half),
    Step("zxing_full", zxing_full),
    Step("zxing_other", zxing_other),
    Step("zxing_sharpened", zxing_sharpened),
    Step("zxing_upscaled", zxing_upscaled),
    pyzbar_step("pyzbar_sharpened", sharpened),
]


def decode(data: bytes, steps: list[Step] | None = None, budget: float = BUDGET_SECONDS,
           max_pixels: int = MAX_PIXELS) -> list[Found]:
    """Every code found in the photo ``data``, each text once; ``ImageRefused`` if it is not a photo."""
    photo = Photo(data, max_pixels)
    deadline = time.perf_counter() + budget
    found: dict[str, Found] = {}
    for step in STEPS if steps is None else steps:
        attempt = step.run(photo)
        for code in attempt.found:
            found.setdefault(code.text, code)
        if (found and not attempt.unread) or time.perf_counter() > deadline:
            break
    return list(found.values())

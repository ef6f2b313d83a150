"""Labels drawn once, in millimetres, and rendered as PNG, SVG or an A4 PDF sheet.

A ``Drawing`` is a list of codes (a module matrix at a module size) and text
lines. The same drawing becomes a raster (PNG; PDF pages at 300 dpi, 1 bit
per pixel, CCITT G4, so codes print crisp) or an SVG (one path per code, text
as text). Modules are snapped to whole printer dots, so every module of a
code is the same size on paper.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from xml.etree import ElementTree as ET

from PIL import Image, ImageDraw, ImageFont

MM_PER_INCH = 25.4
DPI = 300
A4 = (210.0, 297.0)
FONT_FAMILY = "Aileron, Helvetica, Arial, sans-serif"  # Pillow's own font (Aileron) in the raster


@dataclass(frozen=True)
class Code:
    x: float  # mm from the left, top-left corner of the quiet zone
    y: float
    matrix: tuple[tuple[bool, ...], ...]  # dark modules, quiet zone included
    module: float  # mm

    @property
    def size(self) -> float:
        return len(self.matrix) * self.module


@dataclass(frozen=True)
class Text:
    x: float  # mm, left edge
    y: float  # mm, top of the line
    text: str
    size: float  # mm, the font's em
    bold: bool = False


@dataclass
class Drawing:
    width: float  # mm
    height: float
    items: list[Code | Text] = field(default_factory=list)


@cache
def _font(pixels: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=pixels)


def text_width(text: str, size: float) -> float:
    """The width in mm of ``text`` at ``size`` (Pillow's metrics, used for the SVG too)."""
    return _font(100).getlength(text) * size / 100


def fit(text: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis to fit ``width`` mm."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def wrap(text: str, size: float, width: float, lines: int = 2) -> list[str]:
    """``text`` broken at spaces into at most ``lines`` lines of ``width`` mm, the last cut to fit."""
    out: list[str] = []
    words = text.split()
    while words and len(out) < lines - 1:
        line = words.pop(0)
        while words and text_width(f"{line} {words[0]}", size) <= width:
            line += " " + words.pop(0)
        out.append(fit(line, size, width))
    if words:
        out.append(fit(" ".join(words), size, width))
    return out


def _dots(mm: float, dpi: int) -> int:
    return round(mm * dpi / MM_PER_INCH)


def raster(drawing: Drawing, dpi: int = DPI, mode: str = "L") -> Image.Image:
    """The drawing at ``dpi``: grey-scale (PNG) or 1 bit (PDF)."""
    image = Image.new("L", (_dots(drawing.width, dpi), _dots(drawing.height, dpi)), 255)
    pen = ImageDraw.Draw(image)
    for item in drawing.items:
        left, top = _dots(item.x, dpi), _dots(item.y, dpi)
        if isinstance(item, Code):
            step = max(1, _dots(item.module, dpi))
            modules = Image.new("L", (len(item.matrix), len(item.matrix)))
            modules.putdata([0 if dark else 255 for line in item.matrix for dark in line])
            image.paste(modules.resize((modules.width * step, modules.height * step), Image.Resampling.NEAREST),
                        (left, top))
        else:
            font = _font(max(1, _dots(item.size, dpi)))
            pen.text((left, top), item.text, fill=0, font=font, stroke_width=1 if item.bold else 0, stroke_fill=0)
    return image if mode == "L" else image.point(lambda p: 255 if p > 160 else 0, mode="1")


def png(drawing: Drawing, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    raster(drawing, dpi).save(buffer, format="PNG", dpi=(dpi, dpi), optimize=True)
    return buffer.getvalue()


def svg(drawing: Drawing) -> str:
    root = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", version="1.1",
                      width=f"{drawing.width:g}mm", height=f"{drawing.height:g}mm",
                      viewBox=f"0 0 {drawing.width:g} {drawing.height:g}")
    ET.SubElement(root, "rect", width="100%", height="100%", fill="#fff")
    for item in drawing.items:
        if isinstance(item, Code):
            ET.SubElement(root, "path", d=_runs(item), fill="#000", attrib={"shape-rendering": "crispEdges"})
        else:
            node = ET.SubElement(root, "text", x=f"{item.x:.2f}", y=f"{item.y + item.size * 0.8:.2f}",
                                 attrib={"font-family": FONT_FAMILY, "font-size": f"{item.size:.2f}"})
            if item.bold:
                node.set("font-weight", "bold")
            node.text = item.text
    return ET.tostring(root, encoding="unicode")


def _runs(code: Code) -> str:
    """The dark modules as one path of horizontal runs (far smaller than a rect per module)."""
    m = code.module
    parts = []
    for row, line in enumerate(code.matrix):
        col = 0
        while col < len(line):
            if not line[col]:
                col += 1
                continue
            start = col
            while col < len(line) and line[col]:
                col += 1
            parts.append(f"M{code.x + start * m:.3f} {code.y + row * m:.3f}h{(col - start) * m:.3f}v{m:.3f}"
                         f"h{-(col - start) * m:.3f}z")
    return "".join(parts)


@dataclass(frozen=True)
class Sheet:
    """An A4 page cut into ``columns`` x ``rows`` labels of equal size, edge to edge."""

    columns: int
    rows: int

    @property
    def cell(self) -> tuple[float, float]:
        return A4[0] / self.columns, A4[1] / self.rows

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


def pdf(drawings: list[Drawing], sheet: Sheet, dpi: int = DPI) -> bytes:
    """Drawings laid out on A4 pages, ``sheet.per_page`` a page, left to right, top to bottom."""
    pages = []
    width, height = sheet.cell
    for first in range(0, max(len(drawings), 1), sheet.per_page):
        page = Image.new("1", (_dots(A4[0], dpi), _dots(A4[1], dpi)), 1)
        for slot, drawing in enumerate(drawings[first:first + sheet.per_page]):
            column, row = slot % sheet.columns, slot // sheet.columns
            page.paste(raster(drawing, dpi, mode="1"), (_dots(column * width, dpi), _dots(row * height, dpi)))
        pages.append(page)
    buffer = io.BytesIO()
    pages[0].save(buffer, format="PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return buffer.getvalue()

"""Phone-like photos of Rantai's own labels, from a fixed seed and fixed parameters.

    python -m bench.qr_corpus [--out DIR] [--seed N]

Writes ``DIR/*.jpg`` and ``DIR/manifest.json`` (each photo's codes, the
parameters it was made with). The parameters below were fixed before any
decoder was measured on them and are not tuned to a decoder: they model a
worker's phone at a handoff.

The camera: a phone's main camera (horizontal field of view 69°, a 26 mm
equivalent lens) at distance ``d``; the photo as a scanning app keeps it,
``width`` pixels wide, so a millimetre of label is ``width / (1.375 d)``
pixels (the sensor's long side spans the 69°). Each label is printed at 300 dpi (the project's own renderer,
``interfaces/scanner/labels.py``), then:

- pose: turned in its plane by any angle (0–360°), tilted out of plane by
  0–50° about a random axis, seen in true perspective from ``d``; the
  worker aims at the code, so a label whose code would fall out of the
  frame is moved until the code is in it (the rest of the label may not be);
- blur: Gaussian, radius 0–1.6 px (focus, hand shake), plus motion blur of
  2–6 px in a random direction in 30 % of photos;
- light: paper 190–245 and ink 20–70 grey levels, the photo darkened
  across by a gradient to 35–100 %, a glare spot in 25 % of photos;
- noise: sensor noise with sigma 2–8 grey levels;
- JPEG quality 35–90 (grey, as a decoder sees a colour photo's luma).

Scenes (counts at the default size):

- ``handoff`` (120): one shipment label on a cold box, 15–45 cm away,
  1600 x 1200 (or 1200 x 1600);
- ``desk`` (100): one lot label (box or vial; 3 in 4) or a ticket (1 in 4),
  10–30 cm away, 1600 x 1200;
- ``pallet`` (40): 2–4 shipment labels on a stack of boxes, 40–80 cm away,
  3000 x 2250 (a full photo, shrunk once by the phone);
- ``none`` (40): labels with text and stripes but no code, at any of the
  distances above: any code read from them is a wrong read;
- ``lot`` and ``ticket`` (none by default; ``--labels`` only): ``desk`` with a lot
  label only, or a ticket only.

"Small modules" are the far shots: at 45 cm a 1 mm module is ~2.6 px, a
0.5 mm module 1.3 px; in a pallet photo at 80 cm a 1 mm module is ~2.7 px. Distances are drawn log-uniformly. Vial
curvature, colour casts and reflections on film are not modelled.

``make_photo`` is also used by ``bench/qr_score.py --labels`` to render the
same scenes with other module sizes and error-correction levels.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing
import random
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter
from stdnum import ean

from application.campaign import TICKET_ALPHABET
from interfaces.scanner import drawing
from interfaces.scanner.digital_link import lot_uri, shipment_uri
from interfaces.scanner.labels import (
    LOT_SYMBOL,
    SHIPMENT_SYMBOL,
    TICKET_SYMBOL,
    LineCard,
    LotCard,
    ShipmentCard,
    Symbol,
    TicketCard,
    lot_label,
    shipment_label,
    ticket_label,
)

SEED = 20210114
DEFAULT_OUT = Path(__file__).parent / "results" / "qr-corpus.tmp"
SCENES = {"handoff": 120, "desk": 100, "pallet": 40, "none": 40}
HORIZONTAL_FOV = math.radians(69)
PRINT_DPI = 300

FACILITIES = ["PT Bio Farma (BIOFARMA)", "Dinas Kesehatan Provinsi Jawa Barat (32)",
              "Dinas Kesehatan Kota Bandung (32.73)", "Puskesmas Sukasari (P327301)",
              "Dinas Kesehatan Provinsi DKI Jakarta (31)", "Dinas Kesehatan Kota Jakarta Selatan (31.71)",
              "RSUD Kota Bogor (R327101)", "Puskesmas Kecamatan Tebet (P317101)"]
PRODUCTS = [("06970000000017", "CoronaVac 3 mcg/0.5 mL"), ("08992806000013", "Vaksin COVID-19 Bio Farma 10 dosis")]


@dataclass
class Shot:
    """One label in a photo: where it is and how the camera sees it."""

    distance_mm: float
    roll: float  # degrees, in the label's plane
    tilt: float  # degrees, out of plane
    tilt_axis: float  # degrees
    centre: tuple[float, float]  # fraction of the photo


@dataclass
class Photo:
    name: str
    scene: str
    width: int
    height: int
    labels: list[dict[str, object]]  # {"kind", and the card's fields}
    shots: list[Shot]
    blur: float
    motion: float
    motion_angle: float
    paper: int
    ink: int
    background: int
    light_floor: float
    light_angle: float
    glare: tuple[float, float, float] | None  # centre x, y (fractions), strength
    noise: float
    quality: int
    payloads: list[str] = field(default_factory=list)


def plan(seed: int = SEED, scenes: dict[str, int] | None = None) -> list[Photo]:
    """Every photo's parameters, drawn from ``seed`` (nothing rendered yet)."""
    rng = random.Random(seed)
    photos = []
    for scene, count in (scenes or SCENES).items():
        for i in range(count):
            photos.append(_plan_one(rng, scene, f"{scene}-{i:03d}"))
    return photos


def _log_uniform(rng: random.Random, low: float, high: float) -> float:
    return math.exp(rng.uniform(math.log(low), math.log(high)))


def _plan_one(rng: random.Random, scene: str, name: str) -> Photo:
    if scene == "pallet":
        width, height, count, near, far = 3000, 2250, rng.randint(2, 4), 400, 800
    elif scene in ("desk", "lot", "ticket"):
        width, height, count, near, far = 1600, 1200, 1, 100, 300
    elif scene == "handoff":
        width, height = (1600, 1200) if rng.random() < 0.5 else (1200, 1600)
        count, near, far = 1, 150, 450
    else:
        width, height, count = 1600, 1200, rng.randint(1, 2)
        near, far = rng.choice([(150, 450), (100, 300)])
    distance = _log_uniform(rng, near, far)
    labels = [_card(rng, scene) for _ in range(count)]
    shots = []
    for k in range(count):
        if count == 1:
            centre = (rng.uniform(0.35, 0.65), rng.uniform(0.35, 0.65))
        else:  # boxes side by side and stacked: one label each, in its own part of the photo
            columns = 2
            cx, cy = (k % columns + 0.5) / columns, (k // columns + 0.5) / 2
            centre = (cx + rng.uniform(-0.08, 0.08), cy + rng.uniform(-0.08, 0.08))
        shots.append(Shot(distance * rng.uniform(0.95, 1.05), rng.uniform(0, 360), rng.uniform(0, 50),
                          rng.uniform(0, 360), centre))
    paper = rng.randint(190, 245)
    return Photo(
        name=name, scene=scene, width=width, height=height, labels=labels, shots=shots,
        blur=rng.uniform(0, 1.6), motion=rng.uniform(2, 6) if rng.random() < 0.3 else 0.0,
        motion_angle=rng.uniform(0, 180), paper=paper, ink=rng.randint(20, 70),
        background=rng.randint(90, 200), light_floor=rng.uniform(0.35, 1.0), light_angle=rng.uniform(0, 360),
        glare=(rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(60, 140)) if rng.random() < 0.25 else None,
        noise=rng.uniform(2, 8), quality=rng.randint(35, 90),
    )


def _sscc(rng: random.Random) -> str:
    body = "0" + "8992806" + f"{rng.randrange(10**9):09d}"
    return body + ean.calc_check_digit(body)


def _random(rng: random.Random) -> str:
    """A serial or a ticket: 10 characters of the ticket alphabet, from the seed."""
    return "".join(rng.choice(TICKET_ALPHABET) for _ in range(10))


def _card(rng: random.Random, scene: str) -> dict[str, object]:
    if scene in ("handoff", "pallet") or (scene == "none" and rng.random() < 0.5):
        origin, destination = rng.sample(FACILITIES, 2)
        lines = []
        for _ in range(rng.randint(1, 5)):
            gtin, product = rng.choice(PRODUCTS)
            lines.append({"product": product, "lot_number": f"{rng.choice('ABCV')}{rng.randrange(10**6):06d}",
                          "expiry": (date(2021, 6, 1) + timedelta(days=rng.randrange(900))).isoformat(),
                          "vials": rng.randint(1, 400)})
        return {"kind": "shipment", "sscc": _sscc(rng), "origin": origin, "destination": destination,
                "packed_on": (date(2021, 1, 2) + timedelta(days=rng.randrange(14))).isoformat(), "lines": lines}
    if scene == "lot" or (scene in ("desk", "none") and rng.random() < 0.75):
        gtin, product = rng.choice(PRODUCTS)
        return {"kind": "lot", "gtin": gtin, "product": product,
                "lot_number": f"{rng.choice(['A', 'CV', 'BF'])}{rng.randrange(10**8):08d}",
                "expiry": (date(2021, 6, 1) + timedelta(days=rng.randrange(900))).isoformat(),
                "serial": _random(rng) if rng.random() < 0.7 else None}
    return {"kind": "ticket", "ticket": _random(rng),
            "facility": rng.choice(FACILITIES[3:]), "day": "2021-01-14", "dose": rng.randint(1, 2)}


def render_label(card: dict[str, object], symbols: dict[str, Symbol]) -> tuple[drawing.Drawing, str]:
    """The project's own label for ``card``, and the payload its code carries."""
    if card["kind"] == "shipment":
        lines = tuple(LineCard(str(l["product"]), str(l["lot_number"]), date.fromisoformat(str(l["expiry"])),
                               int(l["vials"])) for l in card["lines"])  # type: ignore[union-attr]
        shipment = ShipmentCard(str(card["sscc"]), str(card["origin"]), str(card["destination"]),
                                date.fromisoformat(str(card["packed_on"])), lines)
        return shipment_label(shipment, symbol=symbols["shipment"]), shipment_uri(shipment.sscc)
    if card["kind"] == "lot":
        lot = LotCard(str(card["gtin"]), str(card["lot_number"]), date.fromisoformat(str(card["expiry"])),
                      str(card["product"]), card["serial"])  # type: ignore[arg-type]
        return lot_label(lot, symbol=symbols["lot"]), lot_uri(lot.gtin, lot.lot_number, lot.expiry, lot.serial)
    ticket = TicketCard(str(card["ticket"]), str(card["facility"]), date.fromisoformat(str(card["day"])),
                        int(card["dose"]))  # type: ignore[arg-type]
    return ticket_label(ticket, symbol=symbols["ticket"]), ticket.ticket


def _without_codes(label: drawing.Drawing, rng: random.Random) -> drawing.Drawing:
    """The same label with its code replaced by stripes and text (a photo that must read nothing)."""
    items: list[drawing.Code | drawing.Text] = []
    for item in label.items:
        if isinstance(item, drawing.Code):
            size = item.size
            for k in range(int(size / 1.2)):
                items.append(drawing.Text(item.x, item.y + k * 1.2, "".join(
                    rng.choice("||| Il1!") for _ in range(int(size / 1.5))), 1.3))
        else:
            items.append(item)
    return drawing.Drawing(label.width, label.height, items)


DEFAULT_SYMBOLS = {"shipment": SHIPMENT_SYMBOL, "lot": LOT_SYMBOL, "ticket": TICKET_SYMBOL}


def make_photo(photo: Photo, symbols: dict[str, Symbol] | None = None) -> tuple[bytes, list[str]]:
    """The JPEG of ``photo`` and the payloads of the codes in it."""
    rng = random.Random(photo.name)
    symbols = symbols or DEFAULT_SYMBOLS
    canvas = _noise(rng, (photo.width // 32, photo.height // 32), 16).resize(
        (photo.width, photo.height), Image.Resampling.BICUBIC)  # cardboard, a table: shades, no detail
    canvas = canvas.point(lambda p: max(0, min(255, photo.background + (p - 128))))
    focal = (max(photo.width, photo.height) / 2) / math.tan(HORIZONTAL_FOV / 2)  # in pixels
    payloads = []
    for card, shot in zip(photo.labels, photo.shots, strict=True):
        label, payload = render_label(card, symbols)
        shown = _without_codes(label, rng) if photo.scene == "none" else label
        if photo.scene != "none":
            payloads.append(payload)
        printed = drawing.raster(shown, PRINT_DPI)
        printed = printed.point(lambda p: photo.ink + (photo.paper - photo.ink) * p // 255)
        region = _place(canvas, printed, label, shot, focal)
        _blur(canvas, region, photo)
    canvas = _light(canvas, photo)
    canvas = ImageChops.add(canvas, _noise(rng, canvas.size, photo.noise), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    canvas.save(buffer, format="JPEG", quality=photo.quality)
    return buffer.getvalue(), payloads


_TILE: list[Image.Image] = []  # one tile of Gaussian noise per process (sigma 32), cropped and scaled per use


def _noise(rng: random.Random, size: tuple[int, int], sigma: float) -> Image.Image:
    """Gaussian noise around 128 with ``sigma``, from a random part of the process's noise tile."""
    if not _TILE:  # from the seed (Pillow's own effect_noise is not seeded): the mean of 4 uniform layers
        seeded, size = random.Random(SEED), (3200, 2400)
        layers = [Image.frombytes("L", size, seeded.randbytes(size[0] * size[1])) for _ in range(4)]
        mean = ImageChops.add(ImageChops.add(layers[0], layers[1], scale=2), ImageChops.add(layers[2], layers[3], scale=2),
                              scale=2)
        _TILE.append(mean.point(lambda p: max(0, min(255, round(128 + (p - 127.5) * 32 / 36.9)))))
    tile = _TILE[0]
    x, y = rng.randrange(tile.width - size[0] + 1), rng.randrange(tile.height - size[1] + 1)
    return tile.crop((x, y, x + size[0], y + size[1])).point(lambda p: round(128 + (p - 128) * sigma / 32))


def _place(canvas: Image.Image, printed: Image.Image, label: drawing.Drawing, shot: Shot,
           focal: float) -> tuple[int, int, int, int]:
    """Project the printed label onto the canvas as a pinhole camera at ``shot.distance_mm`` sees it;
    the worker aims at the code, so the label is moved, if need be, until its code is in the frame."""
    roll, tilt, axis = (math.radians(a) for a in (shot.roll, shot.tilt, shot.tilt_axis))
    cx, cy = shot.centre[0] * canvas.width, shot.centre[1] * canvas.height

    def project(x: float, y: float) -> tuple[float, float]:  # mm from the label's centre -> pixels
        x, y = x * math.cos(roll) - y * math.sin(roll), x * math.sin(roll) + y * math.cos(roll)
        # tilt about the in-plane axis at angle ``axis``: the component across the axis leaves the plane
        along = x * math.cos(axis) + y * math.sin(axis)
        across = -x * math.sin(axis) + y * math.cos(axis)
        depth = across * math.sin(tilt)
        across *= math.cos(tilt)
        x, y = along * math.cos(axis) - across * math.sin(axis), along * math.sin(axis) + across * math.cos(axis)
        z = shot.distance_mm + depth
        return cx + focal * x / z, cy + focal * y / z

    w, h = label.width, label.height
    projected = [project(x - w / 2, y - h / 2) for x, y in ((0, 0), (w, 0), (w, h), (0, h))]
    code = next((item for item in label.items if isinstance(item, drawing.Code)), None)
    if code is not None:
        x0, y0, x1, y1 = code.x - w / 2, code.y - h / 2, code.x + code.size - w / 2, code.y + code.size - h / 2
        corners = [project(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        margin = 0.03 * min(canvas.size)
        dx = _shift([x for x, _ in corners], margin, canvas.width - margin)
        dy = _shift([y for _, y in corners], margin, canvas.height - margin)
        projected = [(x + dx, y + dy) for x, y in projected]
    left, top = math.floor(min(p[0] for p in projected)), math.floor(min(p[1] for p in projected))
    right, bottom = math.ceil(max(p[0] for p in projected)), math.ceil(max(p[1] for p in projected))
    box = (right - left, bottom - top)
    target = [(x - left, y - top) for x, y in projected]
    # shrink with an area filter to the largest scale the label takes in the photo: a perspective
    # transform alone samples (it would alias); what is left is at most the foreshortening
    longest = max(math.dist(target[i], target[(i + 1) % 4]) / (printed.width if i % 2 == 0 else printed.height)
                  for i in range(4))
    if longest < 1:
        printed = printed.resize((max(1, round(printed.width * longest)), max(1, round(printed.height * longest))),
                                 Image.Resampling.BOX)
    source = [(0, 0), (printed.width, 0), (printed.width, printed.height), (0, printed.height)]
    coefficients = _perspective(target, source)
    warped = printed.transform(box, Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BILINEAR)
    mask = Image.new("L", printed.size, 255).transform(box, Image.Transform.PERSPECTIVE, coefficients,
                                                         Image.Resampling.BILINEAR)
    canvas.paste(warped, (left, top), mask)
    return (left, top, right, bottom)


def _blur(canvas: Image.Image, region: tuple[int, int, int, int], photo: Photo) -> None:
    """Focus and motion blur where the label is (the background is smooth already: the same photo, faster)."""
    margin = 12
    box = (max(0, region[0] - margin), max(0, region[1] - margin),
           min(canvas.width, region[2] + margin), min(canvas.height, region[3] + margin))
    if box[0] >= box[2] or box[1] >= box[3]:
        return
    patch = canvas.crop(box)
    if photo.motion:
        patch = _motion_blur(patch, photo.motion, photo.motion_angle)
    if photo.blur > 0.05:
        patch = patch.filter(ImageFilter.GaussianBlur(photo.blur))
    inner = (margin // 2, margin // 2, patch.width - margin // 2, patch.height - margin // 2)
    canvas.paste(patch.crop(inner), (box[0] + inner[0], box[1] + inner[1]))


def _shift(values: list[float], low: float, high: float) -> float:
    """How far to move ``values`` to lie within [low, high] (centred if they cannot)."""
    if max(values) - min(values) > high - low:
        return (low + high) / 2 - (min(values) + max(values)) / 2
    return max(0.0, low - min(values)) - max(0.0, max(values) - high)


def _perspective(target: list[tuple[float, float]], source: list[tuple[float, float]]) -> list[float]:
    """Coefficients mapping each output pixel (target) back to the input (source), for Image.transform."""
    rows, values = [], []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        values.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.append(v)
    return _solve(rows, values)


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    n = len(b)
    m = [row[:] + [value] for row, value in zip(a, b, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [x - factor * y for x, y in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def _light(image: Image.Image, photo: Photo) -> Image.Image:
    """A gradient of light across the photo (down to ``light_floor``) and perhaps a glare spot."""
    gradient = Image.linear_gradient("L").rotate(photo.light_angle, expand=False, fillcolor=128)
    floor = photo.light_floor
    gradient = gradient.resize(image.size).point(lambda p: round(255 * (floor + (1 - floor) * p / 255)))
    lit = ImageChops.multiply(image, gradient)
    if photo.glare:
        gx, gy, strength = photo.glare
        spot = Image.radial_gradient("L").resize((image.width // 3, image.width // 3))
        spot = spot.point(lambda p: round(strength * max(0.0, 1 - p / 255) ** 2))
        layer = Image.new("L", image.size, 0)
        layer.paste(spot, (round(gx * image.width - spot.width / 2), round(gy * image.height - spot.height / 2)))
        lit = ImageChops.add(lit, layer)
    return lit


def _motion_blur(image: Image.Image, length: float, angle: float) -> Image.Image:
    steps = max(2, round(length))
    dx, dy = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    blurred = image
    for k in range(1, steps):
        shift = k - (steps - 1) / 2
        moved = image.transform(image.size, Image.Transform.AFFINE, (1, 0, -dx * shift, 0, 1, -dy * shift),
                                Image.Resampling.BILINEAR, fillcolor=128)
        blurred = Image.blend(blurred, moved, 1 / (k + 1))
    return blurred


def _write(job: tuple[Photo, str, dict[str, Symbol] | None]) -> dict[str, object]:
    photo, out, symbols = job
    data, payloads = make_photo(photo, symbols)
    Path(out, f"{photo.name}.jpg").write_bytes(data)
    return {"file": f"{photo.name}.jpg", "payloads": payloads, "bytes": len(data)}


def generate(out: Path, seed: int = SEED, processes: int = 2, symbols: dict[str, Symbol] | None = None,
             scenes: dict[str, int] | None = None) -> list[dict[str, object]]:
    out.mkdir(parents=True, exist_ok=True)
    photos = plan(seed, scenes)
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        written = pool.map(_write, [(photo, str(out), symbols) for photo in photos], chunksize=4)
    manifest = []
    for photo, entry in zip(photos, written, strict=True):
        photo.payloads = entry["payloads"]  # type: ignore[assignment]
        manifest.append({**entry, "scene": photo.scene, "parameters": asdict(photo)})
    (out / "manifest.json").write_text(json.dumps({"seed": seed, "photos": manifest}, indent=1))
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    started = time.perf_counter()
    manifest = generate(args.out, args.seed, args.processes)
    codes = sum(len(entry["payloads"]) for entry in manifest)  # type: ignore[arg-type]
    print(f"{len(manifest)} photos, {codes} codes, in {args.out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

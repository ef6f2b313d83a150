"""Score the decoders on the corpus of phone-like photos, side by side; or choose the labels' codes.

    python -m bench.qr_score [--corpus DIR] [--keep]     # decoder paths on bench/qr_corpus.py's photos
    python -m bench.qr_score --labels                    # module size x error correction of each label

Decoder paths (``interfaces/scanner/decoding.py``), each timed per photo from
the file's bytes to the list of codes (opening and decoding the JPEG
included), one photo after the other in this process:

- ``zxing-cpp``: zxing-cpp alone, as ``decoding.zxing`` calls it;
- ``pyzbar``: pyzbar alone on the grey photo;
- ``pyzbar+cleanups``: pyzbar, then on the photo with autocontrast,
  sharpened, locally binarised, upscaled x2, until one finds a code;
- ``chosen``: ``decoding.decode`` as the API and the CLI run it.

Per path: recall (codes read ÷ codes in the photos), wrong reads (texts read
that are not in the photo; any read from a photo without a code), and the
median and 95th percentile of the time per photo: wall clock and the
thread's CPU time from the file's bytes (the machine is shared: CPU time is
the steadier figure), and CPU time less the JPEG's decoding into pixels
(what the decoders themselves take). Targets for ``chosen``: recall ≥ 97 %,
no wrong read, median ≤ 5 ms.

``--labels`` renders the same scenes (same seed, same poses, light and blur)
with each candidate module size and error-correction level of the shipment
label (on ``handoff`` and ``pallet`` photos), of the lot label (``lot``
photos: ``desk`` with a lot label) and of the ticket (``ticket`` photos), and
scores ``chosen`` on each: the recall decides, then no wrong read, then the
smaller code, then the higher error correction (for damage the corpus does
not model). Candidates whose code would not fit its label are skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from bench.qr_corpus import SEED, generate
from interfaces.scanner import decoding
from interfaces.scanner.labels import LOT_SYMBOL, SHIPMENT_SYMBOL, TICKET_SYMBOL, Symbol, qr_matrix

RESULTS = Path(__file__).parent / "results"
PATHS: dict[str, list[decoding.Step] | None] = {
    "zxing-cpp": decoding.ZXING_ALONE,
    "pyzbar": decoding.PYZBAR_ALONE,
    "pyzbar+cleanups": decoding.PYZBAR_CLEANUPS,
    "chosen": None,  # decoding.STEPS, with its budget
}
NO_BUDGET = 60.0
# Candidates for --labels: error correction x module size (mm); the largest code each label has room for.
ERROR_CORRECTION = ("L", "M", "Q", "H")
SHIPMENT_MODULES, SHIPMENT_ROOM = (0.8, 1.0, 1.2, 1.4), 54.0
LOT_MODULES, LOT_ROOM = (0.5, 0.6, 0.7, 0.8), 34.0
TICKET_MODULES, TICKET_ROOM = (0.6, 0.8, 1.0), 40.0
SWEEP_SCENES = {"shipment": {"handoff": 60, "pallet": 15}, "lot": {"lot": 80}, "ticket": {"ticket": 40}}


def load(corpus: Path) -> list[tuple[str, str, bytes, set[str]]]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    return [(entry["file"], entry["scene"], (corpus / entry["file"]).read_bytes(), set(entry["payloads"]))
            for entry in manifest["photos"]]


def score(photos: list[tuple[str, str, bytes, set[str]]], decode: Callable[[bytes], list[decoding.Found]],
          ) -> dict[str, object]:
    """Recall, wrong reads and times of ``decode`` on ``photos``: in all (bytes to codes), and less the
    time spent decoding the JPEG into pixels (codes from pixels)."""
    hits = codes = wrong = 0
    wall, cpu, pixels_cpu, missed, wrongly = [], [], [], [], []
    opening = [0.0]
    real_open = decoding._open

    def timed_open(data: bytes, half: bool):  # noqa: ANN202
        started = time.thread_time()
        try:
            return real_open(data, half)
        finally:
            opening[0] += time.thread_time() - started

    decoding._open = timed_open
    try:
        for name, _, data, expected in photos:
            opening[0] = 0.0
            started, started_cpu = time.perf_counter(), time.thread_time()
            found = {code.text for code in decode(data)}
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            pixels_cpu.append(cpu[-1] - opening[0] * 1000)
            hits += len(found & expected)
            codes += len(expected)
            wrong += len(found - expected)
            if expected - found:
                missed.append(name)
            if found - expected:
                wrongly.append(name)
    finally:
        decoding._open = real_open
    return {"photos": len(photos), "codes": codes, "read": hits, "recall": round(hits / max(codes, 1), 4),
            "wrong_reads": wrong, "wall_ms": _spread(wall), "cpu_ms": _spread(cpu),
            "cpu_ms_codes_from_pixels": _spread(pixels_cpu), "missed": missed, "wrong_in": wrongly}


def _spread(values: list[float]) -> dict[str, float]:
    ranked = sorted(values)
    p95 = ranked[min(len(ranked) - 1, round(0.95 * (len(ranked) - 1)))]
    return {"median": round(statistics.median(ranked), 2), "p95": round(p95, 2), "max": round(ranked[-1], 2)}


def decoder_for(steps: list[decoding.Step] | None) -> Callable[[bytes], list[decoding.Found]]:
    if steps is None:
        return decoding.decode
    return lambda data: decoding.decode(data, steps, NO_BUDGET)


def compare_paths(corpus: Path) -> dict[str, object]:
    photos = load(corpus)
    results = {}
    print(f"{len(photos)} photos, {sum(len(p[3]) for p in photos)} codes ({corpus}); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("ms per photo, median / p95: wall clock and CPU time from the file's bytes; CPU time less the JPEG's "
          "decoding into pixels")
    print(f"{'path':16} {'recall':>15} {'wrong':>6} {'wall ms':>14} {'cpu ms':>14} {'cpu, pixels on':>15}")
    for name, steps in PATHS.items():
        result = score(photos, decoder_for(steps))
        results[name] = result
        print(f"{name:16} {result['read']:>4}/{result['codes']} {result['recall']:>7.1%} {result['wrong_reads']:>6} "
              + " ".join(f"{result[k]['median']:>7.1f} {result[k]['p95']:>6.0f}"
                         for k in ("wall_ms", "cpu_ms", "cpu_ms_codes_from_pixels")), flush=True)
    per_scene = {}
    for scene in sorted({p[1] for p in photos}):
        subset = [p for p in photos if p[1] == scene]
        per_scene[scene] = {k: v for k, v in score(subset, decoding.decode).items() if k not in ("missed", "wrong_in")}
    chosen = results["chosen"]
    targets = {"recall >= 0.97": chosen["recall"] >= 0.97, "no wrong read": chosen["wrong_reads"] == 0,
               "median <= 5 ms (cpu, from the bytes)": chosen["cpu_ms"]["median"] <= 5.0,
               "median <= 5 ms (wall, from the bytes)": chosen["wall_ms"]["median"] <= 5.0}
    print("chosen per scene: " + "; ".join(f"{s} {r['read']}/{r['codes']} median {r['cpu_ms']['median']} ms cpu"
                                           for s, r in per_scene.items()))
    print("chosen missed: " + " ".join(chosen["missed"]))
    print("targets: " + ", ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()))
    return {"paths": results, "chosen_per_scene": per_scene, "targets": targets,
            "chosen_steps": [step.name for step in decoding.STEPS], "budget_s": decoding.BUDGET_SECONDS}


def fits(payload: str, symbol: Symbol, room: float) -> bool:
    return len(qr_matrix(payload, symbol)) * symbol.module <= room


def sweep_labels(workdir: Path) -> dict[str, object]:
    """Each candidate symbol on the same scenes; the best recall, then the smallest code, wins."""
    example = {"shipment": "https://id.gs1.org/00/089928060000000013",
               "lot": "https://id.gs1.org/01/08992806000013/10/BF12345678/21/ABCDEFGH23?17=230906",
               "ticket": "ABCDEFGH23"}
    candidates = {"shipment": (SHIPMENT_MODULES, SHIPMENT_ROOM), "lot": (LOT_MODULES, LOT_ROOM),
                  "ticket": (TICKET_MODULES, TICKET_ROOM)}
    chosen, table = {}, {}
    for label, (modules, room) in candidates.items():
        rows = []
        for level in ERROR_CORRECTION:
            for module in modules:
                symbol = Symbol(level, module)
                if not fits(example[label], symbol, room):
                    continue
                symbols = {"shipment": SHIPMENT_SYMBOL, "lot": LOT_SYMBOL, "ticket": TICKET_SYMBOL, label: symbol}
                out = workdir / f"{label}-{level}-{module}"
                generate(out, SEED, symbols=symbols, scenes=SWEEP_SCENES[label])
                result = score(load(out), decoding.decode)
                side = len(qr_matrix(example[label], symbol)) * module
                rows.append({"error_correction": level, "module_mm": module, "side_mm": round(side, 1),
                             "recall": result["recall"], "read": result["read"], "codes": result["codes"],
                             "wrong_reads": result["wrong_reads"], "cpu_median_ms": result["cpu_ms"]["median"]})
                print(f"{label:8} {level} {module:.1f} mm (code {side:4.1f} mm): {result['read']}/{result['codes']} "
                      f"= {result['recall']:.1%}, wrong {result['wrong_reads']}", flush=True)
        # the best recall; then no wrong read; then the smaller code; then the higher error correction
        best = max(rows, key=lambda r: (r["recall"], -r["wrong_reads"], -r["side_mm"],
                                        ERROR_CORRECTION.index(r["error_correction"])))
        chosen[label] = best
        table[label] = rows
        print(f"{label}: best {best['error_correction']} at {best['module_mm']} mm ({best['recall']:.1%})")
    return {"candidates": table, "best": chosen,
            "in_use": {"shipment": vars(SHIPMENT_SYMBOL), "lot": vars(LOT_SYMBOL), "ticket": vars(TICKET_SYMBOL)}}


def machine() -> dict[str, object]:
    return {"nproc": os.cpu_count(), "python": platform.python_version(), "load_average": os.getloadavg(),
            **{name: version(name) for name in ("zxing-cpp", "pyzbar", "pillow", "qrcode")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, help="a corpus already generated (default: generate one)")
    parser.add_argument("--keep", action="store_true", help="keep the generated photos (in bench/results/qr-corpus.tmp)")
    parser.add_argument("--labels", action="store_true", help="choose module size and error correction instead")
    args = parser.parse_args()
    started = time.perf_counter()
    report: dict[str, object] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "seed": SEED}
    with tempfile.TemporaryDirectory(prefix="qr-") as scratch:
        if args.labels:
            report |= {"benchmark": "qr-labels", **sweep_labels(Path(scratch))}
            name = "qr-labels.json"
        else:
            corpus = args.corpus
            if corpus is None:
                corpus = RESULTS / "qr-corpus.tmp" if args.keep else Path(scratch) / "corpus"
                began = time.perf_counter()
                generate(corpus, SEED)
                report["generation_s"] = round(time.perf_counter() - began, 1)
                print(f"corpus generated in {report['generation_s']} s")
            report |= {"benchmark": "qr-decoders", **compare_paths(corpus)}
            name = "qr-decoders.json"
    report["machine"] = machine()
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to bench/results/{name} ({report['seconds']} s in all)")


if __name__ == "__main__":
    main()

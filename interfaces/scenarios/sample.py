"""A synthetic target list: health workers with valid NIKs for their kecamatan and birth date."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta

from interfaces.reference_data import kecamatan_codes, puskesmas_code

FIRST = ["Siti", "Dewi", "Sri", "Nur", "Rina", "Ayu", "Putri", "Budi", "Agus", "Andi", "Dedi", "Rizky",
         "Ahmad", "Eko", "Hendra", "Wahyu", "Fitri", "Indah", "Yusuf", "Bambang", "Lestari", "Ratna"]
LAST = ["Santoso", "Wijaya", "Lestari", "Saputra", "Hidayat", "Nugroho", "Kurniawan", "Siregar",
        "Rahmawati", "Pratama", "Setiawan", "Susanti", "Wibowo", "Harahap", "Simanjuntak", "Purnomo"]
OPERATORS = ["811", "812", "813", "821", "822", "852", "853", "857", "858", "877", "878", "895", "896"]


def sample_rows(count: int, districts: int, seed: int = 2021) -> Iterator[list[str]]:
    """Synthetic health workers whose NIKs are valid for their kecamatan and birth date."""
    rng = random.Random(seed)
    by_district: dict[str, list[str]] = {}
    for code in kecamatan_codes():
        by_district.setdefault(code[:5], []).append(code)
    chosen = sorted(rng.sample(sorted(by_district), min(districts, len(by_district))))
    kecamatan = [k for d in chosen for k in by_district[d]]
    for i in range(count):
        kec = kecamatan[i % len(kecamatan)]
        serial = i // len(kecamatan) + 1
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
        woman = rng.random() < 0.7
        nik = f"{kec.replace('.', '')}{born.day + (40 if woman else 0):02d}{born:%m%y}{serial:04d}"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        phone = f"0{rng.choice(OPERATORS)}{rng.randrange(10**7, 10**8)}"
        category = "nakes" if rng.random() < 0.8 else "tenaga_penunjang"
        yield [nik, name, phone, category, kec[:5], puskesmas_code(kec)]

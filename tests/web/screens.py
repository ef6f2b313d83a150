"""Screenshots of every staff page at 360 x 800, and each page's first-load weight.

``make screens`` (``python -m tests.web.screens docs/screens``) serves a small
world (see ``stage``), logs in as each page's account and writes
``<name>.png`` for every entry of ``SCREENS``; it prints each page's weight
(every byte the page itself loads on a first visit with an empty cache,
the decoder counted apart) and writes them to ``bench/results/page-weight.json``.
A page's module adds its own entries to ``SCREENS``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from application.logistics import NATIONAL_WAREHOUSE
from domain.stock_ledger import WastageReason
from tests.web.clinic_world import stage_clinic
from tests.web.live import CHROMIUM, PHONE, Site, password_of, serving

DECODER = "/static/vendor/"
RESULTS = Path(__file__).resolve().parents[2] / "bench" / "results" / "page-weight.json"


@dataclass(frozen=True)
class Screen:
    name: str
    path: str  # "{sscc}" is replaced by a shipment of the staged world
    account: str | None  # None: no login


SCREENS: list[Screen] = [
    # the foundation and the warehouse (issue 11, items 1-3, 9)
    Screen("login", "/login", None),
    Screen("warehouse-stock", "/gudang?gtin=06992806000015&vials=30", "gudang.jabar"),
    Screen("warehouse-pack", "/gudang/kemas", "gudang.jabar"),
    Screen("warehouse-shipments", "/gudang/kiriman", "gudang.bandung"),
    Screen("warehouse-shipment", "/gudang/kiriman/{sscc}", "gudang.bandung"),
    Screen("warehouse-count", "/gudang/hitung", "gudang.bandung"),
    Screen("scan-receive", "/pindai/terima", "gudang.bandung"),
    Screen("scan-dispatch", "/pindai/kirim", "gudang.bandung"),
    Screen("scan-handover", "/pindai/serah", "gudang.jabar"),
    Screen("refused-other-scope", "/gudang?f=31", "gudang.jabar"),
    # the desks, district officers, admins, public registration and the dashboard (items 4-8; tests/web/clinic_world.py)
    Screen("dashboard", "/", "auditor"),
    Screen("dashboard-province", "/?area=32", "auditor"),
    Screen("desk-home", "/meja", "vaksinator"),
    Screen("desk-ticket", "/meja/tiket/{ticket}", "vaksinator"),
    Screen("district-worklist", "/distrik", "petugas"),
    Screen("district-person", "/distrik/orang/{person}", "petugas"),
    Screen("admin", "/admin", "admin"),
    Screen("admin-job", "/admin/tugas/{job}", "admin"),
    Screen("admin-lot", "/admin/lot?gtin=06992806000015&lot=CV001", "admin"),
    Screen("admin-facilities", "/admin/fasilitas?kode=32.73", "admin"),
    Screen("public-register", "/daftar?kabupaten=32.73", None),
]


def stage(site: Site) -> dict[str, str]:
    """Stock down to Kota Bandung, one shipment received there (a part rejected), one in transit, one packed."""
    from decimal import Decimal

    from domain.shipment import ReceiptLine

    chain = site.chain
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 200)))
    received = chain.ship("32", "32.73", ("CV001", 60))
    chain.app.receive(received, [ReceiptLine(chain.app.get_shipment(received).lines[0].gtin, "CV001", 58, 2, "pecah", 1)],
                      Decimal("5.5"), chain.by("32.73"))
    chain.ship("32", "32.73", ("CV001", 40))
    chain.pack("32.73", "P327301", ("CV001", 20))
    gtin = chain.app.get_shipment(received).lines[0].gtin
    chain.app.record_wastage("32.73", gtin, "CV001", 1, WastageReason.BROKEN, "jatuh", chain.by("32.73"))
    return {"sscc": received}


def staged(site: Site) -> dict[str, str]:
    """Every page's staged world: what fills each path's ``{...}``."""
    return stage(site) | stage_clinic(site)


def logged_in(browser, site: Site, account: str | None):  # noqa: ANN001, ANN201 - Playwright objects
    """A fresh phone-sized context (empty cache), with a session cookie got without loading any page."""
    context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta",
                                  service_workers="block")
    if account:
        context.request.post(f"{site.url}/login", form={"username": account, "password": password_of(account)},
                             max_redirects=0)
    return context


def first_load(context, url: str) -> tuple[int, int]:  # noqa: ANN001
    """(bytes of the page's own first load, bytes of the decoder among them)."""
    sizes: dict[str, int] = {}
    page = context.new_page()
    page.on("response", lambda response: sizes.__setitem__(response.url, len(response.body() or b"")))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    decoder = sum(size for where, size in sizes.items() if DECODER in where)
    return sum(sizes.values()), decoder


def run(folder: Path, screens: list[Screen] = SCREENS) -> dict[str, dict[str, int]]:
    from playwright.sync_api import sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    weights = {}
    with tempfile.TemporaryDirectory() as work, serving(Path(work)) as site, sync_playwright() as driver:
        values = staged(site)
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        site.wait_for_read_models()  # the server's followers catch up with the staged log in the background
        for screen in screens:
            url = site.url + screen.path.format(**values)
            context = logged_in(browser, site, screen.account)
            total, decoder = first_load(context, url)
            weights[screen.name] = {"bytes": total, "decoder_bytes": decoder}
            page = context.pages[0]
            page.screenshot(path=str(folder / f"{screen.name}.png"))
            context.close()
            print(f"{screen.name:28} {total / 1024:7.1f} KB  (decoder {decoder / 1024:.1f} KB)  {screen.path}")
        browser.close()
    return weights


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screens")
    weights = run(folder)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"viewport": PHONE, "limit_bytes": 300 * 1024, "pages": weights}, indent=2) + "\n")
    print(f"screenshots in {folder}/, weights in {RESULTS}")


if __name__ == "__main__":
    main()

"""Each page's first load stays under 300 KB on a phone, and the decoder loads only when a scan screen opens the camera."""

from __future__ import annotations

from tests.web.live import Site
from tests.web.screens import SCREENS, first_load, logged_in, staged

LIMIT = 300 * 1024


def test_every_page_loads_under_300_kb_without_the_decoder(site: Site, browser) -> None:
    values = staged(site)
    site.wait_for_read_models()  # the server's followers catch up with the staged log (the dashboard reads them)
    heavy = {}
    for screen in SCREENS:
        context = logged_in(browser, site, screen.account)
        total, decoder = first_load(context, site.url + screen.path.format(**values))
        context.close()
        if total >= LIMIT or decoder:
            heavy[screen.name] = (total, decoder)
    assert not heavy, f"pages over {LIMIT} bytes or loading the decoder: {heavy}"

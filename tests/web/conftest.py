"""The staff app in a real browser: Debian's headless Chromium driven by Playwright,
against a live uvicorn server on a free port, on a temporary SQLite store with
the demo accounts (each with the password ``rahasia-<name>``).

The store's clock is the real clock (a browser stamps its scans with its own
time, which the server accepts only inside the offline window), so the
scenario's lots expire years from now. Screenshots go to a temporary folder
(``shot(page, name)``); ``make screens`` writes the kept ones to docs/screens.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.web.live import CHROMIUM, LOT_EXPIRY, PHONE, Site, serving  # noqa: F401 - LOT_EXPIRY: other tests' import


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with serving(tmp_path) as running:
        yield running


@pytest.fixture(scope="session")
def playwright_driver():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@pytest.fixture
def launch(playwright_driver) -> Iterator[Callable[..., object]]:
    """A browser of its own with extra command-line switches (a fake camera), closed after the test."""
    opened = []

    def start(*args: str):  # noqa: ANN202 - a Playwright browser
        started = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", *args])
        opened.append(started)
        return started

    yield start
    for started in opened:
        started.close()


@pytest.fixture
def phone(browser) -> Iterator[object]:
    """A 360 x 800 phone-sized browser context (its own cookies and storage)."""
    context = browser.new_context(viewport=PHONE, locale="id-ID", timezone_id="Asia/Jakarta")
    yield context
    context.close()


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[object, str], Path]:
    """``shot(page, name)``: a screenshot in the test's temporary folder (its path returned)."""
    folder = tmp_path / "screens"
    folder.mkdir()

    def take(page, name: str) -> Path:  # noqa: ANN001 - a Playwright page
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take

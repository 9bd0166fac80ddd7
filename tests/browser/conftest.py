"""Browser tests: Playwright (sync API) driving Debian's headless Chromium against a real server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from tests.browser.support import CHROMIUM, SCREENSHOTS, BrowserServer, MailSink, browser_server, mail_sink

BROWSER_DATABASE_URL = os.environ.get(
    "TETHER_BROWSER_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tether_browser_tests"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the SPA in headless Chromium against a real server")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run infra/dev/ensure-chromium.sh (make test does)")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    # Playwright cannot download its own browsers here: Debian's Chromium, found by path.
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=["--no-sandbox", "--disable-dev-shm-usage", "--host-resolver-rules=MAP localhost 127.0.0.1"],
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def mail() -> Iterator[MailSink]:
    with mail_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, mail: MailSink) -> Iterator[BrowserServer]:
    with browser_server(tmp_path_factory.mktemp("browser-server"), BROWSER_DATABASE_URL, mail) as running:
        yield running


@pytest.fixture(scope="module")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS

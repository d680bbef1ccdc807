"""Browser test harness: the full ASGI app (HTTP + websockets) served by daphne on a free
port against the test database, and Debian's Chromium driven by Playwright.

One server process and one browser serve the whole test session; each test gets fresh
browser contexts (one per person) and a committed database (`transactional_db`), so the
server process sees what the test created.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import service_missing
from tests.servers import servers_start, servers_stop

CHROMIUM = Path(os.environ.get("RUANGBK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The machines have no internet: don't let Chromium phone home at start.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Real (synthetic) camera and microphone streams for WebRTC, no permission prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
PHONE = {"width": 360, "height": 640}


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Base URL of a daphne process serving the app against the test database."""
    processes = servers_start(django_db_blocker, static=True)
    yield f"http://127.0.0.1:{processes[0].port.value}"
    servers_stop(processes, django_db_blocker)


@pytest.fixture(scope="session")
def browser(asgi_server) -> Iterator[Browser]:
    """One headless Chromium for the session (started after the server has forked)."""
    if not CHROMIUM.exists():
        service_missing(f"needs Chromium at {CHROMIUM} (Debian package 'chromium')")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()
    playwright.stop()


@pytest.fixture
def live_url(asgi_server, transactional_db) -> str:
    return asgi_server


@pytest.fixture
def new_context(browser) -> Iterator[Callable[..., BrowserContext]]:
    """Open a browser context (one person); all are closed after the test."""
    contexts: list[BrowserContext] = []

    def open_context(**options) -> BrowserContext:
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_context) -> Page:
    """A page on a 360×640 phone screen."""
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()


def log_in(page: Page, live_url: str, username: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto(f"{live_url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")

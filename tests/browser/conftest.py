"""Browser test harness: the full ASGI app (HTTP + websockets) served by daphne on a free
port against the test database, and Debian's Chromium driven by Playwright.

One server process and one browser serve the whole test session; each test gets fresh
browser contexts (one per person) and a committed database (`transactional_db`), so the
server process sees what the test created.
"""

import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from daphne.testing import DaphneProcess
from django.conf import settings
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import service_missing

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
SERVER_START_SECONDS = 30


def _server_application(django_db_blocker):
    """Runs in the forked server process: database open, a fresh channel layer, static
    files served."""
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_db_blocker.unblock()  # pytest-django's guard was inherited through fork
    # A fork copies the executor that runs database calls but not its thread: after an
    # async test in the parent, every database_sync_to_async call would hang.
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)

    channel_layers.backends.clear()  # the parent's layers belong to its event loops
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "127.0.0.1"]
    from counseling_platform.asgi import application

    return ASGIStaticFilesHandler(application)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker) -> Iterator[str]:
    """Base URL of a daphne process serving the app against the test database."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and ":memory:" in str(database["NAME"]):
        raise RuntimeError("the live server needs a file or PostgreSQL test database")
    with django_db_blocker.unblock():
        # The child must not share the parent's database sockets.
        connections.close_all()
    process = DaphneProcess("127.0.0.1", partial(_server_application, django_db_blocker))
    process.daemon = True
    process.start()
    if not process.ready.wait(SERVER_START_SECONDS):
        process.terminate()
        detail = "" if process.errors.empty() else process.errors.get(False)[1]
        raise RuntimeError(f"daphne did not start:\n{detail}")
    yield f"http://127.0.0.1:{process.port.value}"
    process.terminate()
    process.join(10)
    with django_db_blocker.unblock():
        _end_leftover_sessions()


def _end_leftover_sessions() -> None:
    """PostgreSQL may still hold the dead server's sessions for a moment, which would
    make dropping the test database fail."""
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    connection.close()


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

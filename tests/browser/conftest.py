"""A real Chromium (Debian's, installed by .ci/run) driven by Playwright, with the network blocked.

Every page is opened in a fresh context where:

- host names other than ``localhost`` and ``127.0.0.1`` resolve to nothing (Chromium's
  ``--host-resolver-rules``), and any request to another host is also aborted and recorded;
- console errors, uncaught exceptions and dialogs (``alert`` from injected markup) are recorded.

Screenshots go to ``tests/artifacts/`` (or ``$COMMONSMAP_ARTIFACTS``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Playwright, Request, Route, sync_playwright

from tests.maps.conftest import maps_atlas, maps_atlas_template  # noqa: F401  (the maps' test atlas)

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def chromium_path() -> str:
    """Debian's Chromium, or ``$COMMONSMAP_CHROMIUM``."""
    found = os.environ.get("COMMONSMAP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(found).exists():
        pytest.fail("the browser tests need Chromium: apt-get install chromium chromium-driver (.ci/run does)")
    return found


def artifacts() -> Path:
    """Where screenshots are kept."""
    folder = Path(os.environ.get("COMMONSMAP_ARTIFACTS", Path(__file__).parents[1] / "artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Watched:
    """A page, with what it asked for and what went wrong in it."""

    page: Page
    requests: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    responses: dict[str, int] = field(default_factory=dict)

    def assert_clean(self) -> None:
        """No console error, no uncaught exception, no dialog, no request beyond the machine."""
        assert self.errors == [], self.errors
        assert self.dialogs == [], self.dialogs
        assert self.outside == [], self.outside

    def ready(self, frame: object | None = None) -> float:
        """Wait until the map has drawn every layer shown; return the time it took (ms)."""
        target = frame or self.page
        return float(target.evaluate("window.commonsmap.ready"))  # type: ignore[attr-defined]

    def screenshot(self, name: str) -> Path:
        """Save a screenshot of the page as a test artifact."""
        path = artifacts() / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="session")
def playwright_session() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright_session: Playwright) -> Iterator[Browser]:
    launched = playwright_session.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


def _is_outside(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme not in ("file", "data", "blob", "about") and (parts.hostname or "") not in LOOPBACK


def open_page(browser: Browser, headers: dict[str, str] | None = None) -> Watched:
    """A page in a fresh context that records and blocks requests beyond the machine."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, service_workers="block",
                                  extra_http_headers=headers or {})
    page = context.new_page()
    watched = Watched(page)

    def route(handler: Route, request: Request) -> None:
        if _is_outside(request.url):
            watched.outside.append(request.url)
            handler.abort()
        else:
            handler.continue_()

    context.route("**/*", route)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("response", lambda response: watched.responses.__setitem__(response.url, response.status))
    page.on("console", lambda message: watched.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: watched.errors.append(str(error)))
    page.on("dialog", lambda dialog: (watched.dialogs.append(dialog.message), dialog.dismiss()))
    return watched


@pytest.fixture
def watched_page(browser: Browser) -> Iterator[Watched]:
    """A fresh, watched page (anonymous)."""
    watched = open_page(browser)
    yield watched
    watched.page.context.close()

"""Headless Chromium for page tests: the system's browser driven by Playwright."""

from __future__ import annotations

import atexit
import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this
# network refuses; a fresh profile keeps runs independent.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]


DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 360, "height": 740}
# Screenshots of every browser test go here (ignored by git), one folder per test.
ARTEFACTS = Path(os.environ.get("EXAMROOM_TEST_ARTEFACTS", Path(__file__).resolve().parents[2] / "test-artefacts"))


def artefact_dir(test_name: str) -> Path:
    folder = ARTEFACTS / re.sub(r"[^\w.-]+", "_", test_name)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshots(page, folder: Path, name: str, sizes=(("desktop", DESKTOP), ("phone", PHONE))) -> list[Path]:
    """The page as it is now, at desktop and phone sizes; the viewport is put back afterwards.

    JPEG, for people to look at: a third less of the browser's CPU than PNG for the same pair of
    full pages (0.34 s against 0.5 s here), and the text stays sharp at quality 85.
    """
    before = page.viewport_size
    shots = []
    for label, size in sizes:
        page.set_viewport_size(size)
        path = folder / f"{name}-{label}.jpg"
        page.screenshot(path=str(path), full_page=True, type="jpeg", quality=85)
        shots.append(path)
    page.set_viewport_size(before)
    return shots


class _Browser:
    """One Chromium per test process, started on first use and kept until the process ends.

    Starting Playwright and Chromium costs about a second; a new context costs a fifth of that and is
    as fresh as a new profile (its own cookies, storage and cache), which is what pytest-playwright
    does too. A browser that died (a crashed test) is started again on the next use."""

    def __init__(self) -> None:
        self._playwright = None
        self._browser = None

    def get(self):
        if self._browser is None or not self._browser.is_connected():
            self.close()
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        return self._browser

    def close(self) -> None:
        browser, playwright, self._browser, self._playwright = self._browser, self._playwright, None, None
        if browser is not None:
            try:
                browser.close()
            except Exception:  # already gone with its process; nothing left to close
                pass
        if playwright is not None:
            playwright.stop()


_BROWSER = _Browser()
atexit.register(_BROWSER.close)  # once; closing a browser never started does nothing


@contextmanager
def chromium_page():
    """A page in a fresh browser context (Chinese locale, desktop size), closed afterwards."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (make test installs the Debian package chromium)")
    pytest.importorskip("playwright.sync_api")
    context = _BROWSER.get().new_context(locale="zh-CN", viewport=DESKTOP)
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def served(app):
    """The app on a free local port in a thread, for a browser; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def sign_in(page, base: str, username: str, password: str, then: str = "/") -> None:
    """Open ``then`` and sign in on the page it sends to (every staff page asks first)."""
    page.goto(base + then)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")

"""Headless Chromium for page tests: the system's browser driven by Playwright."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling out, which this
# network refuses; a fresh profile keeps runs independent.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]


@contextmanager
def chromium_page():
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (make test installs the Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory(prefix="examroom-chromium-") as profile, sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS, locale="zh-CN")
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

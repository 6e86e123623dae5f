"""Headless Chromium for video tests: the system browser driven by Playwright, files served by Flask."""

from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required"]

PAGE = """<!doctype html><html><body>
<video id="v" muted preload="auto" src="/media/{name}"></video>
<canvas id="c"></canvas>
</body></html>"""

# Seek, wait until the frame is presented, draw it and hand back the pixels of the time-code strip.
GRAB = """async ([t, w, h]) => {
  const v = document.getElementById('v');
  if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}));
  await new Promise(r => { v.addEventListener('seeked', r, {once: true}); v.currentTime = t; });
  if (v.requestVideoFrameCallback) {
    await Promise.race([new Promise(r => v.requestVideoFrameCallback(() => r())),
                        new Promise(r => setTimeout(r, 500))]);
  }
  const c = document.getElementById('c');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  const d = g.getImageData(0, 0, w, h).data;
  return {currentTime: v.currentTime, error: v.error ? v.error.code : null, duration: v.duration,
          pixels: Array.from(d)};
}"""


def require_browser() -> None:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"no system Chromium at {CHROMIUM} (the Makefile installs Debian's chromium)")


@contextmanager
def serve(folder: Path):
    """Serve ``folder`` at /media/ (Range requests answered with 206) and a player page at /play/<name>."""
    from flask import Flask, send_from_directory
    from werkzeug.serving import make_server

    app = Flask(__name__)

    @app.get("/media/<path:name>")
    def media(name):
        return send_from_directory(folder, name, conditional=True)

    @app.get("/play/<path:name>")
    def play(name):
        return PAGE.format(name=name)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium(profile: Path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS)
        try:
            yield context
        finally:
            context.close()

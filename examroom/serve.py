"""``examroom serve --site FILE``: the course controller on real hardware, and its web page.

Loads and validates the site settings, starts :class:`CourseService` (devices,
controller, health watch, self-check, live feed) and the web server as its
own process (``python -m web``), as ``examroom demo`` does with simulated
devices. Stops both on Ctrl-C.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading

from examroom.service import CourseService
from examroom.settings import load_settings


def serve(site, host: str | None = None, port: int | None = None, feed_port: int = 0,
          stop: threading.Event | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = load_settings(site)
    service = CourseService(settings, feed_port=feed_port).start()
    web = None
    try:
        web = subprocess.Popen(
            [sys.executable, "-m", "web", "--database-url", settings.database_url,
             "--feed-url", service.feed_server.url, "--host", host or settings.web_host,
             "--port", str(settings.web_port if port is None else port)],
            stdout=subprocess.PIPE, text=True)
        address = web.stdout.readline().strip().removeprefix("web: ")
        if not address:
            print("examroom serve: the web server did not start", file=sys.stderr)
            return 1
        print(f"examroom serve: {len(service.runners)} devices, 考试实况 {address}  "
              f"场地信号检测 {address}selfcheck", flush=True)
        stop = stop or threading.Event()
        try:
            while not stop.wait(0.5) and web.poll() is None:
                pass
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        if web is not None:
            web.terminate()
            try:
                web.wait(timeout=5)
            except subprocess.TimeoutExpired:
                web.kill()
        service.stop()

"""Page weight of the supervisor console: what a browser downloads to show it, measured in Chromium.

The console (``/``) is opened by a signed-in supervisor in headless Chromium with
two vehicles on the live feed and a sitting's queue of ten; every response the page
loads is counted from the browser's own resource timing (bytes on the wire and
decoded), except the long-lived streams (the server-sent events, camera pictures),
which are not part of the page. Printed as kilobytes per resource and in total,
with the time to the page's first vehicle card.

Run: ``.venv/bin/python bench/console_weight.py``
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from examroom.accounts.users import Accounts, Role
from examroom.records.database import make_engine, session_factory, upgrade
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import Records
from examroom_web import create_app

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-password-1"
STATES = [
    {"vehicle": "V1", "plate": "甘K·3071学", "vehicle_class": "E", "attempt": 7, "candidate": "张伟",
     "status": "running", "item": "e_pile", "item_type": "pile", "score": 90,
     "deductions": [{"rule": "pile.touch", "title": "碰擦桩杆", "points": 10, "disqualify": False}]},
    {"vehicle": "V2", "plate": "甘K·3072学", "vehicle_class": "C4", "status": "idle", "deductions": []},
]
RESOURCES = """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
  .map(e => ({name: e.name, type: e.initiatorType, wire: e.transferSize, body: e.decodedBodySize,
              done: e.responseEnd > 0}))"""


def _load(page, base: str) -> tuple[list[dict], float]:
    """Open the console; the resources it loaded (streams left out) and the time to its last card."""
    page.goto("about:blank")
    start = time.perf_counter()
    page.goto(f"{base}/")
    page.locator("#vehicle-V2").wait_for()
    first_card = time.perf_counter() - start
    page.wait_for_timeout(1000)  # the queue panel's first answer
    entries = [e for e in page.evaluate(RESOURCES)
               if "/live/stream" not in e["name"] and not e["name"].endswith(".mjpg")]
    return entries, first_card


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        upgrade(engine)
        records = Records(session_factory(engine))
        Accounts(records.sessions).create("supervisor", PASSWORD, Role.SUPERVISOR)
        feed = LiveFeed()
        for state in STATES:
            feed.publish({"type": "started"}, vehicle_state=state)
        app = create_app(records, feed, {"SECRET_KEY": "bench"})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
                page = browser.new_page()
                page.goto(f"{base}/login")
                page.fill("input[name=username]", "supervisor")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_url(f"{base}/")
                cdp = page.context.new_cdp_session(page)
                cdp.send("Network.clearBrowserCache")
                cold = _load(page, base)
                warm = _load(page, base)
                browser.close()
        finally:
            server.shutdown()
    entries, first_card = cold
    for e in entries:
        print(f"  {e['name'].removeprefix(base):<28} {e['type']:<12} {e['wire'] / 1024:6.1f} kB on the wire, "
              f"{e['body'] / 1024:6.1f} kB decoded")
    print(f"console_weight: the supervisor console is {len(entries)} requests, "
          f"{sum(e['wire'] for e in entries) / 1024:.1f} kB on the wire with an empty cache "
          f"({sum(e['body'] for e in entries) / 1024:.1f} kB decoded), "
          f"{sum(e['wire'] for e in warm[0]) / 1024:.1f} kB on a reload; no framework or font downloads; "
          f"first vehicle card after {first_card * 1000:.0f} ms cold, {warm[1] * 1000:.0f} ms warm on this machine")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Clicks land on the live console while the feed keeps updating every card.

The device-health monitor publishes about once a second and every vehicle card is
updated from it; here it publishes every few milliseconds, and each click holds the
mouse button down long enough for several updates to arrive between press and release.
A console that rebuilds its buttons loses such clicks; this one must lose none. Each press
is held until an update has arrived, so the case is there however slow the machine.
"""

from __future__ import annotations

import threading
import time

import pytest

from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from tests.examroom.live.test_commands import link  # noqa: F401  (fixture: a controller behind its link)
from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from examroom_web import create_app
from examroom_web.feedclient import RemoteFeed

CLICKS = 50
PRESS_MS = 60  # a quick but real press: several updates arrive before the release


class HealthChurn:
    """Publishes health events as the device monitor does, as fast as the test wants."""

    def __init__(self, feed: LiveFeed, period: float = 0.02) -> None:
        self.feed, self.period, self.count = feed, period, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period):  # pacing a load, not waiting for a result
            self.count += 1
            fix = "RTK固定解" if self.count % 2 else "RTK浮点解"
            self.feed.publish({"type": "health", "devices": [
                {"device": "V1.gnss", "vehicle": "V1", "kind": "gnss", "alive": True, "fix_text": fix},
                {"device": "V1.signals", "vehicle": "V1", "kind": "signalboard", "alive": True,
                 "line_text": f"{40 + self.count % 7}帧/秒"}]})

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(2)


def press(page, selector: str, updated: bool = False) -> None:
    """A person's click: press where the button is, hold, release (whatever is there by then).

    With ``updated`` the button is held until the card has changed at least once since the press
    (and for ``PRESS_MS``), so an update lands between press and release however slow the machine.
    """
    box = None
    while box is None:  # a console that rebuilds its buttons may have none at this instant
        box = page.locator(selector).bounding_box(timeout=5_000)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    seen = page.evaluate("window.updates") if updated else None
    page.mouse.down()
    page.wait_for_timeout(PRESS_MS)  # the press's own length, as a hand holds it
    if updated:
        page.wait_for_function(f"() => window.updates > {seen}", timeout=10_000)
    page.mouse.up()


@pytest.fixture
def console(records, accounts, link):  # noqa: F811
    controller, client, candidate = link
    console_link = ConsoleLink(controller.feed).start()
    web_feed = LiveFeed()
    follower = RemoteFeed(console_link.url, web_feed).start()
    app = create_app(records, web_feed, {"SECRET_KEY": "clicks"}, controller=client)
    yield app, controller, candidate
    follower.stop()
    console_link.stop()


def test_fifty_clicks_during_a_running_attempt_all_land(console, records, artefacts):
    app, controller, candidate = console
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    landed, lost = 0, []
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "supervisor", PASSWORD, then="/login")
        page.locator("#vehicle-V1 button[data-action=stop]").wait_for(timeout=10_000)
        # Count the card's updates from inside the page, to prove they happen during the clicks.
        page.evaluate("""() => { window.updates = 0;
            new MutationObserver(() => { window.updates += 1; })
              .observe(document.getElementById('vehicle-V1'), {subtree: true, childList: true,
                                                               characterData: true, attributes: true}); }""")
        started = time.monotonic()
        with HealthChurn(controller.feed):
            for n in range(CLICKS):
                action = ("stop", "manual_fail")[n % 2]
                press(page, f"#vehicle-V1 button[data-action={action}]", updated=True)
                opened = page.evaluate("() => { const d = document.getElementById('act');"
                                       " return d.open ? d.dataset.action : null; }")
                if opened == action:
                    landed += 1
                    if n == 1:
                        page.locator("#act-rule option").first.wait_for(state="attached")
                        screenshots(page, artefacts, "console-manual-fail-dialog")
                    page.keyboard.press("Escape")
                else:
                    lost.append(n)
            print(f"{landed} of {CLICKS} clicks landed in {time.monotonic() - started:.1f} s")
            assert landed == CLICKS, f"clicks {lost} of {CLICKS} were lost"
            # The dialog stays open while the cards keep changing, and the confirmed stop lands.
            press(page, "#vehicle-V1 button[data-action=stop]")
            page.fill("#act-reason", "考生要求中止")
            seen = page.evaluate("window.updates")
            page.wait_for_function(f"() => window.updates > {seen + 10}")
            assert page.evaluate("document.getElementById('act').open")
            screenshots(page, artefacts, "console-stop-dialog-during-updates")
            page.click("#act-ok", delay=PRESS_MS)
            page.locator("#vehicle-V1 .status", has_text="已中止").wait_for(timeout=10_000)
        screenshots(page, artefacts, "console-after-stop")
    assert controller.wait_finished(attempt, 5) is AttemptStatus.ABORTED
    assert records.attempt(attempt).reason == "考生要求中止"

"""One clock on the pages: local time of the course, its zone stated once per page, no UTC."""

from __future__ import annotations

import re

from examroom import courseclock
from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from tests.web.test_replay import UTC, judged  # noqa: F401  (the stored E hill_short attempt, started at UTC)
from tests.web.test_replay_video import footage  # noqa: F401


def test_pages_and_the_replay_read_local_time_with_the_zone_once(app, accounts, footage, records,  # noqa: F811
                                                                  artefacts):
    attempt_id, _ = footage
    local = courseclock.local_text(UTC)  # 2026-11-29 10:00:00 in Beijing
    assert local.endswith("10:00:00")
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "auditor", PASSWORD, then="/login")
        for path, name in ((f"/attempts/{attempt_id}", "result"), ("/attempts/", "attempts")):
            page.goto(base + path)
            text = page.inner_text("body")
            assert local in text, f"{path}: the start is not shown in local time"
            assert text.count("北京时间（UTC+08:00）") == 1, f"{path}: the zone is stated once"
            assert not re.search(r"\d\d:\d\d:\d\dZ|\bUTC\b(?!\+)", text), f"{path}: UTC shown to a person"
            screenshots(page, artefacts, f"one-clock-{name}")
        page.goto(f"{base}/attempts/{attempt_id}/replay")
        page.wait_for_function("() => document.getElementById('replay').dataset.nowUtc !== undefined")
        page.locator("#marks .mark").first.dispatch_event("click")
        deduction = records.attempt(attempt_id).deductions[0]
        wall = courseclock.local_text(deduction.utc, "%H:%M:%S")
        page.wait_for_function(f"() => document.getElementById('clock').value.endsWith('{wall}')")
        screenshots(page, artefacts, "one-clock-replay")

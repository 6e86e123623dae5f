"""The pages work under their Content-Security-Policy: Chromium reports no violation on them,
and it does report one when a page carries inline script (the check can fail)."""

from __future__ import annotations

from datetime import datetime, timezone

from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
VIOLATIONS = """() => window.__violations"""
LISTEN = """window.__violations = []; document.addEventListener('securitypolicyviolation',
  e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"""


def test_pages_raise_no_csp_violation_and_inline_script_would(app, accounts, records):
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("王芳", "62120219900101123X", "62000009", "E"))
    attempt = records.check_in(candidate, "V1", "demo", "ga1026-2022", UTC)
    records.finish(attempt, AttemptStatus.PASSED, UTC, result={"score": 100, "passed": True, "items": []})
    app.add_url_rule("/inline-probe", "inline_probe",
                     lambda: "<!doctype html><body><script>document.title='ran'</script></body>")
    app.view_functions["inline_probe"].allowed_roles = None
    with served(app) as base, chromium_page() as page:
        page.add_init_script(LISTEN)
        sign_in(page, base, "admin", PASSWORD)
        found = {}
        for path in ("/", f"/attempts/{attempt}/replay", "/cameras", "/selfcheck/", "/attempts/", "/stats/",
                     "/admin/throttles"):
            page.goto(base + path)
            page.wait_for_load_state("load")
            found[path] = page.evaluate(VIOLATIONS)
        assert all(v == [] for v in found.values()), found
        page.goto(base + "/inline-probe")
        page.wait_for_load_state("load")
        assert page.title() != "ran" and any("script-src" in v for v in page.evaluate(VIOLATIONS))

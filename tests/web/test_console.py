"""Supervisor actions from the page: roles, CSRF, audit, and the dialog in a real browser."""

from __future__ import annotations


import pytest

from examroom.accounts.audit import AuditLog
from examroom.records.models import AttemptStatus
from tests.examroom.live.test_commands import link  # noqa: F401  (fixture: a controller behind its link)
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD, csrf_token, login
from examroom_web import create_app
from examroom_web.feedclient import RemoteFeed
from examroom.live.feed import LiveFeed


@pytest.fixture
def console(records, accounts, link):  # noqa: F811
    controller, client, candidate = link
    app = create_app(records, controller.feed, {"TESTING": True, "SECRET_KEY": "console"}, controller=client)
    return app, controller, candidate


def _signed_in(app, role):
    c = app.test_client()
    login(c, role)
    return c, csrf_token(c.get("/login").get_data(as_text=True))


def test_supervisor_stops_an_attempt_and_it_is_audited(console, records):
    app, controller, candidate = console
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    c, token = _signed_in(app, "supervisor")
    response = c.post("/console/V1/stop", data={"reason": "考生要求中止"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["ok"]
    assert controller.wait_finished(attempt, 5) is AttemptStatus.ABORTED
    entry = AuditLog(records.sessions).entries()[0]
    assert (entry.actor, entry.action, entry.target) == ("supervisor", "stop", "vehicle V1")
    assert "考生要求中止" in entry.detail


def test_refusal_comes_back_and_is_audited(console, records):
    app, _controller, _candidate = console
    c, token = _signed_in(app, "supervisor")
    response = c.post("/console/V1/stop", data={"reason": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 400 and "当前没有进行中的考试" in response.get_json()["error"]
    assert "refused" in AuditLog(records.sessions).entries()[0].detail


def test_auditors_cannot_act_and_forms_need_csrf(console):
    app, controller, candidate = console
    controller.begin_attempt("V1", candidate, "张伟")
    auditor, token = _signed_in(app, "auditor")
    assert auditor.post("/console/V1/stop", data={"reason": "x"}, headers={"X-CSRFToken": token}).status_code == 403
    supervisor, _ = _signed_in(app, "supervisor")
    assert supervisor.post("/console/V1/stop", data={"reason": "x"}).status_code == 400


def test_without_a_controller_the_console_says_so(records, accounts):
    app = create_app(records, LiveFeed(), {"TESTING": True, "SECRET_KEY": "x"})
    c, token = _signed_in(app, "supervisor")
    response = c.post("/console/V1/stop", data={"reason": "x"}, headers={"X-CSRFToken": token})
    assert response.status_code == 503 and "未连接考试控制器" in response.get_json()["error"]


def test_manual_fail_from_the_dialog_in_a_browser(console, records):
    app, controller, candidate = console
    web_feed = LiveFeed()
    from examroom.live.link import ConsoleLink

    console_link = ConsoleLink(controller.feed).start()
    follower = RemoteFeed(console_link.url, web_feed).start()
    app.extensions["examroom.feed"] = web_feed
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    try:
        with served(app) as base, chromium_page() as page:
            sign_in(page, base, "supervisor", PASSWORD, then="/login")
            page.click("#vehicle-V1 button[data-action=manual_fail]")
            page.wait_for_selector("#act-rule option[value='general.instruction']", state="attached")
            page.select_option("#act-rule", "general.instruction")
            page.fill("#act-reason", "未按考试员指令行驶")
            page.click("#act-ok")
            page.locator("#vehicle-V1 .status", has_text="不合格").wait_for(timeout=10_000)
        assert controller.wait_finished(attempt, 5) is AttemptStatus.FAILED
        assert [d.rule for d in records.attempt(attempt).deductions] == ["general.instruction"]
    finally:
        follower.stop()
        console_link.stop()


def test_start_from_the_call_up_page_is_audited_and_refusals_shown(console, records):
    app, _controller, _candidate = console
    c, token = _signed_in(app, "supervisor")
    response = c.post("/console/start/5", data={"csrf_token": token, "next": "/examday/"})
    assert response.status_code == 302 and response.location == "/examday/"
    entry = AuditLog(records.sessions).entries()[0]
    assert (entry.action, entry.target) == ("start", "booking 5") and "refused" in entry.detail
    auditor, auditor_token = _signed_in(app, "auditor")
    assert auditor.post("/console/start/5", data={"csrf_token": auditor_token}).status_code == 403

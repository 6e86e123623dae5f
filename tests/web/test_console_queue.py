"""The sitting's queue on the supervisor console: JSON, call-up, and start, in a real browser."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from devices.readings import ScaledClock
from examroom.accounts.audit import AuditLog
from examroom.examday.callup import CallUp
from examroom.examday.checkin import CheckIn
from examroom.live.commands import CommandDesk
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom.records.models import Attempt, AttemptStatus, Booking, Sitting
from examroom.examday.roster import RosterImport
from examroom.examday.sittings import SittingPlan, create_sitting
from scoring.rules import default_ruleset_path, load_ruleset
from tests.examroom.attempts import id_number
from tests.examroom.examday.test_checkin_callup import PHOTO
from examroom.simulation.scenarios import demo_course
from tests.examroom.live.test_commands import TOKEN
from tests.examroom.examday.test_roster import write_csv
from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD, csrf_token, login
from examroom_web import create_app
from examroom_web.controlclient import ControllerClient
from examroom_web.feedclient import RemoteFeed

PEOPLE = [("王建国", 51, "E"), ("李秀英", 52, "E"), ("张伟", 53, "C4")]


@pytest.fixture
def desk(records, accounts, tmp_path):
    """A running sitting with three checked-in candidates, and a controller that starts them."""
    sessions = records.sessions
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    records.ensure_vehicle("V2", "甘K·3072学", "C4", "C4-01")
    now = datetime.now(timezone.utc)
    sitting = create_sitting(sessions, SittingPlan("S9", now, now + timedelta(seconds=1), now + timedelta(hours=1)))
    write_csv(tmp_path / "r.csv", [["", name, id_number(n), f"6201000000{n}", "", cls, "兰州驾校", "S9", "初考"]
                                   for name, n, cls in PEOPLE])
    RosterImport(sessions, {"E", "C4"}).run(tmp_path / "r.csv", commit=True)
    with sessions.begin() as session:
        session.get(Sitting, sitting).status = "running"
    checkin = CheckIn(sessions)
    for _name, n, _cls in PEOPLE:
        checkin.confirm(checkin.identify(sitting, id_number(n)).booking_id, PHOTO, "supervisor")
    course, ruleset = demo_course(), load_ruleset(default_ruleset_path())
    controller = Controller(course, ruleset, records, LiveFeed(), ScaledClock(1.0),
                            [VehicleInfo("V1", "甘K·3071学", "E", "E-01")])
    controller.start()
    callup = CallUp(sessions)
    controller.finish_listeners.append(callup.on_finished)
    server = ConsoleLink(controller.feed, token=TOKEN,
                        commands=CommandDesk(controller, ruleset, start=lambda b: callup.start(b, controller)).handle
                        ).start()
    app = create_app(records, controller.feed, {"TESTING": True, "SECRET_KEY": "queue"},
                     controller=ControllerClient(server.url, TOKEN))
    yield app, controller, sitting
    server.stop()
    controller.stop()


def _signed_in(app, role):
    c = app.test_client()
    login(c, role)
    return c, csrf_token(c.get("/login").get_data(as_text=True))


def test_queue_lists_the_running_sittings_candidates_in_order_with_ids_masked(desk):
    app, _controller, sitting = desk
    c, _token = _signed_in(app, "auditor")
    data = c.get("/live/queue").get_json()
    [s] = data["sittings"]
    assert (s["id"], s["code"], s["status_text"], s["booked"], s["finished"]) == (sitting, "S9", "考试中", 0, 0)
    assert [(e["queue_no"], e["name"], e["state_text"]) for e in s["entries"]] == [
        (1, "王建国", "候考"), (2, "李秀英", "候考"), (3, "张伟", "候考")]
    assert all(e["id"].startswith("620") and "*" in e["id"] for e in s["entries"])
    assert id_number(51) not in c.get("/live/queue").get_data(as_text=True)
    assert [v["id"] for v in data["vehicles"]] == ["V1", "V2"]


def test_call_next_needs_a_supervisor_and_csrf_and_is_audited(desk, records):
    app, _controller, sitting = desk
    auditor, token = _signed_in(app, "auditor")
    assert auditor.post(f"/console/call/{sitting}/V1", headers={"X-CSRFToken": token}).status_code == 403
    supervisor, token = _signed_in(app, "supervisor")
    assert supervisor.post(f"/console/call/{sitting}/V1").status_code == 400  # no CSRF token
    first = supervisor.post(f"/console/call/{sitting}/V1", headers={"X-CSRFToken": token})
    assert first.status_code == 200 and first.get_json()["ok"]
    busy = supervisor.post(f"/console/call/{sitting}/V1", headers={"X-CSRFToken": token})
    assert busy.status_code == 400 and "上已有考生王建国" in busy.get_json()["error"]
    nobody = supervisor.post(f"/console/call/{sitting}/V9", headers={"X-CSRFToken": token})
    assert nobody.status_code == 400 and "无此考试车辆" in nobody.get_json()["error"]
    entries = AuditLog(records.sessions).entries()
    assert [e.action for e in entries[:3]] == ["call_next"] * 3
    assert any("refused" in e.detail for e in entries[:3])


def test_start_answers_json_to_the_console(desk):
    app, controller, sitting = desk
    supervisor, token = _signed_in(app, "supervisor")
    booking = supervisor.post(f"/console/call/{sitting}/V1", headers={"X-CSRFToken": token}).get_json()["booking"]
    started = supervisor.post(f"/console/start/{booking}", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert started.status_code == 200 and started.get_json()["ok"]
    attempt = started.get_json()["attempt"]
    assert controller.running_attempt("V1") == attempt
    again = supervisor.post(f"/console/start/{booking}", headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert again.status_code == 400 and "未被叫号" in again.get_json()["error"]
    controller.stop_attempt("V1", "supervisor", "测试结束")
    assert controller.wait_finished(attempt, 5) is AttemptStatus.ABORTED


def test_supervisor_calls_and_starts_a_candidate_from_the_console(desk, records, artefacts):
    app, controller, sitting = desk
    web_feed = LiveFeed()
    console_link = ConsoleLink(controller.feed).start()
    follower = RemoteFeed(console_link.url, web_feed).start()
    app.extensions["examroom.feed"] = web_feed
    try:
        with served(app) as base, chromium_page() as page:
            sign_in(page, base, "supervisor", PASSWORD, then="/login")
            page.locator("#queue tr[data-booking] td", has_text="李秀英").wait_for(timeout=10_000)
            assert page.locator("#queue button[data-action=call-V2]").count() == 1  # C4: 张伟 waits
            page.click("#queue button[data-action=call-V1]")
            called = page.locator("#queue tr.st-called")
            called.locator("td", has_text="王建国").wait_for(timeout=10_000)
            assert "甘K·3071学" in called.inner_text()
            call_v1 = page.locator("#queue button[data-action=call-V1]")  # V1 is taken: shown, not usable
            assert call_v1.is_disabled() and "考完后" in call_v1.get_attribute("title")
            called.locator("button[data-action=start]").click()
            page.locator("#vehicle-V1", has_text="王建国").wait_for(timeout=10_000)
            page.locator("#queue tr.st-on_vehicle", has_text="王建国").wait_for(timeout=10_000)
            assert call_v1.is_disabled()  # and stays so while the attempt runs
            screenshots(page, artefacts, "console-queue-vehicle-busy")
        attempt = controller.running_attempt("V1")
        assert attempt is not None
        with records.sessions() as session:
            assert session.get(Attempt, attempt).booking_id is not None
            assert session.query(Booking).filter_by(state="on_vehicle").count() == 1
        assert [e.action for e in AuditLog(records.sessions).entries()[:2]] == ["start", "call_next"]
        controller.stop_attempt("V1", "supervisor", "测试结束")
        controller.wait_finished(attempt, 5)
    finally:
        follower.stop()
        console_link.stop()

"""The auditor's replay: track, outline at the cursor, deduction timeline, re-judge, review."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from examroom.simulation.scenarios import demo_course, scenario
from scoring.judge import judge_stream
from scoring.report import result_to_dict
from examroom.records.course_snapshot import course_snapshot
from scoring.rules import default_ruleset_path, load_ruleset, ruleset_to_dict
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD, csrf_token, login

UTC = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def judged(records):
    """The E hill_short scenario stored as the controller stores an attempt."""
    sc = scenario("E", "hill_short")
    observations = list(sc.observations(start_utc=UTC))
    course, rules = demo_course(), load_ruleset(default_ruleset_path())
    result = result_to_dict(judge_stream(observations, course, rules))
    records.ensure_vehicle(sc.vehicle, "甘K·3071学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    effective = rules.with_overrides(course.overrides, f"course:{course.name}")
    attempt = records.check_in(candidate, sc.vehicle, "demo", effective.id, UTC,
                               rule_set_snapshot=ruleset_to_dict(effective), course_snapshot=course_snapshot(course))
    records.mark_running(attempt, UTC)
    records.append_journal(attempt, enumerate(observations, start=1))
    for d in result["deductions"]:
        records.add_deduction(attempt, d)
    records.finish(attempt, AttemptStatus.PASSED, UTC, result=result)
    return attempt, result


def _auditor(app):
    c = app.test_client()
    login(c, "auditor")
    return c, csrf_token(c.get("/stats/").get_data(as_text=True))


def test_track_and_outline(app, accounts, judged):
    attempt, result = judged
    c, _ = _auditor(app)
    data = c.get(f"/attempts/{attempt}/track.json").get_json()
    assert len(data["poses"]) > 100 and data["plan"]["items"]
    assert [d["rule"] for d in data["deductions"]] == ["hill.stop_offset_minor"]
    t = data["deductions"][0]["t"]
    outline = c.get(f"/attempts/{attempt}/outline.json?t={t}").get_json()["outline"]
    assert len(outline) >= 5 and outline[0] == outline[-1]
    assert c.get(f"/attempts/{attempt}/outline.json?t=soon").status_code == 400


def test_rejudge_agrees_then_shows_a_difference(app, accounts, judged, records):
    attempt, result = judged
    c, token = _auditor(app)
    same = c.post(f"/attempts/{attempt}/rejudge", headers={"X-CSRFToken": token}).get_json()
    assert same["differences"] == []
    altered = {**result, "score": 100, "deductions": []}
    with records.sessions.begin() as session:  # a stored result that no longer matches its journal
        from examroom.records.models import Attempt

        session.get(Attempt, attempt).result = altered
    diff = c.post(f"/attempts/{attempt}/rejudge", headers={"X-CSRFToken": token}).get_json()["differences"]
    assert "score: 100 → 90" in diff and any("now given: hill.stop_offset_minor" in x for x in diff)


def test_rejudge_in_the_browser_uses_the_attempts_own_rules_and_course(records, feed, accounts, judged, tmp_path):
    """The web process's rule file and course file are not the attempt's: the re-judge still reproduces."""
    from examroom_web import create_app
    from examroom.simulation.scenarios import DEMO_COURSE_PATH

    attempt, _ = judged
    moved = tmp_path / "demo-moved.toml"  # the hill moved 0.6 m since: its own stop would now fail
    text = DEMO_COURSE_PATH.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("placement") and "x = 20.0" in line)
    moved.write_text(text.replace(old, old.replace("y = 0.0", "y = 0.6")), encoding="utf-8")
    assert moved.read_text(encoding="utf-8") != text
    app = create_app(records, feed, {"TESTING": True, "SECRET_KEY": "s", "COURSE_FILE": str(moved),
                                     "RULES_FILE": str(default_ruleset_path().with_name("ga1026-2012.toml"))})
    c, token = _auditor(app)
    answer = c.post(f"/attempts/{attempt}/rejudge", headers={"X-CSRFToken": token}).get_json()
    assert answer["differences"] == [] and answer["rule_set"].startswith("ga1026-2022")
    assert answer["course"]["changed"] is True and answer["course"]["source"] == "snapshot"
    assert answer["notes"] == ["该考试所用的考场文件已更改：已按考试时保存的考场重新评判。"]


def test_rejudge_of_an_attempt_without_stored_rules_says_why(app, accounts, judged, records):
    attempt, _ = judged
    with records.sessions.begin() as session:
        from examroom.records.models import Attempt

        session.get(Attempt, attempt).rule_set_snapshot = None
    c, token = _auditor(app)
    response = c.post(f"/attempts/{attempt}/rejudge", headers={"X-CSRFToken": token})
    assert response.status_code == 422 and "未保存评判规则" in response.get_json()["error"]


def test_review_mark(app, accounts, judged):
    attempt, _ = judged
    c, token = _auditor(app)
    c.post(f"/attempts/{attempt}/review", data={"csrf_token": token, "comment": "视频与扣分一致"})
    assert "视频与扣分一致" in c.get(f"/attempts/{attempt}/replay").get_data(as_text=True)


def test_supervisors_may_watch_but_not_rejudge_or_review(app, accounts, judged, client):
    attempt, _ = judged
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.get(f"/attempts/{attempt}/replay").status_code == 200
    assert client.post(f"/attempts/{attempt}/rejudge", headers={"X-CSRFToken": token}).status_code == 403


def test_search_by_rule_and_candidate(app, accounts, judged, client):
    attempt, result = judged
    assert f"/attempts/{attempt}/replay" in client.get("/attempts/?rule=hill.stop_offset_minor").get_data(as_text=True)
    # the choices are the rules that have deducted, by their Chinese titles
    listing = client.get("/attempts/?rule=hill.stop_offset_minor").get_data(as_text=True)
    title = next(d["title"] for d in result["deductions"] if d["rule"] == "hill.stop_offset_minor")
    # the rule id is the auditor's tooltip, not text beside the title
    assert f'<option value="hill.stop_offset_minor" title="hill.stop_offset_minor" selected>{title}</option>' in listing
    assert f"/attempts/{attempt}/replay" not in client.get("/attempts/?rule=general.stall").get_data(as_text=True)
    assert f"/attempts/{attempt}/replay" in client.get("/attempts/?candidate=张伟&day=2026-11-29").get_data(as_text=True)
    assert client.get("/attempts/?day=someday").status_code == 400


def test_jump_to_a_deduction_in_the_browser(app, accounts, judged):
    attempt, result = judged
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "auditor", PASSWORD, then="/login")
        # The footage list is held back until the deduction has been clicked: an auditor who
        # clicks while the page still loads must stay at the deduction, not be pulled back to the
        # start when the list arrives (what happened under load).
        held = []
        page.route("**/video.json", lambda route: held.append(route))
        page.goto(f"{base}/attempts/{attempt}/replay")
        page.click("#timeline button")
        page.wait_for_function("() => document.getElementById('replay').dataset.cursorT !== undefined")
        assert len(held) == 1
        held[0].continue_()
        page.wait_for_function("() => document.getElementById('replay').dataset.loaded === 'true'")
        assert abs(float(page.locator("#replay").get_attribute("data-now")) - result["deductions"][0]["t"]) < 0.05
        # A function, not an expression string: the page's CSP forbids the eval a string would need.
        page.wait_for_function("() => document.getElementById('replay').dataset.cursorT !== undefined && "
                               "Math.abs(parseFloat(document.getElementById('replay').dataset.cursorT) - "
                               f"{result['deductions'][0]['t']}) < 0.05")
        assert page.locator("#plan .outline").get_attribute("points")
        page.click("#rejudge")
        page.locator("#rejudged .flash.ok").wait_for()

"""Re-judging stored attempts from their journal, on a real SQLite database."""

import json
from datetime import datetime, timezone

import pytest

from devices.readings import ScaledClock
from examroom.cli import main as cli
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from examroom.live.rejudge import RejudgeError, compare, rejudge, report_text
from examroom.records.result_diff import difference_lines, same
from scoring.judge import Judge
from scoring.report import result_to_dict
from scoring.rule_snapshot import ruleset_from_dict
from scoring.rules import load_ruleset, ruleset_to_dict
from tests.scoring.items.test_hill import hill_run
from tests.scoring.streams import DEMO_COURSE, ROOT, demo_course, only, ruleset

RULES_2012 = ROOT / "config" / "rules" / "ga1026-2012.toml"
UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def _store(records, run, course, rules=None, course_snapshot=None) -> int:
    """Record a scripted attempt as the controller does: snapshot, journal, deductions, result."""
    records.ensure_vehicle("veh-1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("张三", "620102199001011234", "62000001", "E"))
    judge = Judge(course, course.vehicle("E-01"), rules or ruleset(), "E", vehicle="veh-1")
    attempt = records.check_in(candidate, "veh-1", course.name, judge.ruleset.id, UTC,
                               rule_set_snapshot=ruleset_to_dict(judge.ruleset), course_snapshot=course_snapshot)
    records.mark_running(attempt, UTC)
    records.append_journal(attempt, list(enumerate(run.obs, start=1)))
    for obs in run.obs:
        judge.feed(obs)
    result = result_to_dict(judge.result())
    records.finish(attempt, AttemptStatus(result["status"]), UTC, result=result)
    return attempt


def test_controller_stores_the_effective_rule_set(records):
    records.ensure_vehicle("veh-1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("张三", "620102199001011234", "62000001", "E"))
    controller = Controller(demo_course(), ruleset(), records, LiveFeed(), ScaledClock(),
                            [VehicleInfo("veh-1", "甘K·0001学", "E", "E-01")])
    attempt_id = controller.begin_attempt("veh-1", candidate)
    controller.stop_attempt("veh-1", "supervisor", "test")
    stored = records.attempt(attempt_id)
    assert stored.rule_set_hash == stored.rule_set_snapshot["hash"]
    assert ruleset_from_dict(stored.rule_set_snapshot) == ruleset()  # the demo course overrides nothing


def test_rejudge_under_its_own_rules_reproduces(records):
    course = only(demo_course(), "E", "e_hill")
    attempt = _store(records, hill_run(offset=-0.3), course)
    report = rejudge(records, attempt, course)
    assert report.reproduces is True
    assert report.own["score"] == 90 and report.other is None and report.differences is None


def test_rejudge_under_another_rule_set_shows_the_difference(records):
    course = only(demo_course(), "E", "e_hill")
    attempt = _store(records, hill_run(offset=-0.3), course)
    report = rejudge(records, attempt, course, load_ruleset(RULES_2012))
    diff = report.differences
    assert diff["score"] == [90, 80] and diff["status"] is None
    assert [c["rule"] for c in diff["points_changed"]] == ["hill.stop_offset_minor"]
    assert diff["points_changed"][0]["points"] == [10, 20]
    assert report.other_rule_set["id"] == "ga1026-2012"


def test_rejudge_uses_the_stored_rules_not_todays(records):
    # an attempt judged under the 2012 set that day is re-judged under 2012, whatever is shipped now
    course = only(demo_course(), "E", "e_hill")
    attempt = _store(records, hill_run(offset=-0.3), course, rules=load_ruleset(RULES_2012))
    report = rejudge(records, attempt, course)
    assert report.own["deductions"][0]["points"] == 20 and report.reproduces
    assert report.own_rule_set["id"] == "ga1026-2012"


def test_refusals(records):
    course = only(demo_course(), "E", "e_hill")
    with pytest.raises(RejudgeError, match="数据库中没有考试99"):
        rejudge(records, 99, course)
    attempt = _store(records, hill_run(), course)
    import dataclasses
    with pytest.raises(RejudgeError, match="所给考场文件为"):
        rejudge(records, attempt, dataclasses.replace(course, name="别的考场"))


def test_compare_lists_what_only_one_side_has():
    a = {"status": "passed", "passed": True, "score": 90, "deductions": [
        {"rule": "x.a", "t": 1.0, "points": 10}]}
    b = {"status": "failed", "passed": False, "score": 0, "deductions": [
        {"rule": "x.b", "t": 2.0, "points": 100}]}
    diff = compare(a, b)
    assert diff["status"] == ["passed", "failed"] and diff["score"] == [90, 0]
    assert [d["rule"] for d in diff["only_before"]] == ["x.a"] and [d["rule"] for d in diff["only_after"]] == ["x.b"]


def test_one_comparison_gives_the_verdict_the_lines_and_the_points():
    a = {"status": "passed", "passed": True, "score": 90, "deductions": [
        {"rule": "x.a", "t": 1.0, "points": 10}, {"rule": "x.c", "t": 3.0, "points": 10}]}
    b = {"status": "failed", "passed": False, "score": 70, "deductions": [
        {"rule": "x.b", "t": 2.0, "points": 20}, {"rule": "x.c", "t": 3.0004, "points": 20}]}
    assert same(a, a) and not same(a, b)
    assert difference_lines(a, b) == ["status: passed → failed", "score: 90 → 70", "passed: True → False",
                                      "deduction no longer given: x.a at 1.0 s", "deduction now given: x.b at 2.0 s",
                                      "points changed: x.c at 3.0 s: 10 → 20"]
    assert difference_lines(None, a)[0] == "status: None → passed"  # nothing stored: all of it is new


def test_cli_rejudge_json(records, sqlite_url, tmp_path, capsys):
    course_file = tmp_path / "hill-only.toml"
    text = DEMO_COURSE.read_text(encoding="utf-8")
    course_file.write_text(text.replace('E = ["e_pile", "e_hill", "e_bridge"]', 'E = ["e_hill"]'), encoding="utf-8")
    attempt = _store(records, hill_run(offset=-0.3), only(demo_course(), "E", "e_hill"))
    code = cli.main(["rejudge", str(attempt), "--database", sqlite_url, "--course", str(course_file),
                     "--rules", str(RULES_2012), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["attempt"] == attempt and report["reproduces"] is True
    assert report["other_rule_set"]["id"] == "ga1026-2012" and report["differences"]["score"] == [90, 80]
    assert cli.main(["rejudge", str(attempt), "--database", sqlite_url, "--course", str(course_file),
                     "--rules", str(RULES_2012)]) == 0
    text_out = capsys.readouterr().out
    assert "reproduces the stored result: yes" in text_out and "points changed" in text_out


def test_cli_rejudge_unknown_attempt(sqlite_url, engine, capsys):
    code = cli.main(["rejudge", "7", "--database", sqlite_url])
    assert code == 2 and "数据库中没有考试7" in capsys.readouterr().err


def _edit_snapshot(engine, attempt, change):
    from sqlalchemy.orm import Session

    from examroom.records.models import Attempt

    with Session(engine) as session, session.begin():
        row = session.get(Attempt, attempt)
        snapshot = json.loads(json.dumps(row.rule_set_snapshot))
        row.rule_set_snapshot = change(snapshot)


def test_an_altered_snapshot_is_refused(records, engine):
    from scoring.rules import RuleSetError

    course = only(demo_course(), "E", "e_hill")
    attempt = _store(records, hill_run(offset=-0.3), course)

    def lower(snapshot):
        next(r for r in snapshot["rules"] if r["id"] == "hill.stop_offset_minor")["points"] = 1
        return snapshot

    _edit_snapshot(engine, attempt, lower)
    with pytest.raises(RuleSetError, match="does not match its hash"):
        rejudge(records, attempt, course)


def test_an_attempt_without_a_snapshot_needs_rules(records, engine):
    course = only(demo_course(), "E", "e_hill")
    attempt = _store(records, hill_run(), course)
    _edit_snapshot(engine, attempt, lambda snapshot: None)
    with pytest.raises(RejudgeError, match="未保存评判规则"):
        rejudge(records, attempt, course)


# -- issue 13.3: the attempt's own course, stored and sealed; one re-judge for CLI and web ---------

def _course_files(tmp_path):
    """The demo course cut to the E hill, as a file; and the same file with the hill moved 0.6 m."""
    import re

    text = re.sub(r"^E = \[.*\]$", 'E = ["e_hill"]', DEMO_COURSE.read_text(encoding="utf-8"), flags=re.M)
    (tmp_path / "day.toml").write_text(text, encoding="utf-8")
    moved = text.replace("placement = { x = 20.0, y = 0.0, heading = 90.0 }",
                         "placement = { x = 20.0, y = 0.6, heading = 90.0 }")
    assert moved != text
    (tmp_path / "moved.toml").write_text(moved, encoding="utf-8")
    return tmp_path / "day.toml", tmp_path / "moved.toml"


def _store_on_file_course(records, path):
    from examroom.records.course_snapshot import course_snapshot
    from scoring.course import load_course

    course = load_course(path)
    return _store(records, hill_run(offset=-0.3), course, course_snapshot=course_snapshot(course))


def test_the_controller_stores_the_course_file_with_its_hash(records):
    from examroom.records.course_snapshot import course_sha256

    records.ensure_vehicle("veh-1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("张三", "620102199001011234", "62000001", "E"))
    course = demo_course()
    controller = Controller(course, ruleset(), records, LiveFeed(), ScaledClock(),
                            [VehicleInfo("veh-1", "甘K·0001学", "E", "E-01")])
    attempt_id = controller.begin_attempt("veh-1", candidate)
    controller.stop_attempt("veh-1", "supervisor", "test")
    stored = records.attempt(attempt_id)
    assert stored.course_sha256 == course_sha256(course) and len(stored.course_sha256) == 64
    assert stored.course_snapshot["name"] == course.name and "items" in stored.course_snapshot


def test_a_course_derived_in_code_has_no_snapshot():
    from examroom.records.course_snapshot import course_snapshot

    assert course_snapshot(demo_course()) is not None
    assert course_snapshot(only(demo_course(), "E", "e_hill")) is None  # no longer what its file says


def test_rejudge_against_a_changed_course_says_so_and_uses_the_stored_one(records, tmp_path):
    from scoring.course import load_course

    day, moved = _course_files(tmp_path)
    attempt = _store_on_file_course(records, day)
    same = rejudge(records, attempt, load_course(day))
    assert same.reproduces and same.course["changed"] is False and same.course["source"] == "snapshot"
    report = rejudge(records, attempt, load_course(moved))
    assert report.reproduces is True and report.own["score"] == 90  # judged on the stored course
    assert report.course["changed"] is True
    text = report_text(report.to_dict())
    assert "the course file given differs" in text and "the course changed since" in text
    # What the moved course would have said: the same journal fails there (that is why it matters).
    from scoring.judge import judge_stream

    assert result_to_dict(judge_stream(hill_run(offset=-0.3).obs, load_course(moved), ruleset()))["status"] == "failed"


def test_cli_rejudge_names_a_changed_course(records, sqlite_url, tmp_path, capsys):
    day, moved = _course_files(tmp_path)
    attempt = _store_on_file_course(records, day)
    assert cli.main(["rejudge", str(attempt), "--database", sqlite_url, "--course", str(moved)]) == 0
    out = capsys.readouterr().out
    assert "the course changed since" in out and "reproduces the stored result: yes" in out


def test_an_altered_course_snapshot_is_refused(records, engine, tmp_path):
    from scoring.course import load_course

    day, _ = _course_files(tmp_path)
    attempt = _store_on_file_course(records, day)

    def move(snapshot):
        next(i for i in snapshot["items"] if i["id"] == "e_hill")["placement"]["y"] = 0.6
        return snapshot

    from examroom.records.models import Attempt

    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            row = session.get(Attempt, attempt)
            row.course_snapshot = move(json.loads(json.dumps(row.course_snapshot)))
            session.commit()
    with pytest.raises(RejudgeError, match="保存的考场快照与其哈希"):
        rejudge(records, attempt, load_course(day))

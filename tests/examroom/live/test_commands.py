"""Supervisor commands through the controller link: checked, journaled, refused with a reason."""

from __future__ import annotations

import json
import urllib.request
from datetime import datetime, timezone

import pytest

from devices.readings import ScaledClock
from examroom.live.commands import CommandDesk
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from scoring.observations import from_json
from scoring.rules import default_ruleset_path, load_ruleset
from examroom.simulation.scenarios import demo_course
from examroom_web.controlclient import ControllerClient

TOKEN = "t" * 64


@pytest.fixture
def link(records):
    course, ruleset = demo_course(), load_ruleset(default_ruleset_path())
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    controller = Controller(course, ruleset, records, LiveFeed(), ScaledClock(1.0),
                            [VehicleInfo("V1", "甘K·3071学", "E", "E-01")])
    controller.start()
    server = ConsoleLink(controller.feed, commands=CommandDesk(controller, ruleset).handle, token=TOKEN).start()
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    yield controller, ControllerClient(server.url, TOKEN), candidate
    server.stop()
    controller.stop()


def _journal_commands(records, attempt):
    return [obs for obs in map(from_json, records.journal_lines(attempt)) if obs.kind == "command"]


def test_stop_is_journaled_with_who_and_why(link, records):
    controller, client, candidate = link
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    ok, answer = client.send(action="stop", vehicle="V1", actor="wang", reason="考生身体不适")
    assert ok and answer["attempt"] == attempt
    assert controller.wait_finished(attempt, 5) is AttemptStatus.ABORTED
    stored = records.attempt(attempt)
    assert stored.reason == "考生身体不适" and stored.score is None
    stop = _journal_commands(records, attempt)[-1]
    assert (stop.action.value, stop.actor, stop.reason) == ("stop", "wang", "考生身体不适")


def test_manual_fail_names_a_manual_rule(link, records):
    controller, client, candidate = link
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    ok, rules = client.send(action="manual_rules", vehicle="V1")
    ids = [r["id"] for r in rules["rules"]]
    assert ok and "general.instruction" in ids and "pile.pole_touched" not in ids
    refused, answer = client.send(action="manual_fail", vehicle="V1", actor="wang", reason="x", rule="pile.pole_touched")
    assert not refused and "不是该车型可人工评判的扣分项" in answer["error"]
    ok, _ = client.send(action="manual_fail", vehicle="V1", actor="wang", reason="未按指令行驶",
                        rule="general.instruction")
    assert ok and controller.wait_finished(attempt, 5) is AttemptStatus.FAILED
    assert [d.rule for d in records.attempt(attempt).deductions] == ["general.instruction"]


def _status(controller, records, attempt):
    """The attempt's stored status once the controller has handled and written everything sent so far."""
    controller.drain()
    return records.attempt(attempt).status


def test_device_fault_suspends_and_resume_continues(link, records):
    controller, client, candidate = link
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    ok, _ = client.send(action="device_fault", vehicle="V1", actor="wang", reason="GNSS 天线松动")
    assert ok and _status(controller, records, attempt) == "suspended"
    refused, answer = client.send(action="device_fault", vehicle="V9", actor="wang", reason="x")
    assert not refused
    ok, _ = client.send(action="resume", vehicle="V1", actor="wang", reason="天线已紧固")
    assert ok and _status(controller, records, attempt) == "running"
    not_suspended, answer = client.send(action="resume", vehicle="V1", actor="wang", reason="x")
    assert not not_suspended and "未暂停" in answer["error"]


def test_a_suspended_attempt_stopped_ends_as_device_fault_never_a_deduction(link, records):
    controller, client, candidate = link
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    client.send(action="device_fault", vehicle="V1", actor="wang", reason="信号板无数据")
    assert _status(controller, records, attempt) == "suspended"
    ok, _ = client.send(action="stop", vehicle="V1", actor="wang", reason="换车重考")
    assert ok and controller.wait_finished(attempt, 5) is AttemptStatus.DEVICE_FAULT
    assert records.attempt(attempt).deductions == []


@pytest.mark.parametrize("command, error", [
    ({"action": "launch", "vehicle": "V1"}, "未知操作"),
    ({"action": "stop", "vehicle": "V9", "actor": "wang", "reason": "x"}, "没有这辆考试车"),
    ({"action": "stop", "vehicle": "V1", "actor": "wang", "reason": "x"}, "当前没有进行中的考试"),
])
def test_refusals_say_why(link, command, error):
    _controller, client, _candidate = link
    ok, answer = client.send(**command)
    assert not ok and error in answer["error"]


def test_a_reason_is_required(link):
    controller, client, candidate = link
    controller.begin_attempt("V1", candidate, "张伟")
    ok, answer = client.send(action="stop", vehicle="V1", actor="wang", reason="  ")
    assert not ok and "须写明原因" in answer["error"]


def test_commands_need_the_token(link):
    _controller, client, _candidate = link
    request = urllib.request.Request(client.url, data=json.dumps({"action": "stop"}).encode(), method="POST",
                                     headers={"X-Examroom-Token": "guess"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403


def test_rerun_after_a_device_fault_starts_a_new_attempt(link, records):
    from examroom.live.commands import CommandDesk
    from examroom.station.device_health import rerun_attempt

    controller, _client, candidate = link
    desk = CommandDesk(controller, controller.ruleset,
                       rerun=lambda attempt, actor, reason: rerun_attempt(controller, records, attempt, actor, reason))
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    desk.handle({"action": "device_fault", "vehicle": "V1", "actor": "wang", "reason": "GNSS 天线松动"})
    assert _status(controller, records, attempt) == "suspended"
    answer = desk.handle({"action": "rerun", "vehicle": "V1", "actor": "wang", "reason": "换备用车载终端"})
    assert answer["attempt"] == attempt and answer["new_attempt"] != attempt
    assert records.attempt(attempt).status == "device_fault" and records.attempt(attempt).deductions == []
    assert controller.running_attempt("V1") == answer["new_attempt"]


def test_start_a_called_candidate_from_the_console(records, engine, tmp_path):
    from examroom.examday.callup import CallUp
    from examroom.live.commands import CommandDesk, CommandRefused
    from tests.examroom.examday.test_checkin_callup import _checked_in, day as day_fixture  # noqa: F401

    sessions, s1, _ = day_fixture.__wrapped__(engine, tmp_path)
    course, ruleset = demo_course(), load_ruleset(default_ruleset_path())
    controller = Controller(course, ruleset, records, LiveFeed(), ScaledClock(1.0),
                            [VehicleInfo("V1", "甘K·3071学", "E", "E-01")])
    controller.start()
    try:
        desk = CommandDesk(controller, ruleset, start=lambda booking: CallUp(sessions).start(booking, controller))
        booking, _queue = _checked_in(sessions, s1, 11)
        with pytest.raises(CommandRefused, match="未被叫号"):
            desk.handle({"action": "start", "booking": booking, "actor": "wang"})
        assert CallUp(sessions).call_next(s1, "V1") == booking
        with pytest.raises(CommandRefused, match="操作人"):
            desk.handle({"action": "start", "booking": booking, "actor": ""})
        attempt = desk.handle({"action": "start", "booking": booking, "actor": "wang"})["attempt"]
        assert controller.running_attempt("V1") == attempt
        assert records.attempt(attempt).booking_id == booking
    finally:
        controller.stop()

"""Supervisor actions are journal events with who, when and why, inside the sealed record."""

import json

import pytest

from devices.readings import ScaledClock
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import CandidateInfo
from examroom.records.sealing import Sealer, load_or_create_key
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.records.verify import verify
from scoring.course import load_course
from scoring.rules import default_ruleset_path, load_ruleset
from tests.examroom.attempts import id_number


@pytest.fixture
def controller(records, tmp_path):
    course = load_course(DEMO_COURSE_PATH)
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    sealer = Sealer(records.sessions, load_or_create_key(tmp_path))
    c = Controller(course, load_ruleset(default_ruleset_path()), records, LiveFeed(), ScaledClock(1.0),
                   [VehicleInfo("V1", "甘K·3071学", "E", "E-01")])
    c.finish_listeners.append(lambda attempt, status: sealer.seal(attempt))
    return c


def _candidate(records, n):
    return records.ensure_candidate(CandidateInfo("王建国", id_number(n), f"6201{n:08d}", "E"))


@pytest.mark.parametrize("act, status", [
    (lambda c: c.manual_fail("V1", "general.instruction", "考试员甲", "未按指令停车"), "failed"),
    (lambda c: c.stop_attempt("V1", "考试员甲", "考生身体不适，中止考试"), "aborted"),
    # A device fault suspends the attempt; ended while suspended, it stays a device fault.
    (lambda c: (c.device_fault("V1", "信号板无数据超过 2 秒", actor="考试员甲"),
                c.stop_attempt("V1", "考试员甲", "换车重考")), "device_fault"),
])
def test_each_action_is_journaled_with_who_and_why_and_sealed(controller, records, act, status):
    attempt = controller.begin_attempt("V1", _candidate(records, 61), "王建国")
    act(controller)
    stored = records.attempt(attempt)
    assert stored.status == status
    command = json.loads(list(records.journal_lines(attempt))[-1])
    assert command["kind"] == "command" and command["actor"] == "考试员甲" and command["reason"]
    assert command["utc"].endswith("Z")
    assert verify(records.sessions, attempts=[attempt]).ok


def test_an_action_without_who_or_why_is_refused(controller, records):
    controller.begin_attempt("V1", _candidate(records, 62), "王建国")
    with pytest.raises(ValueError, match="须注明操作人和理由"):
        controller.manual_fail("V1", "general.instruction", "考试员甲", " ")
    with pytest.raises(ValueError, match="须注明操作人和理由"):
        controller.stop_attempt("V1", "", "中止")
    assert controller.running_attempt("V1") is not None

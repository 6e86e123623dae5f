"""The controller refuses, before its journal, what ``examroom judge`` would refuse reading it back."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from devices.readings import GnssFix, ScaledClock
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from examroom.simulation.scenarios import demo_course
from scoring.observations import ObservationFormatError, Pose, read_jsonl
from scoring.rules import default_ruleset_path, load_ruleset


@pytest.fixture
def controller(records):
    course = demo_course()
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    controller = Controller(course, load_ruleset(default_ruleset_path()), records, LiveFeed(), ScaledClock(1.0),
                            [VehicleInfo("V1", "甘K·3071学", "E", "E-01")])
    controller.attach_device("gnss1", "V1")
    controller.start()
    yield controller
    controller.stop()


def _fix(clock_now, dt: float, latitude: float) -> GnssFix:
    mono, utc = clock_now
    return GnssFix(mono=mono + dt, utc=utc + timedelta(seconds=dt), device="gnss1", latitude=latitude,
                   longitude=105.0, altitude=1000.0, quality=4, satellites=20, hdop=0.6, correction_age=1.0,
                   speed=0.0, course=None, heading=90.0)


def test_bad_readings_never_reach_the_journal_and_the_journal_reads_back(controller, records):
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    origin = controller.course.origin
    now = controller.clock.now()
    controller.submit(_fix(now, 0.1, origin.latitude))
    controller.submit(_fix(now, 0.2, math.nan))  # a receiver's NaN: the pose would have x = NaN
    controller.submit(_fix(now, 0.25, origin.latitude))
    controller.submit(_fix(now, 0.15, origin.latitude))  # earlier than the pose before it
    controller.submit(_fix(now, 0.3, origin.latitude))
    controller.stop_attempt("V1", "wang", "测试")  # queued after the readings: they are handled first
    assert controller.wait_finished(attempt, 5) is AttemptStatus.ABORTED
    assert controller.refused_readings == 2 and controller.refused_by_device == {"gnss1": 2}
    assert "time goes backwards" in controller.last_refusal["gnss1"]
    journal = list(read_jsonl(records.journal_lines(attempt), "journal"))
    poses = [o for o in journal if isinstance(o, Pose)]
    assert [round(p.t - now[0], 3) for p in poses] == [0.1, 0.25, 0.3]
    assert [o.kind for o in journal] == ["command", "pose", "pose", "pose", "command"]


def test_a_supervisor_command_the_journal_would_refuse_is_refused_to_the_caller(controller, records):
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    attempt = controller.begin_attempt("V1", candidate, "张伟")
    with pytest.raises(ObservationFormatError, match="command: field 'reason'"):
        controller.stop_attempt("V1", "wang", "太长" * 2000)
    assert controller.running_attempt("V1") == attempt

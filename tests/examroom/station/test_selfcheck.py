"""The pre-sitting self-check: walk-round ticks, device checks, and the gate on begin_attempt.

The course runs in lockstep (examroom.simulation.lockstep): the test owns its clock.
"""

from datetime import datetime, timedelta, timezone

import pytest

from devices.readings import CourseInputs
from examroom.simulation.lockstep import LockstepCourse
from examroom.records.models import Sitting
from examroom.records.attempt_log import CandidateInfo
from examroom.station.selfcheck import SelfCheckRefused, WalkRound
from examroom.site.settings import CourseBoardSettings, SerialSettings, SiteSettings
from examroom.simulation.world import VehicleTruth
from examroom.examday.sittings import SittingPlan, create_sitting

T0 = datetime(2024, 5, 1, 8, tzinfo=timezone.utc)


def board_reading(inputs, device="B1"):
    return CourseInputs(mono=0.0, utc=T0, device=device, unit=1, inputs=tuple(inputs))


def test_walk_round_ticks_on_rising_edges_only():
    settings = SiteSettings(database_url="sqlite://", course_file=".", rule_set_file=".", course_boards=[
        CourseBoardSettings(id="B1", serial=SerialSettings("/dev/null"), unit=1,
                            inputs=["pile.pole1", None, "pile.pole2", "bridge.A"])])
    walk = WalkRound(settings)
    assert walk.observe(board_reading([0, 0, 1, 0])) == []  # first poll: where inputs start
    assert walk.observe(board_reading([1, 1, 1, 0])) == ["pile.pole1"]  # input 1 is not wired
    assert walk.observe(board_reading([0, 0, 1, 0])) == []
    assert walk.observe(board_reading([1, 0, 1, 0])) == []  # already ticked
    # pole2 was active from the start (a stuck switch) and never went inactive: not ticked
    assert walk.pending() == ["pile.pole2", "bridge.A"]
    assert walk.observe(board_reading([0, 0, 0, 1])) == ["bridge.A"]
    assert walk.observe(board_reading([0, 0, 1, 1])) == ["pile.pole2"]
    assert walk.pending() == []


def test_exam_starts_only_after_the_check_passed(tmp_path, copy_migrated):
    copy_migrated(tmp_path / "examroom.sqlite3")
    demo = LockstepCourse(tmp_path, selfcheck_override=False, raw_capture=False).start()
    service = demo.service
    try:
        # Nothing checked yet: GNSS twins silent, no sensor touched; a sitting cannot run either.
        with pytest.raises(SelfCheckRefused, match="场地信号检测未通过且未登记放行"):
            service.controller.begin_attempt("V1", 1)
        now = datetime.now(timezone.utc)
        sitting = create_sitting(service.sessions, SittingPlan("S1", now, now, now + timedelta(hours=1)))
        phases = service.sitting_scheduler.phases
        phases.run(sitting, "open")
        assert phases.run(sitting, "self_check") is False
        report = demo.until(lambda: service.sitting_checks.latest().report["devices"] and
                            service.sitting_checks.latest().report)
        assert not report["passed"]
        gnss = next(d for d in report["devices"] if d["device"] == "V1.gnss")
        assert not gnss["ok"] and gnss["problems"]

        # The vehicles stand on the course; a receiver placed far away is reported.
        demo.sim.vehicles["V1"].show(VehicleTruth(x=0.0, y=0.0, heading=0.0, speed=0.0))
        demo.sim.vehicles["V2"].show(VehicleTruth(x=5000.0, y=0.0, heading=0.0, speed=0.0))

        def device(name):
            return next(d for d in service.sitting_checks.latest().report["devices"] if d["device"] == name)

        demo.until(lambda: device("V1.gnss")["ok"], timeout=10)
        demo.until(lambda: device("V2.gnss")["inside_course"] is False, timeout=10)
        assert any("不在考场范围内" in p for p in device("V2.gnss")["problems"])
        demo.sim.vehicles["V2"].show(VehicleTruth(x=3.0, y=0.0, heading=0.0, speed=0.0))
        demo.until(lambda: service.sitting_checks.latest().report["devices_ok"], timeout=10)

        # The walk-round: each pole touched, each deck switch pressed, once.
        elements = demo.sim.elements
        assert service.sitting_checks.latest().report["sensors_total"] == len(elements) > 0
        with pytest.raises(SelfCheckRefused, match="未触发传感器"):
            service.controller.begin_attempt("V1", 1)
        for element in elements:
            demo.sim.board.set_input(demo.sim._index[element], True)
            demo.until(lambda: any(s["element"] == element and s["fired"]
                                 for s in service.selfcheck.report(service.health(), T0)["sensors"]))
            demo.sim.board.set_input(demo.sim._index[element], False)
        demo.until(lambda: service.sitting_checks.latest().passed, timeout=10)
        assert phases.run(sitting, "self_check") is True  # the same gate lets the sitting run
        with service.sessions() as session:
            assert session.get(Sitting, sitting).status == "running"
        candidate = service.records.ensure_candidate(
            CandidateInfo("张三", "620102199001011234", "62000001", "E"))
        attempt = service.controller.begin_attempt("V1", candidate)
        assert service.controller.running_attempt("V1") == attempt
        service.controller.stop_attempt("V1", "考官", "测试")
    finally:
        demo.stop()


def test_override_is_logged_with_actor_and_reason(tmp_path, copy_migrated):
    copy_migrated(tmp_path / "examroom.sqlite3")
    demo = LockstepCourse(tmp_path, selfcheck_override=False, raw_capture=False).start()
    service = demo.service
    try:
        with pytest.raises(ValueError, match="name and a reason"):
            service.override_selfcheck("考官李", "  ")
        service.override_selfcheck("考官李", "3号杆传感器待修，人工评判该杆")
        row = service.sitting_checks.latest()
        assert (row.override_actor, row.override_reason) == ("考官李", "3号杆传感器待修，人工评判该杆")
        assert not row.passed and row.override_utc is not None
        candidate = service.records.ensure_candidate(CandidateInfo("李四", "620102199001011235", "62000002", "E"))
        attempt = service.controller.begin_attempt("V1", candidate)
        assert attempt and service.gate.refused == []
        service.controller.stop_attempt("V1", "考官李", "测试")
    finally:
        demo.stop()


def test_a_new_day_starts_a_new_check(tmp_path, copy_migrated):
    copy_migrated(tmp_path / "examroom.sqlite3")
    demo = LockstepCourse(tmp_path, selfcheck_override=False, raw_capture=False).start()
    service = demo.service
    try:
        first = service.gate.check_id
        service.override_selfcheck("考官李", "昨日放行")
        demo.advance(1.5)
        assert service.gate.check_id == first
        demo.clock.advance(24 * 3600)  # the controller ran through the night (nothing to see in it)
        demo.advance(1.5)  # the next health snapshot is on the new day
        assert service.gate.check_id != first
        with pytest.raises(SelfCheckRefused, match="场地信号检测未通过且未登记放行"):
            service.controller.begin_attempt("V1", 1)
        assert service.sitting_checks.get(first).override_actor == "考官李"  # yesterday's stays on record
    finally:
        demo.stop()

"""Device faults during a live attempt: RTK lost, a port pulled, a board silenced.

The demo course runs in lockstep (examroom.simulation.lockstep): the real
drivers read the twins over in-process cables and the test owns the clock;
faults are made in the twins and the cables. Each faulted attempt must be
suspended (设备故障) with a reason naming the device, a device_fault command
in its journal and no deduction; the supervisor then resumes it (once the
device is healthy again) or ends it and re-runs it as a new attempt.
"""

import pytest

from examroom.simulation.lockstep import LockstepCourse
from examroom.simulation.scenarios import scenario
from examroom.station.device_health import rerun_attempt
from scoring.observations import Command, CommandAction, read_jsonl


@pytest.fixture(scope="module")
def demo(tmp_path_factory, copy_migrated):
    folder = tmp_path_factory.mktemp("faults")
    copy_migrated(folder / "examroom.sqlite3")
    course = LockstepCourse(folder).start()
    try:
        # GNSS twins stay silent until their vehicle is placed on the course by a scenario.
        course.until(lambda: all(h["alive"] for h in course.service.health() if h["kind"] != "gnss"))
        yield course
    finally:
        course.stop()


def drive(demo, vehicle_id, name="clean"):
    play = demo.play(vehicle_id, scenario(demo.class_of(vehicle_id), name))
    attempt = demo.until(lambda: play.attempt_id)
    demo.advance(0.5)
    return attempt, play


def journal_commands(demo, attempt_id):
    demo.flush()
    return [o for o in read_jsonl(demo.service.records.journal_lines(attempt_id)) if isinstance(o, Command)]


def suspended(demo, vehicle_id, attempt):
    demo.until(lambda: demo.service.controller.suspended(vehicle_id), timeout=10)
    assert demo.service.controller.running_attempt(vehicle_id) == attempt
    assert demo.service.records.attempt(attempt).status == "suspended"
    return True


def assert_device_fault(demo, attempt_id, *words, status="suspended"):
    # The judge may have suspended the attempt itself (it reads fix quality from the poses, and a
    # loss longer than the allowance is a device fault); the health watch's command naming the
    # device then follows and joins that suspension.
    demo.until(lambda: any(c.action == CommandAction.DEVICE_FAULT for c in journal_commands(demo, attempt_id)))
    attempt = demo.service.records.attempt(attempt_id)
    assert attempt.status == status
    assert attempt.deductions == []
    faults = [c for c in journal_commands(demo, attempt_id) if c.action == CommandAction.DEVICE_FAULT]
    assert len(faults) == 1 and faults[0].actor == "system"
    for word in words:
        assert word in faults[0].reason, faults[0].reason
        assert word in attempt.reason
    return faults[0]


def finish(demo, vehicle_id, play, actor, reason):
    demo.service.controller.stop_attempt(vehicle_id, actor, reason)
    demo.until(lambda: play.done, timeout=120)


def health_of(demo, device):
    return {h["device"]: h for h in demo.service.health()}[device]


def test_rtk_float_suspends_the_attempt_and_the_supervisor_resumes_it(demo):
    twins, controller, watch = demo.sim.vehicles["V1"], demo.service.controller, demo.service.health_watch
    attempt, play = drive(demo, "V1")
    twins.gnss_quality = 5  # the receiver loses RTK fixed: float
    try:
        suspended(demo, "V1", attempt)
        assert_device_fault(demo, attempt, "V1.gnss", "RTK浮点解")
        state = demo.service.feed.state()["V1"]
        assert state["status"] == "suspended" and state["attempt"] == attempt
        with pytest.raises(RuntimeError, match="设备仍有故障.*RTK浮点解"):
            watch.resume("V1", "考试员 王")
    finally:
        twins.gnss_quality = 4
    demo.until(lambda: health_of(demo, "V1.gnss")["fix_quality"] == 4)
    demo.service.resume_attempt("V1", "考试员 王", "基准站已恢复")
    assert not controller.suspended("V1") and controller.running_attempt("V1") == attempt
    assert demo.service.records.attempt(attempt).status == "running"
    finish(demo, "V1", play, "考试员 王", "测试结束")
    commands = [(c.action, c.actor) for c in journal_commands(demo, attempt)]
    assert (CommandAction.RESUME, "考试员 王") in commands
    assert demo.service.records.attempt(attempt).status == "aborted"
    assert demo.service.records.attempt(attempt).deductions == []


def test_port_pulled_mid_attempt_then_returned_and_rerun(demo):
    cable = demo.sim.vehicles["V2"].gnss_cable
    attempt, play = drive(demo, "V2")
    cable.unplug()
    pulled, _ = demo.clock.now()
    try:
        suspended(demo, "V2", attempt)
        to_fault = demo.clock.now()[0] - pulled
    finally:
        cable.replug()
    back, _ = demo.clock.now()
    assert_device_fault(demo, attempt, "V2.gnss", "串口断开")
    demo.until(lambda: health_of(demo, "V2.gnss")["line"] == "ok", timeout=15)
    # The watch confirms a fault after fault_after (and its wall-time minimum, here the same clock);
    # the driver re-opens within its longest back-off.
    assert 1.0 <= to_fault <= 3.0, to_fault
    assert demo.clock.now()[0] - back <= 6.0
    h = health_of(demo, "V2.gnss")
    assert h["reconnects"] >= 1 and h["alive"]

    # The supervisor ends the suspended attempt and re-runs it: a new attempt, same candidate.
    again = demo.service.rerun_attempt(attempt, "考官王", "接收机已复位，重考")
    assert again != attempt and demo.service.controller.running_attempt("V2") == again
    old, new = demo.service.records.attempt(attempt), demo.service.records.attempt(again)
    assert new.candidate_id == old.candidate_id
    assert old.status == "device_fault" and "接收机已复位，重考" in old.reason and old.deductions == []
    finish(demo, "V2", play, "考官王", "测试结束")
    with pytest.raises(ValueError, match="不是设备故障"):
        rerun_attempt(demo.service.controller, demo.service.records, again, "考官王", "x")


def test_silent_signal_board_is_a_device_fault(demo):
    cable = demo.sim.vehicles["V1"].signal_cable
    attempt, play = drive(demo, "V1")
    cable.set_filter("a>b", lambda data: b"")  # the board's TX wire comes loose
    try:
        suspended(demo, "V1", attempt)
    finally:
        cable.set_filter("a>b", None)
    assert_device_fault(demo, attempt, "V1.signals", "无数据")
    finish(demo, "V1", play, "考试员", "信号板接线松动")
    assert_device_fault(demo, attempt, "V1.signals", status="device_fault")


def test_health_is_published_on_the_live_feed(demo):
    with demo.service.feed.subscribe() as sub:
        demo.advance(1.5)  # the watch publishes once a second
        events = []
        while (event := sub.get(timeout=0)) is not None:
            events.append(event)
    health = [e for e in events if e["type"] == "health"]
    assert health
    devices = {d["device"]: d for d in health[-1]["devices"]}
    assert set(devices) == {"V1.gnss", "V1.signals", "V2.gnss", "V2.signals", "course-board-1"}
    g = devices["V1.gnss"]
    assert {"alive", "rate", "expected_rate", "frames_dropped", "reconnects", "last_reading_age", "fix_quality",
            "fix_text", "satellites", "correction_age", "line", "last_reading"} <= set(g)
    board = devices["course-board-1"]
    assert board["alive"] and board["last_reading"] == {"active": []}


def test_a_board_answering_with_another_function_is_a_device_fault(demo):
    """The board's replies come back as function 01 (its coils): never readings, a named fault."""
    from pymodbus.framer.rtu import FramerRTU

    def as_coils(data: bytes) -> bytes:
        if len(data) < 5 or data[1] != 0x02:
            return data
        body = data[:1] + b"\x01" + data[2:-2]
        return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")

    cable = demo.sim.board_cable
    attempt, play = drive(demo, "V1")
    cable.set_filter("a>b", as_coils)
    try:
        suspended(demo, "V1", attempt)
        board = health_of(demo, "course-board-1")
        assert board["faulted"] and board["rejected"]["wrong_function"] >= 3
    finally:
        cable.set_filter("a>b", None)
    assert_device_fault(demo, attempt, "course-board-1", "功能码不符")
    finish(demo, "V1", play, "考试员", "场地信号板应答错误")
    assert_device_fault(demo, attempt, "course-board-1", status="device_fault")

"""Device faults during a live attempt: RTK lost, a port pulled, a board silenced.

The demo course runs with real drivers over pseudo-terminals; faults are made
in the twins and the null-modem cables. Each faulted attempt must be
suspended (设备故障) with a reason naming the device, a device_fault command
in its journal and no deduction; the supervisor then resumes it (once the
device is healthy again) or ends it and re-runs it as a new attempt.
"""

import threading
import time

import pytest

from examroom.simulation.demo import DemoCourse
from examroom.station.device_health import rerun_attempt
from examroom.simulation.scenarios import scenario
from scoring.observations import Command, CommandAction, read_jsonl
from tests.devices.conftest import wait_for

pytestmark = pytest.mark.slow

SPEED = 4.0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    course = DemoCourse(tmp_path_factory.mktemp("faults"), speed=SPEED).start()
    try:
        # GNSS twins stay silent until their vehicle is placed on the course by a scenario.
        wait_for(lambda: all(h["alive"] for h in course.service.health() if h["kind"] != "gnss"), timeout=10)
        yield course
    finally:
        course.stop()


def drive_in_background(demo, vehicle_id, name="clean"):
    vehicle_class = demo.class_of(vehicle_id)
    box = {}
    thread = threading.Thread(target=lambda: box.update(outcome=demo.drivers[vehicle_id].drive(
        scenario(vehicle_class, name))), daemon=True)
    thread.start()
    attempt = wait_for(lambda: demo.service.controller.running_attempt(vehicle_id), timeout=10)
    return attempt, thread, box


def journal_commands(demo, attempt_id):
    return [o for o in read_jsonl(demo.service.records.journal_lines(attempt_id)) if isinstance(o, Command)]


def suspended(demo, vehicle_id, attempt):
    wait_for(lambda: demo.service.controller.suspended(vehicle_id), timeout=10)
    assert demo.service.controller.running_attempt(vehicle_id) == attempt
    wait_for(lambda: demo.service.records.attempt(attempt).status == "suspended")
    return True


def assert_device_fault(demo, attempt_id, *words, status="suspended"):
    # The judge may have suspended the attempt itself (it reads fix quality from the poses, and a
    # loss longer than the allowance is a device fault); the health watch's command naming the
    # device then follows and joins that suspension.
    wait_for(lambda: any(c.action == CommandAction.DEVICE_FAULT for c in journal_commands(demo, attempt_id)))
    wait_for(lambda: all(word in demo.service.records.attempt(attempt_id).reason for word in words))
    attempt = demo.service.records.attempt(attempt_id)
    assert attempt.status == status
    assert attempt.deductions == []
    faults = [c for c in journal_commands(demo, attempt_id) if c.action == CommandAction.DEVICE_FAULT]
    assert len(faults) == 1 and faults[0].actor == "system"
    for word in words:
        assert word in faults[0].reason, faults[0].reason
        assert word in attempt.reason
    return faults[0]


def test_rtk_float_suspends_the_attempt_and_the_supervisor_resumes_it(demo):
    twins, controller, watch = demo.sim.vehicles["V1"], demo.service.controller, demo.service.health_watch
    attempt, thread, _ = drive_in_background(demo, "V1")
    time.sleep(0.5)
    twins.gnss_quality = 5  # the receiver loses RTK fixed: float
    try:
        suspended(demo, "V1", attempt)
        assert_device_fault(demo, attempt, "V1.gnss", "RTK浮点解")
        state = demo.service.feed.state()["V1"]
        assert state["status"] == "suspended" and state["attempt"] == attempt
        def refused_for_rtk():
            try:
                watch.resume("V1", "考试员 王")
            except RuntimeError as exc:  # on a loaded host other devices may look late too: ask again
                return "设备仍有故障" in str(exc) and "RTK浮点解" in str(exc)
            raise AssertionError("resumed while the receiver is still RTK float")

        wait_for(refused_for_rtk)
    finally:
        twins.gnss_quality = 4
    wait_for(lambda: {h["device"]: h for h in demo.service.health()}["V1.gnss"]["fix_quality"] == 4)

    def resumed():
        try:
            demo.service.resume_attempt("V1", "考试员 王", "基准站已恢复")
        except RuntimeError:
            return False  # a device looked late in this snapshot on a loaded host
        return True

    wait_for(resumed)
    assert not controller.suspended("V1") and controller.running_attempt("V1") == attempt
    assert demo.service.records.attempt(attempt).status == "running"
    controller.stop_attempt("V1", "考试员 王", "测试结束")
    thread.join(30)
    commands = [(c.action, c.actor) for c in journal_commands(demo, attempt)]
    assert (CommandAction.RESUME, "考试员 王") in commands
    assert demo.service.records.attempt(attempt).status == "aborted"
    assert demo.service.records.attempt(attempt).deductions == []


def test_port_pulled_mid_attempt_then_returned_and_rerun(demo):
    cable = demo.sim.vehicles["V2"].gnss_cable
    attempt, thread, _ = drive_in_background(demo, "V2")
    time.sleep(0.5)
    cable.unplug()
    pulled = time.monotonic()
    try:
        suspended(demo, "V2", attempt)
        to_fault = time.monotonic() - pulled
    finally:
        cable.replug()
    back = time.monotonic()
    assert_device_fault(demo, attempt, "V2.gnss", "串口断开")
    wait_for(lambda: {h["device"]: h for h in demo.service.health()}["V2.gnss"]["line"] == "ok", timeout=15)
    to_healthy = time.monotonic() - back
    print(f"pulled -> device fault {to_fault:.2f} s wall; returned -> healthy {to_healthy:.2f} s wall")
    h = {h["device"]: h for h in demo.service.health()}["V2.gnss"]
    assert h["reconnects"] >= 1 and h["alive"]

    # The supervisor ends the suspended attempt and re-runs it: a new attempt, same candidate.
    again = demo.service.rerun_attempt(attempt, "考官王", "接收机已复位，重考")
    thread.join(30)
    assert again != attempt and demo.service.controller.running_attempt("V2") == again
    old, new = demo.service.records.attempt(attempt), demo.service.records.attempt(again)
    assert new.candidate_id == old.candidate_id
    assert old.status == "device_fault" and "接收机已复位，重考" in old.reason and old.deductions == []
    demo.service.controller.stop_attempt("V2", "考官王", "测试结束")
    with pytest.raises(ValueError, match="不是设备故障"):
        rerun_attempt(demo.service.controller, demo.service.records, again, "考官王", "x")


def test_silent_signal_board_is_a_device_fault(demo):
    cable = demo.sim.vehicles["V1"].signal_cable
    attempt, thread, _ = drive_in_background(demo, "V1")
    time.sleep(0.5)
    cable.set_filter("a>b", lambda data: b"")  # the board's TX wire comes loose
    try:
        suspended(demo, "V1", attempt)
    finally:
        cable.set_filter("a>b", None)
    assert_device_fault(demo, attempt, "V1.signals", "无数据")
    demo.service.controller.stop_attempt("V1", "考试员", "信号板接线松动")
    thread.join(30)
    assert_device_fault(demo, attempt, "V1.signals", status="device_fault")


def test_health_is_published_on_the_live_feed(demo):
    with demo.service.feed.subscribe() as sub:
        deadline = time.monotonic() + 5
        event = None
        while time.monotonic() < deadline:
            event = sub.get(timeout=0.5)
            if event and event["type"] == "health":
                break
    assert event and event["type"] == "health"
    devices = {d["device"]: d for d in event["devices"]}
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
    attempt, thread, _ = drive_in_background(demo, "V1")
    time.sleep(0.5)
    cable.set_filter("a>b", as_coils)
    try:
        suspended(demo, "V1", attempt)
        board = {d["device"]: d for d in demo.service.health()}["course-board-1"]
        assert board["faulted"] and board["rejected"]["wrong_function"] >= 3
    finally:
        cable.set_filter("a>b", None)
    assert_device_fault(demo, attempt, "course-board-1", "功能码不符")
    demo.service.controller.stop_attempt("V1", "考试员", "场地信号板应答错误")
    thread.join(30)
    assert_device_fault(demo, attempt, "course-board-1", status="device_fault")

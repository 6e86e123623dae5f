"""One attempt over real pseudo-terminals, in real time: the smoke test of each serial device class.

Everything else about the course runs in lockstep (examroom.simulation.lockstep) on in-process
cables; this checks that the same drivers read the twins' bytes off ptys too — the GNSS receiver
(NMEA), the signal board ($EXSIG) and the course board (Modbus RTU, with the pymodbus server as
its twin) — and that the attempt is judged as in lockstep. The camera's smoke test is the video
replay's (tests/examroom/video/test_replay.py), which films a real-time attempt.
"""

import pytest

from examroom.simulation.demo import DemoCourse
from examroom.simulation.scenarios import scenario
from scoring.observations import CourseSensor, Pose, Signals, read_jsonl

pytestmark = pytest.mark.slow

SPEED = 4.0  # as the demo's tests always ran: a loaded host's stall is 4x that in clock time


@pytest.fixture(scope="module")
def attempt(tmp_path_factory):
    demo = DemoCourse(tmp_path_factory.mktemp("pty"), speed=SPEED).start()
    try:
        sc = scenario("E", "pole_touch")
        outcome = demo.drivers["V1"].drive(sc)
        journal = list(read_jsonl(demo.service.records.journal_lines(outcome.attempt_id)))
        health = {h["device"]: h for h in demo.service.health()}
        yield sc, demo.service.records.attempt(outcome.attempt_id), journal, health
    finally:
        demo.stop()


def test_the_attempt_is_judged_as_in_lockstep(attempt):
    sc, row, _, _ = attempt
    assert [d.rule for d in row.deductions] == list(sc.expected.rules)
    assert row.score == sc.expected.score


@pytest.mark.parametrize("device, kind", [("V1.gnss", Pose), ("V1.signals", Signals),
                                          ("course-board-1", CourseSensor)],
                         ids=["gnss", "signal-board", "modbus-board"])
def test_each_device_class_reads_its_bytes_off_a_pty(attempt, device, kind):
    _, _, journal, health = attempt
    assert any(isinstance(o, kind) for o in journal), kind
    assert health[device]["readings"] > 0 and health[device]["frames_dropped"] == 0, health[device]

"""A whole simulated exam day on the demo course, end to end.

A roster with bad rows is imported; two sittings run on the schedule; the
candidates check in (one through the serial card reader), are called up to the
vehicles and drive scripted attempts: a pass, a failure and its 补考, a manual
不合格, a device fault and its re-run, a no-show; the controller is SIGKILLed in
the middle of an attempt of the second sitting and restarted. Afterwards every
record verifies, slips print, the sittings export, and one edited byte is named.

The course runs in lockstep (examroom.simulation.lockstep): the test owns its
clock, so every verdict is the same on a busy machine as on an idle one. Two
parts are real processes and threads: the card reader on a pty, and the crash
drill's child, killed with SIGKILL while it drives in real time (what a kill
loses is measured by tests/examroom/station/test_crash.py, alone).
"""

from __future__ import annotations

import csv
import hashlib
import json
import queue
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest
import serial
from sqlalchemy import select

from devices.cardreader import CardReader
from devices.nullmodem import NullModem
from examroom.simulation.lockstep import LockstepCourse
from examroom.records.models import Attempt, Sitting
from examroom.examday.roster import RosterImport, examined_classes
from examroom.simulation.crash_drill import kill_mid_attempt
from examroom.simulation.drive import STEP, DriveOutcome
from examroom.simulation.scenarios import scenario
from examroom.examday.sittings import SittingPlan, create_sitting
from examroom.examday.slip import render_slip
from examroom.examday.upload_export import ExportError, export_sitting
from examroom.records.verify import verify
from tests.examroom.attempts import id_number
from tests.examroom.examday.test_roster import HEADER

# The crash drill's child and the card reader are real, but nothing asserted depends on their timing.
pytestmark = [pytest.mark.slow, pytest.mark.state_waits]

SPEED = 6.0  # the crash drill's child, which runs in real time
PHOTO = cv2.imencode(".jpg", np.full((160, 120, 3), (90, 140, 60), np.uint8))[1].tobytes()
E, C4 = "V1", "V2"  # the demo vehicles: an E motorcycle and a C4 three-wheeler
PEOPLE = {  # key: (name, id serial, class, sitting)
    "pass": ("王建国", 31, "E", "S1"), "retest": ("李秀英", 32, "E", "S1"), "manual": ("张伟", 33, "C4", "S1"),
    "fault": ("刘芳", 34, "C4", "S1"), "absent": ("陈志强", 35, "E", "S1"), "crash": ("杨丽", 36, "E", "S2"),
}


def _roster(path):
    rows = [["", name, id_number(n), f"6201{n:08d}", f"L{n}", cls, "兰州驾校", sitting, "初考"]
            for name, n, cls, sitting in PEOPLE.values()]
    bad = [["", "赵磊", id_number(37)[:-1] + ("0" if id_number(37)[-1] != "0" else "1"), "620100000037", "", "E",
            "", "S1", "初考"],
           ["", "黄海燕", id_number(38), "620100000038", "", "C1", "", "S1", "初考"],
           ["", "周斌", id_number(39), "620100000039", "", "E", "", "S7", "初考"]]
    with open(path, "w", newline="", encoding="utf-8-sig") as out:
        csv.writer(out).writerows([HEADER] + rows + bad)
    return path


def _status(demo, sitting_id):
    with demo.service.sessions() as session:
        return session.get(Sitting, sitting_id).status


def _park_vehicles(demo):
    """The exam vehicles stand at the start: their receivers report, so the self-check passes."""
    for vehicle in (E, C4):
        first = next(iter(scenario(demo.class_of(vehicle), "clean").samples(STEP)))
        demo.sim.show(vehicle, first)


def _check_in(demo, sitting_id, number):
    arrival = demo.service.checkin.identify(sitting_id, number)
    demo.service.checkin.confirm(arrival.booking_id, PHOTO, "考试员甲")
    return arrival.booking_id


def _why(demo, outcomes):
    """What the judge found in each attempt, for an assertion's message."""
    with demo.service.sessions() as session:
        attempts = [(o, session.get(Attempt, o.attempt_id)) for o in outcomes if o.attempt_id is not None]
        return {o.attempt_id: (o.status and o.status.value, a.reason,
                               [(d.rule, d.item, round(d.t, 2), d.value) for d in a.deductions]) for o, a in attempts}


def _drive(demo, vehicle, booking, name):
    """Call the booking to the vehicle and drive scenario ``name`` to its end."""
    demo.service.callup.assign(booking, vehicle)
    begin = lambda: demo.service.callup.start(booking, demo.service.controller)  # noqa: E731
    return demo.drivers[vehicle].drive(scenario(demo.class_of(vehicle), name), begin=begin)


def _drive_together(demo, drives):
    """Drive ``(vehicle, booking, scenario, action)`` on every vehicle at once; ``action(controller)``
    runs one second (course clock) into its attempt. Returns each drive's outcome, in order."""
    controller = demo.service.controller
    plays = []
    for vehicle, booking, name, action in drives:
        demo.service.callup.assign(booking, vehicle)
        begin = lambda b=booking: demo.service.callup.start(b, controller)  # noqa: E731
        plays.append((demo.play(vehicle, scenario(demo.class_of(vehicle), name), begin=begin), action))
    started: dict[int, float] = {}
    while not all(play.done for play, _ in plays):
        now = demo.clock.now()[0]
        for play, action in plays:
            if play.attempt_id is not None and play.attempt_id not in started:
                started[play.attempt_id] = now
            elif action is not None and play.attempt_id in started and now >= started[play.attempt_id] + 1.0:
                action(controller)
                started[play.attempt_id] = float("inf")  # once
        demo.advance(0.05)
    return [DriveOutcome(play.scenario.name, play.attempt_id, demo.drivers[play.vehicle_id].finish(play.attempt_id))
            for play, _ in plays]


def test_a_whole_exam_day(tmp_path):
    url = f"sqlite:///{tmp_path / 'examroom.sqlite3'}"
    now = datetime.now(timezone.utc)
    demo = LockstepCourse(tmp_path, start_utc=now).start()
    try:
        sessions = demo.service.sessions
        s1 = create_sitting(sessions, SittingPlan("S1", now, now + timedelta(seconds=2), now + timedelta(hours=1),
                                                  "6201001"))
        s2 = create_sitting(sessions, SittingPlan("S2", now, now + timedelta(seconds=2), now + timedelta(hours=2),
                                                  "6201001"))
        # Both sittings' phases are on the controller's schedule (test_scheduling runs a schedule on
        # the wall clock); here each runs when the day reaches it.
        scheduler = demo.service.sitting_scheduler
        assert scheduler.sync() == 6
        _park_vehicles(demo)
        demo.advance(2.0)  # the receivers and boards have reported: their health is measured

        # Roster: bad rows named, nothing written until asked, then once.
        importer = RosterImport(sessions, examined_classes(demo.service.course))
        path = _roster(tmp_path / "bookings.csv")
        report = importer.run(path)
        assert [b.line for b in report.bad] == [8, 9, 10] and report.imported == 0
        assert (importer.run(path, commit=True).imported, importer.run(path, commit=True).unchanged) == (6, 6)

        for sitting in (s1, s2):
            assert scheduler.run_now(sitting, "open") and scheduler.run_now(sitting, "self_check")
        assert (_status(demo, s1), _status(demo, s2)) == ("running", "running")
        assert scheduler.pending() == [f"sitting-{s1}-close", f"sitting-{s2}-close"]

        # Check-in: one number from the serial card reader, the others typed.
        cards: queue.Queue = queue.Queue()
        with NullModem() as cable:
            reader = CardReader(cable.b, cards.put).start()
            device = serial.serial_for_url(cable.a)
            device.write((id_number(PEOPLE["pass"][1]) + "\r\n").encode())
            booking = {"pass": _check_in(demo, s1, cards.get(timeout=30))}
            device.close()
            reader.stop()
        for key in ("retest", "manual", "fault"):
            booking[key] = _check_in(demo, s1, id_number(PEOPLE[key][1]))

        # Sitting 1: both vehicles at once, each through its candidates.
        manual = lambda c: c.manual_fail(C4, "general.instruction", "考试员甲", "不按考试员指令驾驶：未停车")  # noqa: E731
        fault = lambda c: c.device_fault(C4, "GNSS 失锁超过 2 秒", actor="考试员甲")  # noqa: E731
        rounds = [_drive_together(demo, [(E, booking["pass"], "clean", None),
                                         (C4, booking["manual"], "clean", manual)]),
                  _drive_together(demo, [(E, booking["retest"], "pole_touch", None),
                                         (C4, booking["fault"], "clean", fault)]),
                  _drive_together(demo, [(E, booking["retest"], "clean", None), (C4, booking["fault"], "clean", None)])]
        outcomes = {"E": [r[0] for r in rounds], "C4": [r[1] for r in rounds]}
        assert [o.status.value for o in outcomes["E"]] == ["passed", "failed", "passed"], _why(demo, outcomes["E"])
        assert [o.status.value for o in outcomes["C4"]] == ["failed", "device_fault", "passed"], \
            _why(demo, outcomes["C4"])
        assert demo.service.sitting_scheduler.run_now(s1, "close") is True
        with sessions() as session:
            sitting = session.get(Sitting, s1)
            assert sitting.summary["outcomes"] == {"failed": 1, "no_show": 1, "passed": 3}
            numbers = {a.id: a.attempt_no for a in session.scalars(select(Attempt).where(Attempt.booking_id.isnot(None)))}
        e_ids = [o.attempt_id for o in outcomes["E"]]
        c_ids = [o.attempt_id for o in outcomes["C4"]]
        assert [numbers[i] for i in e_ids] == [1, 1, 2]  # the 补考 is the second try
        assert [numbers[i] for i in c_ids] == [1, 1, 1]  # a re-run after a device fault uses no try

        # Sitting 2: the candidate is called, then the controller dies mid-attempt.
        booking["crash"] = _check_in(demo, s2, id_number(PEOPLE["crash"][1]))
        demo.service.callup.assign(booking["crash"], E)
    finally:
        demo.stop()
    # The kill is real: a child process runs the course in real time on ptys (what it loses is
    # measured by tests/examroom/station/test_crash.py).
    kill = kill_mid_attempt(tmp_path, delay=1.0, speed=SPEED, booking=booking["crash"])
    assert kill.rows > 0, kill

    demo = LockstepCourse(tmp_path, start_utc=datetime.now(timezone.utc)).start()
    try:
        assert demo.service.interrupted == [kill.attempt_id]
        _park_vehicles(demo)
        demo.advance(1.0)
        rerun = _drive(demo, E, booking["crash"], "clean")
        assert rerun.status.value == "passed", _why(demo, [rerun])
        assert demo.service.sitting_scheduler.run_now(s2, "close") is True
        sessions = demo.service.sessions
        with sessions() as session:
            assert session.get(Attempt, kill.attempt_id).status == "interrupted"
            assert session.get(Attempt, rerun.attempt_id).attempt_no == 1
            assert session.get(Sitting, s2).summary["outcomes"] == {"passed": 1}
    finally:
        demo.stop()

    # Every record verifies, offline, from the command line.
    report = verify(sessions)
    assert report.ok, [str(p) for p in report.problems]
    assert len(report.checked) == 8 and not report.unfinished
    run = subprocess.run([sys.executable, "-m", "examroom.cli.main", "verify", "--all", "--database", url],
                         capture_output=True, text=True)
    assert run.returncode == 0 and "verified 8 attempt(s): OK" in run.stdout, run.stdout + run.stderr

    # Slips print for every sealed attempt; each sitting exports with its checksums.
    for attempt_id in report.checked:
        assert render_slip(sessions, attempt_id, "http://course/examday/verify/").startswith(b"%PDF-")
    files = export_sitting(sessions, "S1", tmp_path / "upload")
    document = json.loads(files[0].read_text(encoding="utf-8"))
    assert len(document["records"]) == 5  # judged attempts; the device fault is not a result
    with sessions() as session:
        scores = {a.candidate.exam_number + str(a.attempt_no): a.score
                  for a in session.scalars(select(Attempt).where(Attempt.status.in_(["passed", "failed"])))}
    assert {r["准考证明编号"] + str(r["考试次数"]): r["考试成绩"] for r in document["records"]} == {
        k: v for k, v in scores.items() if k[:12] != f"6201{PEOPLE['crash'][1]:08d}"}
    assert [r["考试状态"] for r in document["records"]].count("1") == 3
    failed = sorted((r["倒车入库或桩考扣分"], r["综合评判扣分"]) for r in document["records"] if r["考试状态"] == "0")
    assert failed == [(0, 100), (100, 0)]  # the manual 不合格 (general), the pole touch (桩考)
    for r in document["records"]:
        body = "|".join(str(r[f]) for f in document["fields"] if f != "校验位")
        assert hashlib.sha1(body.encode()).hexdigest() == r["校验位"]
    for line in files[2].read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256((tmp_path / "upload" / name).read_bytes()).hexdigest() == digest

    # One byte edited in one journal line: verify names it, and the export refuses.
    import sqlite3

    with sqlite3.connect(tmp_path / "examroom.sqlite3") as db:
        with pytest.raises(sqlite3.IntegrityError, match="journal is append-only"):
            db.execute("UPDATE journal SET line = line WHERE attempt_id = ?", (e_ids[0],))
        db.execute("DROP TRIGGER journal_no_update")  # as someone set on editing the record would
        row_id, seq, line = db.execute("SELECT id, seq, line FROM journal WHERE attempt_id = ? AND kind = 'pose' "
                                       "ORDER BY seq LIMIT 1 OFFSET 10", (e_ids[0],)).fetchone()
        at = line.index('"speed":') + len('"speed":')
        edited = line[:at] + ("9" if line[at] != "9" else "8") + line[at + 1:]
        db.execute("UPDATE journal SET line = ? WHERE id = ?", (edited, row_id))
    run = subprocess.run([sys.executable, "-m", "examroom.cli.main", "verify", "--all", "--database", url],
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert f"attempt {e_ids[0]}: journal seq {seq}: the line does not match its hash" in run.stdout, run.stdout
    assert run.stdout.count("attempt ") == 1  # that line alone: nothing else is blamed
    with pytest.raises(ExportError, match=f"attempt {e_ids[0]}: journal seq {seq}:"):
        export_sitting(sessions, "S1", tmp_path / "upload2")

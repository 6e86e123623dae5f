"""`examroom demo`, the README's first command: a whole simulated exam day on SQLite."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker

from examroom.simulation.demo import DEMO_EXAMINER
from examroom.records.models import Attempt, Booking, FaceFlag, Sitting
from examroom.simulation.scenarios import scenario_names

# Real time at 6x: a round of 13 attempts in about a minute. Not faster: at 12x the twins ask the
# course board to be polled 240 times a wall second (20 Hz of course time), beyond what the pty
# twins, drivers and judge share of two cores sustain, and beyond any RS-485 line at 19200 baud
# (about 80 transactions a second). The health watch then rightly finds the board's readings
# older than two poll periods of course time and suspends attempts (设备故障); that is the watch
# working, not a defect of the demo. Every scenario's verdict is tested at any speed in lockstep
# (test_demo_verdicts; through the real drivers and controller: tests/examroom/live/test_live_course.py).
SPEED = "6"
# On demand (-m demo_round), to keep the whole suite under 10 minutes on two cores: the exam-day
# test (tests/examroom/examday/test_exam_day.py) drives the same sittings, check-in, call-up and
# 补考 on the lockstep course, and test_demo_lifecycle starts and stops the demo command itself.
pytestmark = [pytest.mark.slow, pytest.mark.demo_round]


def test_one_demo_round_is_a_sitting_with_booked_checked_in_candidates(tmp_path):
    run = subprocess.run([sys.executable, "-m", "examroom.cli.main", "demo", "--speed", SPEED, "--rounds", "1",
                          "--port", "0", "--dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    printed = run.stdout
    assert "考试实况 http://" in printed and "demo-supervisor" in printed and "done" in printed

    sessions = sessionmaker(create_engine(f"sqlite:///{tmp_path / 'examroom.sqlite3'}"))
    with sessions() as session:
        sittings = session.scalars(select(Sitting)).all()
        assert [s.status for s in sittings] == ["closed"]
        attempts = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        bookings = {b.id: b for b in session.scalars(select(Booking))}
        checkin_flags = session.scalars(select(FaceFlag).where(FaceFlag.source == "checkin")).all()
    assert checkin_flags == []  # every check-in photo shows exactly one face
    # every scenario of both vehicles ran once, each attempt for a booked candidate of the sitting
    assert Counter(a.vehicle_class for a in attempts) == {"E": len(scenario_names("E")),
                                                         "C4": len(scenario_names("C4"))}
    assert all(a.booking_id in bookings for a in attempts)
    assert {bookings[a.booking_id].confirmed_by for a in attempts} == {DEMO_EXAMINER}
    assert {bookings[a.booking_id].sitting_id for a in attempts} == {sittings[0].id}
    # a candidate who failed came back for the 补考 (the second try), never a third time
    tries = Counter(a.booking_id for a in attempts if a.status in ("passed", "failed"))
    assert max(tries.values()) == 2 and all(n <= 2 for n in tries.values())
    assert sorted({a.status for a in attempts}) == ["failed", "passed"]

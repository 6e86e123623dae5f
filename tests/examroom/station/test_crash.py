"""SIGKILL the controller mid-attempt: little is lost, the attempt is interrupted, the rest untouched.

The kill is real (a child process on ptys, in real time: marked slow); the attempts before and
after it run in lockstep on the same database (examroom.simulation.lockstep).
"""

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from examroom.simulation.demo import DEMO_VEHICLES
from examroom.simulation.lockstep import LockstepCourse
from examroom.records.models import Attempt, Seal
from examroom.station.recovery import INTERRUPTED_REASON
from examroom.simulation.crash_drill import kill_mid_attempt
from examroom.simulation.scenarios import scenario
from examroom.records.verify import verify

pytestmark = pytest.mark.slow


def test_sigkill_mid_attempt(tmp_path):
    vehicle = DEMO_VEHICLES[0].id
    # The child's clock is the system's: the lockstep course starts at the same date, so the
    # attempts stay in the order they ran.
    demo = LockstepCourse(tmp_path, start_utc=datetime.now(timezone.utc)).start()
    try:
        finished = demo.drivers[vehicle].drive(scenario(demo.class_of(vehicle), "pole_touch")).attempt_id
    finally:
        demo.stop()
    with demo.service.sessions() as session:
        before = (session.get(Attempt, finished).result, session.get(Seal, finished).payload)

    kill = kill_mid_attempt(tmp_path, delay=1.5, speed=1.0)
    assert kill.rows > 10
    assert kill.loss_seconds <= 0.100, kill

    demo = LockstepCourse(tmp_path, start_utc=datetime.now(timezone.utc)).start()
    try:
        assert demo.service.interrupted == [kill.attempt_id]
        with demo.service.sessions() as session:
            interrupted = session.get(Attempt, kill.attempt_id)
            assert (interrupted.status, interrupted.reason) == ("interrupted", INTERRUPTED_REASON)
            assert (session.get(Attempt, finished).result, session.get(Seal, finished).payload) == before
        # The course carries on: the next attempt runs and is sealed as usual.
        after = demo.drivers[vehicle].drive(scenario(demo.class_of(vehicle), "clean"))
        assert after.status.value == "passed"
        report = verify(demo.service.sessions)
        assert report.ok, [str(p) for p in report.problems]
        assert sorted(report.checked) == sorted([finished, kill.attempt_id, after.attempt_id])
        with demo.service.sessions() as session:
            assert len(session.scalars(select(Seal)).all()) == 3
    finally:
        demo.stop()

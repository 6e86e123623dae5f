"""What the judge takes from a pose's heading at a standstill and after a resume
(scoring/pose_reading.py, docs/rule-sets.md: null heading, course over ground standing still).

* A standstill with no heading to keep (a receiver without a dual antenna sends none standing
  still: examroom.live.observing) waits to be placed and is not a loss of the fix; a pose just
  faster than a standstill without a heading is one.
* A resume forgets the body heading: a vehicle moved and turned round meanwhile is placed the way
  it now points, not turned back.
"""

import dataclasses
from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from scoring.events import Status
from scoring.geometry import same_way
from scoring.judge import judge_stream
from scoring.observations import FixQuality, Gear, Pose
from scoring.pose_reading import PoseReader, Reading
from tests.scoring.streams import Run, demo_course, only, ruleset

RULES = ruleset()
STANDSTILL = RULES.measure("stop_speed") - RULES.measure("speed_noise")
WINDOW = int(RULES.measure("standstill_fixes"))
UTC0 = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)


def pose(t, heading, speed, x=0.0):
    return Pose(t=t, utc=UTC0 + timedelta(seconds=t), vehicle="V1", x=x, y=0.0, heading=heading, speed=speed,
                fix=FixQuality.RTK_FIXED, correction_age=1.0)


def test_a_standstill_with_no_heading_to_keep_waits_and_is_not_a_loss():
    reader = PoseReader(RULES)
    reads = [reader.read(pose(0.1 * i, None, STANDSTILL), Gear.G1) for i in range(30)]
    assert {r.reading for r in reads} == {Reading.SETTLING} and not any(r.reading.lost for r in reads)
    moving = reader.read(pose(3.0, 30.0, 0.5, x=0.05), Gear.G1)
    assert moving.reading == Reading.PLACED and moving.heading == 30.0


def test_just_faster_than_a_standstill_a_pose_without_heading_is_a_loss():
    reader = PoseReader(RULES)
    read = reader.read(pose(0.0, None, STANDSTILL + 0.001), Gear.G1)
    assert read.reading == Reading.NO_HEADING and read.reading.lost


@given(travelled=st.floats(0.0, 359.9), nulls=st.integers(WINDOW, 3 * WINDOW))
def test_a_vehicle_that_stops_keeps_the_heading_it_travelled_with(travelled, nulls):
    """What a receiver without HDT gives when it stops (its course is dropped standing still)."""
    reader = PoseReader(RULES)
    reader.read(pose(0.0, travelled, 1.0), Gear.G1)
    reads = [reader.read(pose(0.1 * (i + 1), None, 0.0), Gear.G1) for i in range(nulls)]
    placed = [r for r in reads if r.reading == Reading.PLACED]
    assert len(placed) == nulls - WINDOW + 1 and all(r.heading == travelled for r in placed)


@given(before=st.floats(0.0, 359.9), after=st.floats(0.0, 359.9), standing=st.booleans())
def test_after_a_resume_the_first_heading_is_taken_as_it_is(before, after, standing):
    """Before the mend a vehicle turned more than 90° while suspended came back turned round, for
    every fix after the resume (each is taken the other way round to follow the one before)."""
    reader = PoseReader(RULES)
    reader.read(pose(0.0, before, 1.0), Gear.G1)
    reader.reset()
    speed = 0.0 if standing else 1.0
    reads = [reader.read(pose(10.0 + 0.1 * i, after, speed), Gear.G1) for i in range(WINDOW + 2)]
    placed = [r for r in reads if r.reading == Reading.PLACED]
    assert placed and all(abs(r.heading - after) < 1e-6 for r in placed)


def test_without_a_resume_a_heading_that_turns_round_is_still_taken_the_other_way():
    """The rule the resume must not carry over: between two fixes a body never turns round."""
    reader = PoseReader(RULES)
    reader.read(pose(0.0, 10.0, 1.0), Gear.G1)
    read = reader.read(pose(0.1, 190.0, 1.0, x=0.1), Gear.G1)
    assert read.heading == 10.0 and same_way(read.heading, 10.0)


def test_a_receiver_without_hdt_standing_at_the_start_is_not_suspended():
    """The candidate waits 5 s at the start before pulling away; the receiver sends no heading
    standing still (a u-blox F9P single antenna, or any course dropped below its speed noise).
    Before the mend the judge counted the wait as a loss of the fix and suspended the attempt as
    a device fault after 1.5 s."""
    run = Run(only(demo_course(), "E", "e_pile"))
    run.at("e_pile", -8.0).start().hold(5.0).go("e_pile", -6.0, speed=0.5)
    obs = [dataclasses.replace(o, heading=None) if isinstance(o, Pose) and o.speed == 0 else o for o in run.obs]
    result = judge_stream(obs, run.course, RULES)
    assert result.status == Status.RUNNING and result.deductions == ()


"""倒车入库 (and the tractors' bay shift) with a course-over-ground heading (issue 11 item 8).

docs/observations.md allows a heading that is course over ground (COG): a receiver without a
dual antenna reports the direction of travel, which points backwards while reversing. The judge
derives the body heading from the gear and the direction of travel (scoring/pose_reading.py):
the same attempts give the same verdicts with a COG stream as with a true-heading one.

The COG streams here are the scripted runs with each moving fix's heading replaced by its
direction of travel (the body heading, turned round while the vehicle moves backwards) and the
last one held while standing, as receivers do. (The antenna's slip angle on a curve, a COG
property the forward legs share, is left out: the issue is the direction.)
"""

import dataclasses
from datetime import timedelta

import pytest

from devices.gnss.motion_bounds import SPEED_NOISE, course_is_direction
from scoring.events import Status
from scoring.geometry import forward, opposite, same_way
from scoring.judge import judge_stream
from scoring.observations import FixQuality, Gear, Pose, Signals
from scoring.pose_reading import PoseReader, Reading
from tests.scoring.items.test_bay_shift import CASES, bay_run
from tests.scoring.items.test_c3 import DEEP, reverse_run
from tests.scoring.streams import UTC0, Run, ruleset

RULES = ruleset()


def course_over_ground(obs):
    """The stream as a single-antenna receiver reports it: heading = direction of travel."""
    out, last, cog = [], None, None
    for o in obs:
        if isinstance(o, Pose):
            if last is not None and o.speed > 0:
                f = forward(o.heading)
                along = (o.x - last.x) * f[0] + (o.y - last.y) * f[1]
                cog = o.heading if along >= 0 else opposite(o.heading)
            last = o
            o = dataclasses.replace(o, heading=cog if cog is not None else o.heading)
        out.append(o)
    return out


def without_gear(obs):
    return [dataclasses.replace(o, gear=Gear.UNKNOWN) if isinstance(o, Signals) else o for o in obs]


def reversing_poses(obs):
    gear, n = None, 0
    for o in obs:
        if isinstance(o, Signals):
            gear = o.gear
        elif isinstance(o, Pose) and gear == Gear.REVERSE and o.speed > 0:
            n += 1
    return n


@pytest.mark.parametrize("cls", ["C3", "M"])
def test_clean_reverse_parking_with_a_cog_heading_passes(cls):
    run = reverse_run(cls)
    cog = course_over_ground(run.obs)
    assert reversing_poses(cog) > 50
    assert any(isinstance(a, Pose) and a.heading != b.heading for a, b in zip(run.obs, cog))
    result = _judge(run, cog)
    assert result.status == Status.PASSED and result.deductions == (), result.deductions


def _judge(run: Run, obs):
    return judge_stream(obs, run.course, RULES)


@pytest.mark.parametrize("gear", ["signalled", "unknown"])
def test_every_placed_heading_of_a_cog_stream_is_the_body_heading(gear):
    """Where the COG points backwards (every moving fix of a reverse), the judge places the body the
    right way round: from the gear and the track, and by continuity where the gear is unknown."""
    run = reverse_run("C3")
    cog = course_over_ground(run.obs)
    if gear == "unknown":
        cog = without_gear(cog)
    true_headings = {o.t: o.heading for o in run.obs if isinstance(o, Pose)}
    backwards = [o for o in cog if isinstance(o, Pose) and not same_way(o.heading, true_headings[o.t])]
    assert len(backwards) > 50
    reader, signals, checked = PoseReader(RULES), None, 0
    for o in cog:
        if isinstance(o, Signals):
            signals = o
            continue
        if not isinstance(o, Pose):
            continue
        read = reader.read(o, signals.gear if signals else None)
        if read.reading == Reading.PLACED and o.speed > 0:
            assert abs((read.heading - true_headings[o.t] + 180) % 360 - 180) < 1e-6
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("cls", ["C3", "M"])
def test_a_cog_stream_still_fails_a_reverse_that_ends_outside_the_bay(cls):
    run = reverse_run(cls, deep=-3.0)  # stops with the front still out of the bay
    true_rules = [d.rule for d in run.judge().deductions]
    cog_rules = [d.rule for d in _judge(run, course_over_ground(run.obs)).deductions]
    assert "reverse.not_in_bay" in true_rules
    assert cog_rules == true_rules


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_tractor_bay_shift_with_a_cog_heading(cls, item_id, model):
    run = bay_run(cls, item_id, model)
    true_result = run.judge()
    cog_result = _judge(run, course_over_ground(run.obs))
    assert true_result.status == Status.PASSED
    assert (cog_result.status, cog_result.deductions) == (true_result.status, true_result.deductions)


def as_the_router_gives_it(obs):
    """A COG stream as the controller hands it to the judge: a course at or below the receiver's
    speed noise is no heading (examroom.live.observing.pose_from_fix), so those poses have none."""
    return [dataclasses.replace(o, heading=None) if isinstance(o, Pose) and not course_is_direction(o.speed) else o
            for o in obs]


RAMP = 0.5  # m/s²: every pull-away and stop passes slowly through the speeds where a course is dropped


@pytest.mark.parametrize("cls", ["C3", "M"])
@pytest.mark.parametrize("deep", [DEEP, -3.0])
def test_reverse_parking_judged_from_a_cog_stream_as_the_router_gives_it(cls, deep):
    """Pulling away and braking gently, each stop holds the heading it stopped with, and the first
    fixes of a reverse (a COG pointing backwards, a few without a heading) are turned the right way
    round: the verdict is the true-heading stream's, a pass or the bay not reached."""
    run = reverse_run(cls, deep=deep, ramp=RAMP)
    routed = as_the_router_gives_it(course_over_ground(run.obs))
    slow = [o for o in routed if isinstance(o, Pose) and 0 < o.speed <= SPEED_NOISE]
    assert len(slow) >= 8 and all(o.heading is None for o in slow)
    true_result, cog_result = run.judge(), _judge(run, routed)
    assert (cog_result.status, cog_result.deductions) == (true_result.status, true_result.deductions)


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_tractor_bay_shift_judged_from_a_cog_stream_as_the_router_gives_it(cls, item_id, model):
    run = bay_run(cls, item_id, model, ramp=RAMP)
    true_result = run.judge()
    cog_result = _judge(run, as_the_router_gives_it(course_over_ground(run.obs)))
    assert true_result.status == Status.PASSED
    assert (cog_result.status, cog_result.deductions) == (true_result.status, true_result.deductions)


# --- the reader itself ------------------------------------------------------------------------------

def _pose(t, x, y, heading, speed):
    return Pose(t=t, utc=UTC0 + timedelta(seconds=t), vehicle="v", x=x, y=y, heading=heading, speed=speed,
                fix=FixQuality.RTK_FIXED)


def test_reader_turns_a_cog_heading_round_in_reverse():
    reader = PoseReader(RULES)
    reader.read(_pose(0.0, 0.0, 0.0, 0.0, 1.0), Gear.G1)  # forward, facing north
    step = RULES.measure("track_direction_distance") / 4
    # moving south in reverse gear, heading 180: a COG; the body still faces north
    reads = [reader.read(_pose(0.1 * i, 0.0, -step * i, 180.0, 0.5), Gear.REVERSE) for i in range(1, 9)]
    assert all(r.reading == Reading.PLACED and r.heading == 0.0 for r in reads)
    assert reader._reverse_cog is True
    # standing in reverse: a COG means nothing, the body heading is held
    still = [reader.read(_pose(1.0 + 0.1 * i, 0.0, -0.8, 97.0, 0.0), Gear.REVERSE) for i in range(8)]
    assert still[-1].reading == Reading.PLACED and still[-1].heading == 0.0


def test_reader_keeps_a_true_heading_in_reverse():
    reader = PoseReader(RULES)
    step = RULES.measure("track_direction_distance") / 4
    reads = [reader.read(_pose(0.1 * i, 0.0, -step * i, 0.0, 0.5), Gear.REVERSE) for i in range(8)]
    assert all(r.reading == Reading.PLACED and r.heading == 0.0 for r in reads)
    assert reader._reverse_cog is False


def test_reader_never_turns_the_body_round_between_two_fixes():
    """The fix at a change of direction, before the gear signal says so: the COG has turned round."""
    reader = PoseReader(RULES)
    reader.read(_pose(0.0, 0.0, 0.0, 0.0, 1.0), Gear.G1)
    read = reader.read(_pose(0.1, 0.0, -0.05, 182.0, 0.5), Gear.G1)
    assert read.heading == pytest.approx(2.0)

"""The judge against the GA/T 1028.3 detection bounds on noisy input (research.md §4.2).

Property-based (hypothesis): GNSS fixes at 10 Hz or 5 Hz, position noise up to ±2 cm on
each axis, speed noise up to ±0.02 m/s, fixes dropped at random. The verdicts are
never against the candidate, whatever the gaps; the timing meets the bound wherever the
judge does not mark the stretch as insufficient data (a fix gap over
measurement.max_fix_gap while moving):

- a line event is placed where the wheel was truly 0 to 50 mm past the line reference
  (never before it), and a wheel that never reaches the reference is never judged on it;
- a stop timer (2 s) fires 0 to 0.5 s after the true limit, never for a stop of 2 s or less,
  always for one of more than 2.5 s;
- an item timer fires 0 to 1 s after the true limit.

The worst errors seen are measured by bench/detection_error.py.
"""

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.events import Status
from scoring.judge import judge_stream
from scoring.rules import Overrides, RuleChange
from tests.scoring import noisy
from tests.scoring.streams import demo_course, only, ruleset

RULES = ruleset()
STOP = RULES.measure("stop_speed")
EDGE_REFERENCE_V = -1.3  # e_hill: edge line centre at v = −1.375, judged at its inner edge (+0.075)
LINE_BOUND, STOP_BOUND, ITEM_BOUND = 0.050, 0.5, 1.0
PROFILE = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

samplings = st.builds(
    noisy.Sampling,
    rate=st.sampled_from([10.0, 5.0]),
    noise=st.just(0.02),
    speed_noise=st.just(0.02),
    drop=st.sampled_from([0.0, 0.0, 0.1, 0.25]),
    seed=st.integers(0, 2**32 - 1),
)


def judged(item_id, truth, sampling, course=None):
    course = course or only(demo_course(), "E", item_id)
    stream = noisy.stream(course, item_id, "E-01", "E", truth, sampling)
    return judge_stream(stream, course, RULES), stream


def device_fault(result, stream) -> bool:
    """The judge suspended the attempt for a loss of fixes longer than measurement.fix_loss_allowance
    (设备故障, never a deduction), and the stream has such a gap (random drops in a row)."""
    if result.status != Status.SUSPENDED:
        return False
    assert noisy.longest_gap(stream) > RULES.measure("fix_loss_allowance"), result.reason
    return True


def insufficient(result, stream) -> bool:
    """The judge marked insufficient data, and there was a gap that justifies it (or, for a gap
    longer than the fix-loss allowance, suspended the attempt as a device fault)."""
    if device_fault(result, stream):
        return True
    if not result.data_gaps:
        return False
    assert noisy.longest_gap(stream) > RULES.measure("max_fix_gap")
    return True


# --- line events ------------------------------------------------------------------------------

def line_error(truth, sampling):
    """(true depth past the reference where the touch was placed, or None if not touched; result)."""
    result, stream = judged("e_hill", truth, sampling)
    touches = [d for d in result.deductions if d.rule == "hill.edge_line_touched"]
    if device_fault(result, stream) or (touches and insufficient(result, stream)):
        return "insufficient", result
    if not touches:
        return None, result
    return EDGE_REFERENCE_V - truth.v(touches[0].t), result


@PROFILE
@given(sampling=samplings, forward=st.floats(0.3, 1.0), lateral=st.floats(0.02, 0.3))
def test_a_wheel_over_the_line_is_caught_within_50mm_never_before(sampling, forward, lateral):
    cross_at = 3.0
    # the wheel goes on over the line (the vehicle leaves the road): 0.1 m past, then 1 s more
    truth = noisy.drift(-2.0, EDGE_REFERENCE_V + lateral * cross_at, forward, -lateral,
                        cross_at + 0.1 / lateral + 1.0)
    depth, result = line_error(truth, sampling)
    if depth == "insufficient":
        return
    assert depth is not None, f"not caught: {sampling} {forward} {lateral} {result.deductions}, {result.reason}"
    assert 0.0 <= depth <= LINE_BOUND, (depth, sampling, forward, lateral)


@PROFILE
@given(sampling=samplings, forward=st.floats(0.3, 1.0), lateral=st.floats(0.02, 0.3),
       closest=st.floats(0.0, 0.3))
def test_a_wheel_that_never_reaches_the_line_is_never_judged_on_it(sampling, forward, lateral, closest):
    turn_at = 3.0
    truth = noisy.approach_and_leave(-2.0, EDGE_REFERENCE_V + closest + lateral * turn_at, forward, -lateral,
                                     turn_at, 5.0)
    result, _ = judged("e_hill", truth, sampling)
    # the verdict holds whatever the gaps: a wheel that stayed short of the line never touched it
    assert [d for d in result.deductions if d.rule == "hill.edge_line_touched"] == [], (sampling, closest)


C4_LEFT_LINE_V, C4_HALF_WIDTH = 2.7, 0.65  # c4_pile: the left boundary line (centre reference); body 1.3 m


@PROFILE
@given(sampling=samplings, forward=st.floats(0.3, 1.0), lateral=st.floats(0.02, 0.3))
def test_the_body_over_a_line_is_caught_within_50mm_never_before(sampling, forward, lateral):
    """车身出线: the C4 outline drifting over the 桩考 boundary line, a second after it enters the item."""
    cross_at = 0.9 / forward + 1.0  # the front axle starts 0.9 m short of the entry line
    start_v = C4_LEFT_LINE_V - C4_HALF_WIDTH - lateral * cross_at
    truth = noisy.drift(-3.0, start_v, forward, lateral, cross_at + 0.1 / lateral + 1.0)
    course = only(demo_course(), "C4", "c4_pile")
    stream = noisy.stream(course, "c4_pile", "C4-01", "C4", truth, sampling)
    result = judge_stream(stream, course, RULES)
    out = [d for d in result.deductions if d.rule == "pile.out_of_line"]
    if device_fault(result, stream):
        return
    assert out, (sampling, forward, lateral, result.deductions)
    if insufficient(result, stream):
        return
    depth = truth.v(out[0].t) + C4_HALF_WIDTH - C4_LEFT_LINE_V
    assert 0.0 <= depth <= LINE_BOUND, (depth, sampling, forward, lateral)


# --- stop timers --------------------------------------------------------------------------------

@PROFILE
@given(sampling=samplings, speed0=st.floats(0.8, 1.5), braking=st.floats(0.5, 2.0),
       stand=st.floats(0.5, 4.0), pull=st.floats(0.5, 1.0))
def test_stop_timer_within_0_and_half_a_second(sampling, speed0, braking, stand, pull):
    truth = noisy.stop_and_go(-5.0, 0.0, speed0, braking, stand, pull, stop_at=-1.0)  # front axle at 0.25
    result, stream = judged("e_pile", truth, sampling)
    start, end = noisy.true_stop(truth, STOP)
    limit = RULES.rule("pile.stop").params["duration"].value
    fired = [d for d in result.deductions if d.rule == "pile.stop"]
    assert all(d.rule == "pile.stop" for d in result.deductions), result.deductions
    if end - start <= limit:  # the verdict holds whatever the gaps
        assert not fired, f"fired for a {end - start:.3f} s stop {sampling} {speed0} {braking} {stand} {pull}"
    if insufficient(result, stream):
        return
    if end - start > limit + STOP_BOUND:
        assert fired, f"missed a {end - start:.3f} s stop {sampling} {speed0} {braking} {stand} {pull} {result.reason}"
    for d in fired:
        assert 0.0 <= d.t - (start + limit) <= STOP_BOUND, (d.t - (start + limit), sampling, speed0, braking, stand, pull)


# --- item timers --------------------------------------------------------------------------------

def timed_pile(limit):
    course = only(demo_course(), "E", "e_pile")
    return dataclasses.replace(course, overrides=Overrides(
        rules={"pile.time_limit": RuleChange(params={"limit": limit}, enabled=True)}, source="test"))


@PROFILE
@given(sampling=samplings, speed=st.floats(0.2, 0.6), limit=st.integers(1000, 3000).map(lambda ms: ms / 1000))
def test_item_timer_within_0_and_1_second(sampling, speed, limit):
    entry_at = 0.5 / speed  # the front axle (1.25 m ahead of the rear axle) starts 0.5 m short
    truth = noisy.drift(-1.75, 0.0, speed, 0.0, entry_at + limit + 1.2)
    result, stream = judged("e_pile", truth, sampling, course=timed_pile(limit))
    if insufficient(result, stream):
        return
    assert [d.rule for d in result.deductions] == ["pile.time_limit"], result.deductions
    error = result.deductions[0].t - (entry_at + limit)
    assert 0.0 <= error <= ITEM_BOUND, error


def test_a_long_gap_while_moving_is_marked_insufficient_data_not_a_deduction():
    truth = noisy.drift(-2.0, 0.0, 0.6, 0.0, 4.0)  # the front stays short of pole 1
    course = only(demo_course(), "E", "e_pile")
    stream = noisy.stream(course, "e_pile", "E-01", "E", truth, noisy.Sampling(10.0, 0.0, 0.0, 0.0, 1))
    poses = [o for o in stream if o.kind == "pose"]
    gone = {id(p) for p in poses[20:26]}  # 0.7 s without a fix, inside the item
    stream = [o for o in stream if id(o) not in gone]
    result = judge_stream(stream, course, RULES)
    assert [(g.item, round(g.t_to - g.t_from, 3)) for g in result.data_gaps] == [("e_pile", 0.7)]
    assert result.deductions == () and result.status == Status.RUNNING

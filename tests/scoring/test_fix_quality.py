"""The judge reads fix quality itself (issue 11 item 6).

A pose that is not RTK fixed, or whose RTK correction is older than
measurement.max_correction_age, is never judged: whatever position it reports,
it produces no deduction. A loss of judging fixes longer than
measurement.fix_loss_allowance inside an item (or between items, as the
controller's health watch does) suspends the attempt as a device fault, with or without the controller's device_fault command in the journal, so
a re-judge of the raw journal reaches the live verdict.
"""

import dataclasses
import functools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.events import Status
from scoring.geometry import leftward
from scoring.judge import judge_for_start, judge_stream
from scoring.observations import Command, CommandAction, FixQuality, Pose
from tests.scoring.items.test_pile import pile_run
from tests.scoring.streams import RATE, Run, past_exit, ruleset, slalom

RULES = ruleset()
ALLOWANCE = RULES.measure("fix_loss_allowance")
MAX_AGE = RULES.measure("max_correction_age")
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD_FIXES = [FixQuality.NONE, FixQuality.SINGLE, FixQuality.DGPS, FixQuality.RTK_FLOAT,
             FixQuality.DEAD_RECKONING]


@functools.lru_cache(maxsize=None)
def _clean_run():
    return pile_run().hold(3.0)  # and stands past the exit: the stream does not end on the exit fix


def clean_pile():
    return list(_clean_run().obs)


def course():
    return _clean_run().course


def at_rate(obs, rate):
    """The stream with GNSS fixes at ``rate`` Hz (every other fix dropped at 5 Hz)."""
    keep = round(RATE / rate)
    poses = [o for o in obs if isinstance(o, Pose)]
    dropped = {id(p) for i, p in enumerate(poses) if i % keep}
    return [o for o in obs if id(o) not in dropped]


def spoil(obs, t_from, t_to, bad, shift=0.8):
    """Poses in [t_from, t_to) made unusable (``bad``: a fix quality, or an old correction age) and
    moved ``shift`` m sideways: over a pole or a line, were they judged."""
    out = []
    for o in obs:
        if isinstance(o, Pose) and t_from <= o.t < t_to:
            left = leftward(o.heading)
            changes = {"x": o.x + left[0] * shift, "y": o.y + left[1] * shift, "heading": (o.heading + 40) % 360}
            if isinstance(bad, FixQuality):
                changes["fix"] = bad
            else:
                changes["correction_age"] = bad
            o = dataclasses.replace(o, **changes)
        out.append(o)
    return out


@functools.lru_cache(maxsize=None)
def _span(rate):
    item = judge_stream(at_rate(clean_pile(), rate), course(), RULES).items[0]
    return item.started_t, item.finished_t


def pile_span(obs):
    poses = [o.t for o in obs if isinstance(o, Pose)]
    return _span(round(1 / (poses[2] - poses[1]), 3))


bad_marks = st.one_of(st.sampled_from(BAD_FIXES), st.floats(MAX_AGE + 0.1, 600.0))


def dropped_and_nulled(obs, seed, drop=0.1, null=0.1):
    """Some fixes dropped, and some moving fixes without a heading (docs/observations.md allows null)."""
    rng = random.Random(seed)
    out = []
    for o in obs:
        if isinstance(o, Pose) and o.t > 0.5:
            if rng.random() < drop:
                continue
            if o.speed > 0 and rng.random() < null:
                o = dataclasses.replace(o, heading=None)
        out.append(o)
    return out


def longest_loss(obs):
    """The longest time between two judging fixes (RTK fixed, fresh, with a heading or standing)."""
    good = [o.t for o in obs if isinstance(o, Pose) and o.fix == FixQuality.RTK_FIXED
            and (o.correction_age is None or o.correction_age <= MAX_AGE) and (o.heading is not None or o.speed == 0)]
    return max(b - a for a, b in zip(good, good[1:]))


@PROFILE
@given(rate=st.sampled_from([10.0, 5.0]), bad=bad_marks, start=st.floats(0.0, 1.0),
       share=st.floats(0.05, 1.0), seed=st.integers(0, 2**32 - 1))
def test_unusable_fixes_never_produce_a_deduction(rate, bad, start, share, seed):
    """At 10 and 5 Hz, with fixes dropped and null headings besides: a verdict only from judging fixes,
    and a device fault exactly when they were lost for longer than the allowance."""
    obs = at_rate(clean_pile(), rate)
    length = (ALLOWANCE - 2 / rate) * share
    t0, t1 = pile_span(obs)
    t_from = t0 + (t1 - t0 - length) * start
    spoiled = dropped_and_nulled(spoil(obs, t_from, t_from + length, bad), seed)
    result = judge_stream(spoiled, course(), RULES)
    assert result.deductions == ()
    expected = Status.SUSPENDED if longest_loss(spoiled) > ALLOWANCE else Status.PASSED
    assert result.status == expected, (result.reason, longest_loss(spoiled))


def test_the_same_positions_as_rtk_fixed_would_be_deductions():
    """The spoiled positions are bad on purpose: judged as RTK fixed, they cost the candidate."""
    obs = clean_pile()
    t0, t1 = pile_span(obs)
    mid = (t0 + t1) / 2
    spoiled = spoil(obs, mid, mid + 0.5, FixQuality.RTK_FIXED)
    assert judge_stream(spoiled, course(), RULES).deductions != ()


def test_an_rtk_fix_with_a_correction_at_the_age_limit_is_judged():
    at_limit = [dataclasses.replace(o, correction_age=MAX_AGE) if isinstance(o, Pose) else o for o in clean_pile()]
    result = judge_stream(at_limit, course(), RULES)
    assert result.status == Status.PASSED and result.deductions == ()
    spoiled = spoil(at_limit, 0.0, 1e9, FixQuality.RTK_FIXED)  # and judged: off the route
    assert judge_stream(spoiled, course(), RULES).deductions != ()


def _with_controller_fault(obs, after):
    """The journal as the live controller writes it: its device_fault command ``after`` s into the loss."""
    out, added = [], False
    for o in obs:
        if not added and o.t >= after:
            out.append(Command(t=o.t, utc=o.utc, vehicle=o.vehicle if hasattr(o, "vehicle") else "veh-1",
                               action=CommandAction.DEVICE_FAULT, reason="V1.gnss 定位质量不足：单点定位"))
            added = True
        out.append(o)
    return out


@settings(PROFILE, max_examples=30)
@given(rate=st.sampled_from([10.0, 5.0]), bad=bad_marks, start=st.floats(0.0, 0.9),
       length=st.floats(ALLOWANCE * 1.3, ALLOWANCE * 4), report_share=st.floats(0.0, 0.9),
       supervisor=st.sampled_from(["none", "stop"]))
def test_a_long_loss_in_an_item_is_a_device_fault_with_or_without_the_command(
        rate, bad, start, length, report_share, supervisor):
    obs = at_rate(clean_pile(), rate)
    t0, t1 = pile_span(obs)
    t_from = t0 + (t1 - t0 - length) * start
    raw = spoil(obs, t_from, t_from + length, bad)
    end_t = raw[-1].t
    if supervisor != "none":
        at = next(o for o in raw if o.t >= t_from + length + 0.1)
        raw.insert(raw.index(at), Command(t=at.t, utc=at.utc, vehicle="veh-1", action=CommandAction.STOP,
                                          actor="考试员", reason="改为重考"))
    # The health watch reports the fault while it lasts, a little before or after the judge sees it.
    live = _with_controller_fault(raw, t_from + ALLOWANCE * 0.5 + (length - ALLOWANCE * 0.5) * report_share)
    raw_result, live_result = judge_stream(raw, course(), RULES), judge_stream(live, course(), RULES)
    for result in (raw_result, live_result):
        assert result.deductions == ()
        expected = {"none": Status.SUSPENDED, "stop": Status.DEVICE_FAULT}[supervisor]
        assert result.status == expected, (result.status, result.reason)
        assert "GNSS" in result.reason or "定位" in result.reason
    assert (raw_result.status, raw_result.score, raw_result.deductions) == \
           (live_result.status, live_result.score, live_result.deductions)
    assert end_t > t_from + length


def test_the_judge_suspends_itself_once_the_allowance_is_passed_never_earlier():
    obs = clean_pile()
    t0, t1 = pile_span(obs)
    t_from = t0 + 1.0
    raw = spoil(obs, t_from, t_from + 3.0, FixQuality.RTK_FLOAT)
    first = judge_for_start(course(), RULES, raw[0])
    suspended_at = None
    last_good = max(o.t for o in raw if isinstance(o, Pose) and o.t < t_from)
    for o in raw:
        for event in first.feed(o):
            if event.kind.value == "attempt_suspended":
                suspended_at = event.t
    assert first.status == Status.SUSPENDED and first.fault_unreported
    assert last_good + ALLOWANCE < suspended_at <= last_good + ALLOWANCE + 1 / RATE + 1e-9
    assert "rtk_float" in first.reason and "e_pile" in first.reason


def test_the_controllers_report_of_the_same_fault_does_not_end_the_attempt():
    obs = clean_pile()
    t0, _ = pile_span(obs)
    raw = spoil(obs, t0 + 1.0, t0 + 4.0, FixQuality.SINGLE)
    live = _with_controller_fault(raw, t0 + 3.0)
    judge = judge_for_start(course(), RULES, live[0])
    for o in live:
        judge.feed(o)
    assert judge.status == Status.SUSPENDED and not judge.fault_unreported
    assert judge.reason.endswith("V1.gnss 定位质量不足：单点定位")
    # a second device fault while suspended ends it, as before
    judge.feed(Command(t=live[-1].t + 1, utc=live[-1].utc, vehicle="veh-1", action=CommandAction.DEVICE_FAULT,
                       reason="again"))
    assert judge.status == Status.DEVICE_FAULT


def test_a_loss_between_items_is_a_device_fault_too_and_a_short_one_is_not():
    """The health watch suspends a running attempt wherever the vehicle is; so does the judge."""
    run = Run(course())
    path = slalom(course().items["e_pile"], 0.9)
    run.at("e_pile", -1.0, path(-1.0)).start().hold(4.0)  # waiting for the examiner's instruction
    run.go("e_pile", past_exit(run, "e_pile"), path, speed=1.5)
    long_loss = spoil(run.obs, 0.5, 0.5 + ALLOWANCE + 0.5, FixQuality.SINGLE, shift=0.0)
    result = judge_stream(long_loss, course(), RULES)
    assert result.status == Status.SUSPENDED and "between items" in result.reason and result.deductions == ()
    short = spoil(run.obs, 0.5, 0.5 + ALLOWANCE - 0.2, FixQuality.SINGLE, shift=0.0)
    assert judge_stream(short, course(), RULES).status == Status.PASSED

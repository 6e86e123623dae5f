"""A stop the item prescribes is not 中途停车 or 停机, and one stop is counted once (issue 11 item 3).

Scripted runs in every class that has each item, tractors included, with the receiver's noise
(±2 cm position, ±0.02 m/s speed, tests/scoring/streams.with_noise), pulling away and braking at
0.5 m/s², at 10 Hz (and 5 Hz for the 2.5 s stops), and stops of 1.5, 2.5 and 5 s at every place
the route stops: 倒车入库 before each reverse and in the bay; 侧方停车 past the
slot before reversing in and in the slot before leaving; the bay-shift course (C4 桩考 option,
tractors) at the end of every leg. Each must pass clean. A stop the route does not have is still
counted, once, under the same noise.
"""

import pytest

from scoring.events import Status
from tests.scoring.items.test_bay_shift import CASES, bay_run
from tests.scoring.items.test_c3 import CLASSES, parallel_run, reverse_run
from tests.scoring.streams import judge_stream, ruleset, with_noise

STOPS = (1.5, 2.5, 5.0)
SEEDS = (1,)
FIVE_HZ = {2.5}  # these stop lengths are judged from every other fix (5 Hz), the rest at 10 Hz
RAMP = 0.5  # m/s²: pulling away and braking gently, so the speed lingers near the stop thresholds


def judged(run, seed, five_hz=False):
    observations = with_noise(run.obs, seed)
    if five_hz:
        poses = [o for o in observations if o.kind == "pose"]
        dropped = {id(p) for p in poses[1::2]}
        observations = [o for o in observations if id(o) not in dropped]
    return judge_stream(observations, run.course, ruleset())


def clean(result):
    return result.status == Status.PASSED and result.deductions == ()


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("stop", STOPS)
def test_reverse_stops_before_each_reverse_and_in_the_bay(cls, stop):
    run = reverse_run(cls, turn_wait=stop, wait=stop - 1.0, ramp=RAMP)
    for seed in SEEDS:
        result = judged(run, seed, stop in FIVE_HZ)
        assert clean(result), (seed, result.deductions)


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("stop", STOPS)
def test_parallel_stops_past_the_slot_and_in_the_slot(cls, stop):
    run = parallel_run(cls, turn_wait=stop, wait=stop, ramp=RAMP)
    for seed in SEEDS:
        result = judged(run, seed, stop in FIVE_HZ)
        assert clean(result), (seed, result.deductions)


@pytest.mark.parametrize("cls,item_id,model", CASES)
@pytest.mark.parametrize("stop", STOPS)
def test_bay_shift_stops_at_the_end_of_every_leg(cls, item_id, model, stop):
    run = bay_run(cls, item_id, model, turn_wait=stop, ramp=RAMP)
    for seed in SEEDS:
        result = judged(run, seed, stop in FIVE_HZ)
        assert clean(result), (seed, result.deductions)


@pytest.mark.parametrize("cls", CLASSES)
def test_a_stop_on_the_way_is_still_counted_once(cls):
    result = judged(parallel_run(cls, hesitate=2.6, turn_wait=2.5, wait=5.0, ramp=RAMP), 3)
    assert [d.rule for d in result.deductions] == ["parallel.stop"]
    assert [d.code for d in result.deductions] == [ruleset().rule("parallel.stop").code]


def test_a_stop_before_reaching_the_slot_is_not_the_route():
    from tests.scoring.items.test_c3 import run_for

    run = run_for("C3", "c3_parallel")
    run.at("c3_parallel", -5.0, 0.0, point="rear_axle").start().hold(0.5)
    run.follow("c3_parallel", [(1.0, 0.0)], speed=2.0).stand(2.5)  # in the item, the slot still ahead
    run.follow("c3_parallel", [(3.0, 0.0)], speed=2.0)
    assert [d.rule for d in run.judge().deductions] == ["parallel.stop"]


@pytest.mark.parametrize("cls", ["G1", "G2"])
def test_tractor_halts_within_a_leg_are_counted_once_each_under_noise(cls):
    assert judged(bay_run(cls, "field_g", "G1-01", halts=(1.5,), turn_wait=2.5, ramp=RAMP), 4).deductions == ()
    result = judged(bay_run(cls, "field_g", "G1-01", halts=(1.5, 1.5), turn_wait=2.5, ramp=RAMP), 5)
    assert [(d.rule, d.value) for d in result.deductions] == [("field.stops", 2)]


def test_c4_bay_shift_halt_over_2s_in_the_lane_is_minus_5_once_under_noise():
    result = judged(bay_run("C4", "c4_bay_shift", "C4-01", halts=(2.6,), turn_wait=5.0, ramp=RAMP), 6)
    assert [d.rule for d in result.deductions] == ["pile.stop"] and result.score == 95

"""The bay-shift course: the tractor field course (G1/G2/K1/K2) and the C4 桩考 bay-shift option.

Route (the default legs): in along the lane, reverse into 乙 (B), forward out to the left,
reverse into 甲 (A), forward out to the right over the exit line. Scripts move the rear axle
on quarter circles from the lane's centre onto a bay's centre line (streams.Run.follow).
"""

import dataclasses
from functools import lru_cache

import pytest

from scoring.course import load_course
from scoring.events import Status
from scoring.observations import Gear
from scoring.rules import Overrides, RuleChange
from tests.scoring.streams import ROOT, Run, arc, only

BAY_COURSE = ROOT / "config" / "courses" / "bay-shift.toml"
CASES = [("G1", "field_g", "G1-01"), ("G2", "field_g", "G1-01"), ("K1", "field_k", "K2-01"),
         ("K2", "field_k", "K2-01"), ("C4", "c4_bay_shift", "C4-01")]
RULE = {"field": {"bay": "field.bay_not_entered", "pole": "field.pole_touched", "out": "field.body_out",
                  "route": "field.wrong_route"},
        "pile": {"bay": "pile.bay_not_entered", "pole": "pile.pole_touched", "out": "pile.out_of_line",
                 "route": "pile.wrong_route"}}


@lru_cache(maxsize=None)
def bay_course():
    return load_course(BAY_COURSE)


def geometry(run, item_id):
    """(mouth v, back v, centre u of B, centre u of A) in the item frame."""
    item = run.item(item_id)
    out = {}
    for name, bay in item.bays.items():
        points = [item.to_item(p) for p in bay.exterior.coords]
        us, vs = [p[0] for p in points], [p[1] for p in points]
        out[name] = ((min(us) + max(us)) / 2, max(vs), min(vs))
    return out["B"][1], out["B"][2], out["B"][0], out["A"][0]


def bay_run(cls, item_id, model, front_out=None, back_out=None, offset_b=0.0, halts=(), shuffle_end=False,
            stall=False, course=None, turn_wait=1.0, into_a_first=False, ramp=None):
    """The default route. ``front_out`` / ``back_out`` stop in B with the front bumper that far out of
    the bay's mouth, or the rear bumper that far past its back line; ``halts`` stop mid-leg on the
    way in (seconds each); ``turn_wait`` is each stop at a turn; ``into_a_first`` reverses wholly into
    bay A (甲) in the first leg, whose bay is B (乙), and drives out of it."""
    run = Run(course or only(bay_course(), cls, item_id), model=model, vehicle_class=cls)
    run.ramp = ramp  # m/s²: pull away and brake gently instead of at once
    mouth, back, b_u, a_u = geometry(run, item_id)
    r = -mouth  # the rear axle runs on the lane's centre (v = 0)
    rear, front = run.model.rear_overhang, run.model.length - run.model.rear_overhang
    deep = (mouth - front + back + rear) / 2  # the body centred in the bay's length
    exit_u = run.item(item_id).to_item(run.item(item_id).exit.points[0])[0]
    run.at(item_id, -5.0, 0.0, point="rear_axle").start().hold(0.5)
    for i, halt in enumerate(halts):
        run.follow(item_id, [(-3.0 + 1.5 * (i + 1), 0.0)], speed=1.0).hold(halt)
    b_stop = a_u if into_a_first else b_u + offset_b
    # drive in past the bay it will reverse into (a body never turns round where it stands)
    run.follow(item_id, [(max(b_u, b_stop) + r + 1.5, 0.0)], speed=1.5).hold(turn_wait).set(gear=Gear.REVERSE)
    b_deep = deep if front_out is None else mouth - front + front_out
    b_deep = b_deep if back_out is None else back + rear - back_out
    run.follow(item_id, [(b_stop + r, 0.0)] + arc(b_stop + r, mouth, r, 90, 180) + [(b_stop, b_deep)],
               speed=1.0, reverse=True).hold(turn_wait).set(gear=Gear.G1)
    run.follow(item_id, [(b_stop, mouth)] + arc(b_stop - r, mouth, r, 0, 90) + [(b_stop - r - 0.5, 0.0)],
               speed=1.0).hold(turn_wait).set(gear=Gear.REVERSE)
    if stall:
        run.set(engine=False).hold(0.5)
        return run
    if into_a_first:
        return run
    run.follow(item_id, [(a_u - r, 0.0)] + arc(a_u - r, mouth, r, 90, 0) + [(a_u, deep)],
               speed=1.0, reverse=True).hold(turn_wait).set(gear=Gear.G1)
    run.follow(item_id, [(a_u, mouth)] + arc(a_u + r, mouth, r, 180, 90), speed=1.0)
    if shuffle_end:  # back up again in the last leg: a movement the route does not have
        run.hold(turn_wait).set(gear=Gear.REVERSE).follow(item_id, [(a_u + r - 1.0, 0.0)], speed=1.0, reverse=True)
        run.hold(turn_wait).set(gear=Gear.G1)
    run.follow(item_id, [(exit_u + run.model.wheelbase + 1.0, 0.0)], speed=1.5).hold(1.0)
    return run


def kind(item_id):
    return "field" if item_id.startswith("field") else "pile"


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_clean_bay_shift(cls, item_id, model):
    result = bay_run(cls, item_id, model).judge()
    assert result.status == Status.PASSED and result.deductions == (), result.deductions
    assert result.items[0].finished_t is not None


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_not_wholly_in_the_bay_fails(cls, item_id, model):
    result = bay_run(cls, item_id, model, front_out=0.3).judge()  # the front bumper 0.3 m out of the mouth
    assert [d.rule for d in result.deductions] == [RULE[kind(item_id)]["bay"]] and "bay B" in result.deductions[0].detail


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_pole_touched_fails(cls, item_id, model):
    # into B 0.6 m too far toward A: the body reaches the pole between the bays
    assert bay_run(cls, item_id, model, offset_b=0.6).rules_hit() == [RULE[kind(item_id)]["pole"]]


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_pole_sensor_fails(cls, item_id, model):
    run = bay_run(cls, item_id, model)
    touch_at = next(i for i, o in enumerate(run.obs) if o.kind == "pose" and o.t > 8.0)
    run.t = run.obs[touch_at].t
    sensor = Run.sensor(run, f"{item_id}.pole2", True).obs.pop()
    run.obs.insert(touch_at, sensor)
    assert run.rules_hit() == [RULE[kind(item_id)]["pole"]]


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_body_over_the_back_line_fails(cls, item_id, model):
    run = bay_run(cls, item_id, model, back_out=0.2)
    assert run.rules_hit() == [RULE[kind(item_id)]["out"]]


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_a_movement_the_route_lacks_fails(cls, item_id, model):
    assert bay_run(cls, item_id, model, shuffle_end=True).rules_hit() == [RULE[kind(item_id)]["route"]]


@pytest.mark.parametrize("cls", ["G1", "G2"])
def test_tractor_two_halts_fail_one_does_not(cls):
    assert bay_run(cls, "field_g", "G1-01", halts=(1.5,)).rules_hit() == []
    result = bay_run(cls, "field_g", "G1-01", halts=(1.5, 1.5)).judge()
    assert [d.rule for d in result.deductions] == ["field.stops"] and result.deductions[0].value == 2
    # a halt shorter than field_stop_minimum (1 s) is no 停机
    assert bay_run(cls, "field_g", "G1-01", halts=(1.5, 0.5)).rules_hit() == []


@pytest.mark.parametrize("cls,item_id,model", [c for c in CASES if c[0] != "C4"])
def test_tractor_stall_fails(cls, item_id, model):
    assert bay_run(cls, item_id, model, stall=True).rules_hit() == ["general.tractor_stall"]


def test_c4_stall_is_minus_10():
    assert bay_run("C4", "c4_bay_shift", "C4-01", stall=True).rules_hit() == ["general.stall"]


def test_c4_halt_over_2s_is_minus_5_when_it_moves_on():
    result = bay_run("C4", "c4_bay_shift", "C4-01", halts=(2.6,)).judge()
    assert [d.rule for d in result.deductions] == ["pile.stop"] and result.score == 95
    assert 2.0 < result.deductions[0].value <= 2.8
    assert bay_run("C4", "c4_bay_shift", "C4-01", halts=(1.9,)).rules_hit() == []


def test_c4_time_limit_when_the_course_sets_one():
    course = only(bay_course(), "C4", "c4_bay_shift")
    limited = dataclasses.replace(course, overrides=Overrides(
        rules={"pile.time_limit": RuleChange(params={"limit": 20.0}, enabled=True)}, source="test"))
    result = bay_run("C4", "c4_bay_shift", "C4-01", course=limited).judge()
    assert [d.rule for d in result.deductions] == ["pile.time_limit"] and 20.0 < result.deductions[0].value <= 21.0

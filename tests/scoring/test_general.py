"""General rules: each triggered, and just inside its limit not triggered.

The vehicle drives on the approach to the first item (nothing item-specific applies there).
"""

import pytest

from scoring.observations import Gear
from tests.scoring.streams import Run, demo_course

E, C4 = "E-01", "C4-01"


def approach(model=E, **signals):
    """A run standing 8 m before the class's pile, started with these signals."""
    item = "e_pile" if model == E else "c4_pile"
    run = Run(demo_course(), model=model)
    run.at(item, -8.0).set(**signals).start().hold(0.5)
    return run, item


def drive(run, item, seconds, speed=1.5):
    """Drive straight along the approach for ``seconds``."""
    u = run.item(item).to_item(run.model.place(run.x, run.y, run.heading).point("front_axle"))[0]
    return run.go(item, u + seconds * speed, speed=speed)


def with_signals(model, seconds, speed=1.5, **signals):
    run, item = approach(model)
    drive(run, item, 0.5, speed)
    run.set(**signals)
    drive(run, item, seconds, speed)
    return run


@pytest.mark.parametrize("model,signal,rule", [(E, "helmet", "general.helmet"), (C4, "seatbelt", "general.seatbelt")])
def test_helmet_or_belt_off(model, signal, rule):
    run = with_signals(model, 1.0, **{signal: False})
    assert run.rules_hit() == [rule]


@pytest.mark.parametrize("model,signal", [(E, "helmet"), (C4, "seatbelt")])
def test_helmet_or_belt_off_shorter_than_the_debounce(model, signal):
    run, item = approach(model)
    run.set(**{signal: False})
    drive(run, item, 0.3)
    run.set(**{signal: True})
    drive(run, item, 1.0)
    assert run.rules_hit() == []


def test_helmet_off_at_the_start():
    run = Run(demo_course()).at("e_pile", -8.0).set(helmet=False).start().hold(1.0)
    assert run.rules_hit() == ["general.helmet"]


def test_starter_pressed_in_gear():
    run, item = approach(engine=False)
    run.set(starter=True).hold(0.3).set(engine=True, starter=False).hold(0.5)
    assert run.rules_hit()[0] == "general.start_not_neutral"


def test_starter_pressed_in_neutral():
    run, item = approach(engine=False, gear=Gear.NEUTRAL)
    run.set(starter=True).hold(0.3).set(engine=True).hold(0.3).set(starter=False).hold(0.5)
    assert run.rules_hit() == []


@pytest.mark.parametrize("held,expected", [(2.5, ["general.starter_held"]), (1.8, [])])
def test_starter_held_after_the_engine_runs(held, expected):
    run, item = approach(engine=False, gear=Gear.NEUTRAL)
    run.set(starter=True).hold(0.3)
    run.set(engine=True).hold(held).set(starter=False).hold(0.5)
    result = run.judge()
    assert [d.rule for d in result.deductions] == expected
    if expected:
        assert 2.0 < result.deductions[0].value <= 2.5


def test_starter_held_counts_each_time():
    run, item = approach(engine=False, gear=Gear.NEUTRAL)
    for _ in range(2):
        run.set(starter=True).hold(0.2).set(engine=True).hold(2.5).set(starter=False).hold(0.5)
        run.set(engine=False, ignition=False).hold(0.5).set(ignition=True).hold(0.5)
    assert run.rules_hit() == ["general.starter_held", "general.starter_held"]


def test_stall():
    run, item = approach()
    drive(run, item, 1.0)
    run.set(engine=False).hold(1.0)
    result = run.judge()
    assert [d.rule for d in result.deductions] == ["general.stall"]
    assert result.score == 90


def test_engine_off_with_the_key_is_no_stall():
    run, item = approach()
    run.hold(0.5).set(engine=False, ignition=False).hold(1.0)
    assert run.rules_hit() == []


@pytest.mark.parametrize("distance,expected", [(0.35, ["general.rollback_major"]),
                                               (0.2, ["general.rollback_minor"]), (0.03, [])])
def test_rollback_on_moving_off(distance, expected):
    run, item = approach()
    run.back(distance).hold(0.5)
    drive(run, item, 2.0)
    result = run.judge()
    assert [d.rule for d in result.deductions] == expected
    if expected == ["general.rollback_minor"]:
        assert result.deductions[0].value == pytest.approx(distance, abs=0.01)
        assert result.score == 90


def test_reversing_in_reverse_gear_is_no_rollback():
    run, item = approach()
    run.set(gear=Gear.REVERSE).back(0.5).set(gear=Gear.G1).hold(0.5)
    drive(run, item, 2.0)
    assert run.rules_hit() == []


@pytest.mark.parametrize("seconds,expected", [(1.5, ["general.coasting"]), (0.5, [])])
def test_coasting_in_neutral(seconds, expected):
    run, item = approach()
    drive(run, item, 0.5)
    run.set(gear=Gear.NEUTRAL)
    drive(run, item, seconds)
    run.set(gear=Gear.G2)
    drive(run, item, 1.0)
    assert run.rules_hit() == expected


@pytest.mark.parametrize("speed,seconds,expected", [(1.5, 0.6, ["general.foot_down_or_weave"]),
                                                     (1.5, 0.2, []), (0.5, 2.0, [])])
def test_foot_down(speed, seconds, expected):
    run, item = approach()
    drive(run, item, 0.5, speed)
    run.set(left_footpeg=False)
    drive(run, item, seconds, speed)
    run.set(left_footpeg=True)
    drive(run, item, 0.5, speed)
    result = run.judge()
    assert [d.rule for d in result.deductions] == expected


def _weave(amplitude, speed=1.5):
    run, item = approach()
    drive(run, item, 0.5, speed)
    for i in range(12):
        run.set(roll=amplitude if i % 2 else -amplitude)
        drive(run, item, 0.3, speed)
    return run


@pytest.mark.parametrize("amplitude,expected", [(25.0, ["general.foot_down_or_weave"]), (15.0, [])])
def test_weave(amplitude, expected):
    result = _weave(amplitude).judge()
    assert [d.rule for d in result.deductions] == expected
    if expected:
        assert result.deductions[0].value == pytest.approx(2 * amplitude)
        assert result.deductions[0].unit == "deg"


def test_weave_below_walking_pace_is_not_judged():
    assert _weave(25.0, speed=0.5).rules_hit() == []


def test_foot_down_not_judged_on_a_three_wheeler():
    run = with_signals(C4, 1.0, left_footpeg=False)
    assert run.rules_hit() == []

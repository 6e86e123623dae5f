"""The general rules for every class: which rule each condition triggers, or none, per class.

Each class stands before its first item on its own course (C3/M: config/courses/c3.toml;
tractors: bay-shift.toml; C4/D/E/F: demo.toml, D and F on the E items) and drives 2 m.
"""

import pytest

from scoring.observations import Gear
from scoring.vehicle import VEHICLE_CLASSES
from tests.scoring.items.test_bay_shift import bay_course
from tests.scoring.items.test_c3 import c3_course
from tests.scoring.streams import Run, demo_course, only

SETUP = {
    "C3": (c3_course, "C3-01"), "M": (c3_course, "C3-01"), "C4": (demo_course, "C4-01"),
    "D": (demo_course, "E-01"), "E": (demo_course, "E-01"), "F": (demo_course, "E-01"),
    "G1": (bay_course, "G1-01"), "G2": (bay_course, "G1-01"), "K1": (bay_course, "K2-01"),
    "K2": (bay_course, "K2-01"),
}
# What each condition triggers, by class (None: not judged for the class)
BELT = {"C3": "general.seatbelt", "M": "general.seatbelt", "C4": "general.seatbelt", "D": "general.helmet",
        "E": "general.helmet", "F": "general.helmet"}
STALL = {cls: "general.tractor_stall" if cls[0] in "GK" else "general.stall" for cls in VEHICLE_CLASSES}
ROAD = ("C3", "M", "C4", "D", "E", "F")


def standing(cls, **signals):
    make, model = SETUP[cls]
    base = make()
    donor = base.vehicle(model).vehicle_class
    course = only(base, cls, *base.order[donor])
    run = Run(course, model=model, vehicle_class=cls)
    if cls in ("D", "F"):
        run.set(helmet=True)
    item = course.order[cls][0]
    run.at(item, -6.0, point="rear_axle").set(**signals).start().hold(0.5)
    return run, item


def drive(run, item, metres=2.0, speed=1.0):
    u = run.item(item).to_item(run.model.place(run.x, run.y, run.heading).point("rear_axle"))[0]
    return run.follow(item, [(u + metres, 0.0)], speed=speed)


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_clean_approach_has_no_deduction(cls):
    run, item = standing(cls)
    assert drive(run, item).rules_hit() == []


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_belt_or_helmet(cls):
    signal = "helmet" if cls in ("D", "E", "F") else "seatbelt"
    run, item = standing(cls, **{signal: False})
    expected = [BELT[cls]] if cls in BELT else []  # tractors: not in their fail list (research.md §2.7)
    assert drive(run, item).rules_hit() == expected


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_stall(cls):
    run, item = standing(cls)
    drive(run, item, 1.0)
    run.set(engine=False).hold(0.5)
    assert run.rules_hit() == [STALL[cls]]


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_starter_in_gear(cls):
    run, item = standing(cls, engine=False)
    run.set(starter=True).hold(0.3).set(engine=True, starter=False).hold(0.5)
    assert run.rules_hit() == (["general.start_not_neutral"] if cls in ROAD else [])


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
@pytest.mark.parametrize("held,triggered", [(2.6, True), (1.9, False)])
def test_starter_held(cls, held, triggered):
    run, item = standing(cls, gear=Gear.NEUTRAL, engine=False)
    run.set(starter=True).hold(0.2).set(engine=True).hold(held).set(starter=False).hold(0.5)
    expected = ["general.starter_held"] if triggered and cls in ROAD else []
    assert run.rules_hit() == expected


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_coasting_in_neutral(cls):
    run, item = standing(cls)
    drive(run, item, 0.5)
    run.set(gear=Gear.NEUTRAL)
    drive(run, item, 2.0)
    assert run.rules_hit() == (["general.coasting"] if cls in ROAD else [])


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
@pytest.mark.parametrize("distance,rule", [(0.35, "general.rollback_major"), (0.2, "general.rollback_minor"),
                                           (0.29, "general.rollback_minor"), (0.03, None)])
def test_rollback_on_moving_off(cls, distance, rule):
    run, item = standing(cls)
    run.back(distance).hold(0.3)
    drive(run, item, 1.5)
    # 0.03 m is below measurement.rollback_floor (RTK noise): not judged. Exactly 0.30 m is in
    # neither rule (大于30cm / 小于30cm both exclude it): tested on the rules in test_rules.py.
    expected = [] if cls not in ROAD or rule is None else [rule]
    assert run.rules_hit() == expected


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_foot_down_only_for_two_wheelers(cls):
    run, item = standing(cls)
    drive(run, item, 1.0, speed=1.5)
    run.set(left_footpeg=False)
    drive(run, item, 1.5, speed=1.5)
    # E and F ride two-wheelers; D here borrows the E model but its class has no such rule
    assert run.rules_hit() == (["general.foot_down_or_weave"] if cls in ("E", "F") else [])

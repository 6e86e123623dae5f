"""通过单边桥 judge: each rule triggered, and just inside its limit not triggered."""

import dataclasses
import math

import pytest

from scoring.judge import judge_stream
from tests.scoring.streams import Run, deck_sensors, demo_course, only, past_exit, ruleset

E_BRIDGE, C4_BRIDGE = "e_bridge", "c4_bridge"


def e_run(v=0.0, stop_at=None, stop=0.0, sensors=True, course=None):
    """The E two-wheeler along deck A; ``v`` may be a path; optional stop at u = ``stop_at``."""
    run = Run(course or only(demo_course(), "E", E_BRIDGE))
    play = deck_sensors(E_BRIDGE) if sensors else None
    run.at(E_BRIDGE, -0.5, v(-0.5) if callable(v) else v).start().hold(0.5)
    if stop_at is not None:
        run.go(E_BRIDGE, stop_at, v, speed=1.0, each=play)
        if stop:
            run.stand(stop)
    run.go(E_BRIDGE, past_exit(run, E_BRIDGE), v, speed=1.0, each=play)
    return run


def swerve(at_u, to_v, length=0.3):
    """A path that leaves v = 0 at ``at_u`` for ``to_v`` within ``length`` metres."""
    def lateral(u):
        k = min(max((u - at_u) / length, 0.0), 1.0)
        return to_v * (1 - math.cos(math.pi * k)) / 2
    return lateral


def deck(run, name="A"):
    return run.item(E_BRIDGE).decks[name]


def test_clean_two_wheeler():
    result = e_run().judge()
    assert result.deductions == ()
    assert result.status.value == "passed"


def test_without_deck_sensor_events_the_wheels_never_mount():
    # the course says deck A has a sensor: no sensor, no mount; one bridge missed, one deduction
    result = e_run(sensors=False).judge()
    assert [d.rule for d in result.deductions] == ["bridge.wheel_not_mounted"]
    assert result.score == 90


def test_geometry_alone_when_the_deck_has_no_sensor():
    course = only(demo_course(), "E", E_BRIDGE)
    items = dict(course.items)
    items[E_BRIDGE] = dataclasses.replace(items[E_BRIDGE], deck_sensors=False)
    course = dataclasses.replace(course, items=items)
    assert e_run(sensors=False, course=course).rules_hit() == []


def test_wheel_beside_the_deck_never_mounts():
    # both wheels beside the one bridge: −10 once for the bridge, not once per wheel
    result = e_run(v=0.3).judge()
    assert [(d.rule, d.code, d.points) for d in result.deductions] == [
        ("bridge.wheel_not_mounted", ruleset().rule("bridge.wheel_not_mounted").code, 10)]
    assert result.deductions[0].detail == "front wheel, deck A" and result.score == 90


def test_wheel_beside_the_deck_under_the_2012_set_is_minus_20_once():
    from scoring.rules import load_ruleset
    from tests.scoring.streams import ROOT

    old = load_ruleset(ROOT / "config" / "rules" / "ga1026-2012.toml")
    result = e_run(v=0.3).judge(old)
    assert [(d.rule, d.points) for d in result.deductions] == [("bridge.wheel_not_mounted", 20)]


def test_wheels_dropping_off_midway():
    run = Run(only(demo_course(), "E", E_BRIDGE))
    middle = (deck(run).start + deck(run).end) / 2
    result = e_run(v=swerve(middle, 0.3)).judge()
    assert [d.rule for d in result.deductions] == ["bridge.wheel_dropped"] * 2
    assert result.score == 80


def test_wheels_staying_on_the_deck_while_swerving():
    run = Run(only(demo_course(), "E", E_BRIDGE))
    middle = (deck(run).start + deck(run).end) / 2
    assert e_run(v=swerve(middle, 0.08)).rules_hit() == []


def _fixes_arriving_late(run: Run, lag: float) -> list:
    """The run's observations as a loaded controller may see them: each fix up to ``lag`` s older than
    a deck switch change arrives after it (the receiver's thread was starved, the board's was not)."""
    from scoring.observations import CourseSensor, Pose

    out = []
    for obs in run.obs:
        if isinstance(obs, CourseSensor):
            late = [o for o in out if isinstance(o, Pose) and obs.t - lag < o.t <= obs.t]
            out = [o for o in out if not any(o is x for x in late)] + [obs] + late
        else:
            out.append(obs)
    return out


@pytest.mark.parametrize("lag", [0.2, 0.6])
def test_fixes_arriving_after_the_release_of_a_deck_are_no_drop(lag):
    run = e_run()
    reordered = _fixes_arriving_late(run, lag)
    assert [type(o).__name__ for o in reordered] != [type(o).__name__ for o in run.obs]  # really reordered
    assert judge_stream(reordered, run.course, ruleset()).deductions == ()


def test_speeding_up_off_the_deck_end_while_fixes_arrive_late_is_no_drop():
    """The rider opens the throttle with the rear wheel 0.3 m before the deck's end; the fixes lag
    0.6 s. Carried forward from the last fix at its (slow) speed, the rear wheel would still be on
    the deck when the switch releases."""
    course = only(demo_course(), "E", E_BRIDGE)
    run = Run(course)
    play = deck_sensors(E_BRIDGE)
    rear_behind = run.model.wheelbase  # the run steers by the front axle
    end = deck(run).end
    run.at(E_BRIDGE, -0.5, 0.0).start().hold(0.5)
    run.go(E_BRIDGE, end + rear_behind - 0.3, 0.0, speed=0.3, each=play)
    run.go(E_BRIDGE, past_exit(run, E_BRIDGE), 0.0, speed=1.5, each=play)
    assert run.rules_hit() == []
    assert judge_stream(_fixes_arriving_late(run, 0.6), run.course, ruleset()).deductions == ()


def _silent_from_release(run: Run, which: int) -> list:
    """The run with the receiver silent from its ``which``-th deck release on (the signal board goes on)."""
    from scoring.observations import CourseSensor, Pose

    releases = [o.t for o in run.obs if isinstance(o, CourseSensor) and not o.active]
    return [o for o in run.obs if not (isinstance(o, Pose) and o.t >= releases[which])]


def test_a_release_no_fix_came_after_is_judged_from_the_newest_fix_carried_forward():
    rolling_off = e_run()  # the rear wheel leaves the deck's end as the receiver falls silent
    result = judge_stream(_silent_from_release(rolling_off, -1), rolling_off.course, ruleset())
    assert "bridge.wheel_dropped" not in [d.rule for d in result.deductions]
    run = Run(only(demo_course(), "E", E_BRIDGE))
    middle = (deck(run).start + deck(run).end) / 2
    falling_off = e_run(v=swerve(middle, 0.3))  # the front wheel leaves the deck mid-way
    result = judge_stream(_silent_from_release(falling_off, 0), falling_off.course, ruleset())
    assert [(d.rule, d.detail) for d in result.deductions][:1] == [("bridge.wheel_dropped", "front wheel off deck A")]


def test_a_real_drop_still_counts_when_fixes_arrive_late():
    run = Run(only(demo_course(), "E", E_BRIDGE))
    middle = (deck(run).start + deck(run).end) / 2
    dropping = e_run(v=swerve(middle, 0.3))
    result = judge_stream(_fixes_arriving_late(dropping, 0.6), dropping.course, ruleset())
    assert [d.rule for d in result.deductions] == ["bridge.wheel_dropped"] * 2


def test_stop_on_the_bridge_over_2s():
    run = Run(only(demo_course(), "E", E_BRIDGE))
    result = e_run(stop_at=deck(run).start + 0.5, stop=2.5).judge()
    assert [d.rule for d in result.deductions] == ["bridge.stop"]
    assert result.score == 95


def test_stop_on_the_bridge_of_2s():
    run = Run(only(demo_course(), "E", E_BRIDGE))
    assert e_run(stop_at=deck(run).start + 0.5, stop=2.0).rules_hit() == []


# --- three-wheeler (C4): rear_left over A, then rear_right over B; no deck sensors ---------------

def c4_run(first_v, second_v):
    """Drive the rear axle at ``first_v`` past deck A, then shift to ``second_v`` for deck B."""
    run = Run(only(demo_course(), "C4", C4_BRIDGE), model="C4-01")
    item = run.item(C4_BRIDGE)
    a, b = item.decks["A"], item.decks["B"]
    shift_from, shift_to = a.end + 0.8, b.start - 0.8

    def lateral(u):
        k = min(max((u - shift_from) / (shift_to - shift_from), 0.0), 1.0)
        return first_v + (second_v - first_v) * (1 - math.cos(math.pi * k)) / 2

    run.at(C4_BRIDGE, -3.0, lateral(-3.0), point="rear_axle").start().hold(0.5)
    run.go(C4_BRIDGE, past_exit(run, C4_BRIDGE) - run.model.wheelbase, lateral, point="rear_axle", speed=1.0)
    return run


def test_clean_three_wheeler():
    # deck A at v = +1.05, B at −1.05, track 1.1: rear axle at ±0.5 puts each rear wheel on its deck
    result = c4_run(0.5, -0.5).judge()
    assert result.deductions == ()
    assert result.status.value == "passed"


def test_three_wheeler_right_wheel_misses_deck_b():
    assert c4_run(0.5, -0.2).rules_hit() == ["bridge.wheel_not_mounted"]


def test_three_wheeler_missing_both_bridges_is_two_deductions():
    # between the decks all the way: each bridge the vehicle should have crossed counts once
    result = c4_run(0.0, 0.0).judge()
    assert [(d.rule, d.detail) for d in result.deductions] == [
        ("bridge.wheel_not_mounted", "rear_left wheel, deck A"), ("bridge.wheel_not_mounted", "rear_right wheel, deck B")]


def test_three_wheeler_wrong_wheel_on_deck_a():
    # rear axle at +1.6: the right rear wheel runs on deck A
    assert c4_run(1.6, -0.5).rules_hit()[0] == "bridge.wrong_route"


@pytest.mark.parametrize("first_v", [0.45, 0.55])
def test_three_wheeler_within_the_deck_width(first_v):
    # the deck is 0.20 m wide: ±0.05 m off its centre line the wheel stays on it
    assert c4_run(first_v, -0.5).rules_hit() == []


# --- 单边桥 never mounted, in every class that has the item: one deduction per bridge ------------

BRIDGE_CLASSES = [("E", 1.9, 0.75, None), ("F", 1.73, 0.7, None), ("D", 3.05, 1.6, "three_wheeler"),
                  ("D", 3.05, 1.6, "sidecar"), ("C4", 3.6, 1.3, None)]


@pytest.mark.parametrize("cls,length,width,kind", BRIDGE_CLASSES)
def test_driving_past_every_bridge_is_one_deduction_per_bridge(cls, length, width, kind):
    from examroom.coursetools.builder import VehicleSpec, build_course
    from scoring.course import parse_course

    course = parse_course(build_course(VehicleSpec(cls, length, width, kind=kind)))
    item_id = f"{cls.lower()}_bridge"
    run = Run(only(course, cls, item_id), model=f"{cls}-01", vehicle_class=cls)
    item = run.item(item_id)
    decks = [sorted(item.to_item(p)[1] for p in deck.polygon.exterior.coords) for deck in item.decks.values()]

    def clear(v):  # every wheel at least 0.1 m beside every deck
        run.at(item_id, -3.0, v, point="rear_axle")
        placed = run.model.place(run.x, run.y, run.heading)
        wheels = [item.to_item(placed.point(w))[1] for w in run.model.wheel_names]
        return all(w < vs[0] - 0.1 or w > vs[-1] + 0.1 for w in wheels for vs in decks)

    beside = min((v / 20 for v in range(-30, 31) if clear(v / 20)), key=abs)
    run.at(item_id, -3.0, beside, point="rear_axle").start().hold(0.5)
    run.go(item_id, past_exit(run, item_id) - run.model.wheelbase, beside, point="rear_axle", speed=1.0)
    result = run.judge()
    bridges = item.pattern(run.model.kind)
    assert [d.rule for d in result.deductions] == ["bridge.wheel_not_mounted"] * len(bridges)
    assert [d.detail.split("deck ")[1] for d in result.deductions] == [deck for deck, _ in bridges]
    assert result.score == 100 - 10 * len(bridges)

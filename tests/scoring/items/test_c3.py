"""The C3 (and M) items: a scripted clean run and each failure mode of 倒车入库, 侧方停车, 曲线行驶, 直角转弯.

Courses come from config/courses/c3.toml (geometry generated from a 4.5 m × 1.7 m
低速载货汽车). Scripts move the rear axle along item-frame paths (streams.Run.follow),
which is the vehicle model's exact kinematics forward and backward.
"""

from functools import lru_cache

import pytest

from scoring.course import load_course
from scoring.events import Status
from scoring.observations import Gear
from tests.scoring.streams import ROOT, Run, arc, only, s_bend

C3_COURSE = ROOT / "config" / "courses" / "c3.toml"
CLASSES = ("C3", "M")


@lru_cache(maxsize=None)
def c3_course():
    return load_course(C3_COURSE)


def course_for(cls, item):
    return only(c3_course(), cls, item)


def run_for(cls, item):
    return Run(course_for(cls, item), model="C3-01", vehicle_class=cls)


# --- 曲线行驶 ---------------------------------------------------------------------------------

def curve_run(cls="C3", lateral=0.0, stop=0.0, gear=Gear.G2):
    run = run_for(cls, "c3_curve").set(gear=gear)
    item = run.item("c3_curve")
    centre = [item.to_item(p) for p in item.centre]
    path = [(u, v + lateral) for u, v in centre]
    run.at("c3_curve", -4.0, lateral, point="rear_axle").start().hold(0.5)
    half = len(path) // 2
    run.follow("c3_curve", [(-3.0, lateral)] + path[:half], speed=2.0)
    if stop:
        run.stand(stop)
    end_u, end_v = centre[-1]
    run.follow("c3_curve", path[half:] + [(end_u + 2.0, end_v + lateral)], speed=2.0).hold(1.0)
    return run


@pytest.mark.parametrize("cls", CLASSES)
def test_curve_clean(cls):
    result = curve_run(cls).judge()
    assert result.status == Status.PASSED and result.deductions == ()
    assert [i.id for i in result.items] == ["c3_curve"] and result.items[0].finished_t is not None


@pytest.mark.parametrize("cls", CLASSES)
def test_curve_wheel_on_the_edge_line_fails(cls):
    result = curve_run(cls, lateral=1.0).judge()  # rear wheels 0.7 m each side: one reaches the line
    assert [d.rule for d in result.deductions] == ["curve.edge_line_touched"] and result.status == Status.FAILED


def test_curve_stop_over_2s_fails_and_2s_does_not():
    assert curve_run(stop=2.6).rules_hit() == ["curve.stop"]
    assert curve_run(stop=1.8).rules_hit() == []


def test_curve_low_gear_is_off_by_default_and_a_province_can_switch_it_on():
    from scoring.rules import RuleChange, Overrides
    from tests.scoring.streams import ruleset

    run = curve_run(gear=Gear.G1)
    assert run.rules_hit() == []
    on = ruleset().with_overrides(Overrides(rules={"curve.low_gear": RuleChange(enabled=True)}), "province:汕尾")
    assert run.rules_hit(on) == ["curve.low_gear"]


# --- 直角转弯 ---------------------------------------------------------------------------------

def angle_run(cls="C3", signal="left", off_after=True, inner=1.6, stop=0.0):
    run = run_for(cls, "c3_angle")
    item = run.item("c3_angle")
    half, leg = item.road_width / 2, 6.75  # 1.5 × 4.5 m
    v0 = half - inner
    run.at("c3_angle", -4.0, v0, point="rear_axle").start().hold(0.5)
    run.follow("c3_angle", [(leg - 3.0, v0)], speed=1.5)
    if signal:
        run.set(left_turn=signal == "left", right_turn=signal == "right")
    run.follow("c3_angle", [(leg, v0)], speed=1.5)
    if stop:
        run.stand(stop)
    run.follow("c3_angle", arc(leg, half, inner, -90, 0), speed=1.5)
    run.follow("c3_angle", [(leg + inner, half + 1.0)], speed=1.5)
    if off_after:
        run.set(left_turn=False, right_turn=False)
    run.follow("c3_angle", [(leg + inner, half + leg + 1.0 + 4.5)], speed=1.5).hold(1.0)
    return run


@pytest.mark.parametrize("cls", CLASSES)
def test_angle_clean(cls):
    result = angle_run(cls).judge()
    assert result.status == Status.PASSED and result.deductions == () and result.items[0].finished_t


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("inner,line", [(0.5, "edge_inner"), (2.3, "edge_outer")])
def test_angle_wheel_on_an_edge_line_fails(cls, inner, line):
    # 0.5 m: the inner wheels cut the corner; 2.3 m: the front outer wheel swings over the outer edge
    result = angle_run(cls, inner=inner).judge()
    assert [d.rule for d in result.deductions] == ["angle.edge_line_touched"] and line in result.deductions[0].detail


@pytest.mark.parametrize("signal,off_after,detail", [
    (None, True, "no turn signal"), ("right", True, "wrong turn signal"), ("left", False, "left on after"),
])
def test_angle_turn_signal(signal, off_after, detail):
    result = angle_run(signal=signal, off_after=off_after).judge()
    assert [d.rule for d in result.deductions] == ["angle.turn_signal"] and detail in result.deductions[0].detail
    assert result.score == 90


def test_angle_stop():
    assert angle_run(stop=2.6).rules_hit() == ["angle.stop"]
    assert angle_run(stop=1.9).rules_hit() == []


def test_vehicle_without_turn_signals_is_not_judged_on_them():
    run = angle_run(signal=None)
    for i, obs in enumerate(run.obs):
        if obs.kind == "signals":
            run.obs[i] = type(obs)(**{**{f: getattr(obs, f) for f in obs.__dataclass_fields__ if f != "kind"},
                                     "left_turn": None, "right_turn": None})
    assert run.rules_hit() == []


# --- 倒车入库 ---------------------------------------------------------------------------------
# Item frame: control line A at u = 0, the lane v ∈ [−3.375, 3.375], the bay u ∈ [6.75, 9.05],
# v ∈ [−8.575, −3.375], control line B at u = 15.8. The rear axle drives on the lane's centre
# and turns on r = 3.375 onto the bay's centre line.

MOUTH = -3.375
BAY_U, LANE_V, R, DEEP = 7.9, 0.0, 3.375, MOUTH - 3.9
LINE_B = 15.8


def reverse_run(cls="C3", turn_at=LINE_B - 2.0, deep=DEEP, skip_second=False, wait=0.0, wrong_way=False,
                far=0.0, out_a_to=-3.2, turn_wait=1.0, ramp=None):
    """In over A, reverse into the bay from past B, out to past A, reverse in again, out past B.

    ``turn_wait``: the stop before each reverse (s); ``wait``: the stop in the bay beyond 1 s."""
    run = run_for(cls, "c3_reverse")
    run.ramp = ramp
    run.at("c3_reverse", -5.0, LANE_V, point="rear_axle").start().hold(0.5)
    run.follow("c3_reverse", [(turn_at, LANE_V)], speed=2.0).hold(turn_wait)
    run.set(gear=Gear.REVERSE)
    run.follow("c3_reverse", [(BAY_U + R, LANE_V)] + arc(BAY_U + R, LANE_V - R, R, 90, 180)
               + [(BAY_U, deep + far)], speed=1.0, reverse=True).hold(1.0 + wait)
    run.set(gear=Gear.G1)
    if wrong_way:  # out of the bay toward B instead of A
        run.follow("c3_reverse", [(BAY_U, MOUTH)] + arc(BAY_U + R, MOUTH, R, 180, 90) + [(LINE_B + 1.0, LANE_V)],
                   speed=1.0)
        return run.hold(1.0)
    run.follow("c3_reverse", [(BAY_U, MOUTH)] + arc(BAY_U - R, MOUTH, R, 0, 90) + [(out_a_to, LANE_V)], speed=1.0)
    run.hold(turn_wait)
    if not skip_second:
        run.set(gear=Gear.REVERSE)
        run.follow("c3_reverse", [(BAY_U - R, LANE_V)] + arc(BAY_U - R, MOUTH, R, 90, 0) + [(BAY_U, deep)],
                   speed=1.0, reverse=True).hold(1.0 + wait)
        run.set(gear=Gear.G1)
    run.follow("c3_reverse", [(BAY_U, MOUTH)] + arc(BAY_U + R, MOUTH, R, 180, 90) + [(LINE_B + 3.0, LANE_V)],
               speed=1.0).hold(1.0)
    return run


@pytest.mark.parametrize("cls", CLASSES)
def test_reverse_clean(cls):
    result = reverse_run(cls).judge()
    assert result.status == Status.PASSED and result.deductions == (), result.deductions
    assert result.items[0].finished_t is not None


@pytest.mark.parametrize("cls", CLASSES)
def test_reverse_before_the_front_wheels_pass_line_b_fails(cls):
    # rear axle at 12.5: the front wheels (2.6 m ahead) are 0.7 m short of line B
    assert reverse_run(cls, turn_at=LINE_B - 3.3).rules_hit() == ["reverse.front_wheels_short"]


@pytest.mark.parametrize("cls", CLASSES)
def test_reverse_not_into_the_bay_fails(cls):
    # stops with the rear axle at −1.5: the front 2.05 m out of the bay
    assert reverse_run(cls, deep=-1.5).rules_hit() == ["reverse.not_in_bay"]


@pytest.mark.parametrize("cls", CLASSES)
def test_reverse_through_the_back_line_fails(cls):
    assert reverse_run(cls, far=-0.6).rules_hit() == ["reverse.body_out"]  # rear bumper 0.25 m past the back line


def test_reverse_leaving_the_wrong_way_fails():
    assert reverse_run(wrong_way=True).rules_hit() == ["reverse.wrong_route"]


def test_reverse_second_reverse_before_line_a_fails():
    # out of the bay only to rear axle u = 3.0: the front wheels (2.6 m ahead, toward A) are at 0.4
    assert reverse_run(out_a_to=3.0).rules_hit() == ["reverse.front_wheels_short"]


def test_fix_landing_exactly_on_the_entry_line_still_starts_the_item():
    run = run_for("C3", "c3_reverse")
    run.at("c3_reverse", -5.0, LANE_V, point="rear_axle").start().hold(0.5)
    run.follow("c3_reverse", [(4.0, LANE_V)], speed=2.0)  # the front axle lands on u = 0 at a fix
    assert [i.id for i in run.judge().items] == ["c3_reverse"]


def test_reverse_stop_in_the_bay_is_the_route_but_a_stop_on_the_way_is_not():
    assert reverse_run(wait=5.0).rules_hit() == []  # stopped in the bay: part of the route
    run = run_for("C3", "c3_reverse")
    run.at("c3_reverse", -5.0, LANE_V, point="rear_axle").start().hold(0.5)
    run.follow("c3_reverse", [(4.0, LANE_V)], speed=2.0).hold(2.6)
    result = run.judge()
    assert [d.rule for d in result.deductions] == ["reverse.stop"] and result.deductions[0].value > 2.0


def test_reverse_time_limit():
    run = reverse_run(wait=200.0)  # a long wait in the bay: the item timer runs on
    result = run.judge()
    assert [d.rule for d in result.deductions] == ["reverse.time_limit"]
    assert 210.0 < result.deductions[0].value <= 211.0


# --- 侧方停车 ---------------------------------------------------------------------------------
# Item frame: the lane v ∈ [−1.675, 1.675] (1.5 × 1.7 + 0.8 m), the slot u ∈ [5.5, 12.25]
# (1.5 × 4.5 m), v ∈ [−4.175, −1.675] (1.7 + 0.8 m); the item ends when the tail passes u = 12.25.

SLOT_V, PARK_U = -2.925, 6.9


def parallel_run(cls="C3", park_u=PARK_U, park_v=SLOT_V, signal="left", wait=1.0, pull_to=PARK_U + 6.5,
                 out_length=5.0, stop_leaving=0.0, hesitate=0.0, turn_wait=1.0, ramp=None):
    run = run_for(cls, "c3_parallel")
    run.ramp = ramp
    run.at("c3_parallel", -5.0, 0.0, point="rear_axle").start().hold(0.5)
    run.follow("c3_parallel", [(pull_to, 0.0)], speed=2.0).hold(turn_wait)
    run.set(gear=Gear.REVERSE)
    bend = s_bend(pull_to, 0.0, park_u, park_v)
    if hesitate:
        run.follow("c3_parallel", bend[:20], speed=1.0, reverse=True).stand(hesitate)
        bend = bend[20:]
    run.follow("c3_parallel", bend, speed=1.0, reverse=True).hold(wait)
    run.set(gear=Gear.G1)
    if signal:
        run.set(left_turn=signal == "left", right_turn=signal == "right")
    run.hold(0.3)  # signal on, then move off
    run.follow("c3_parallel", s_bend(park_u, park_v, park_u + out_length, 0.0), speed=1.0)
    if stop_leaving:
        run.hold(stop_leaving)
    run.set(left_turn=False, right_turn=False)
    run.follow("c3_parallel", [(16.0, 0.0)], speed=1.5).hold(1.0)
    return run


@pytest.mark.parametrize("cls", CLASSES)
def test_parallel_clean(cls):
    result = parallel_run(cls).judge()
    assert result.status == Status.PASSED and result.deductions == (), result.deductions
    assert result.items[0].finished_t is not None


@pytest.mark.parametrize("cls", CLASSES)
def test_parallel_parked_over_the_slot_line_fails(cls):
    # parked 0.5 m too far back: the rear bumper over the back line
    assert parallel_run(cls, park_u=PARK_U - 1.9).rules_hit()[-1] == "parallel.body_out"


@pytest.mark.parametrize("cls", CLASSES)
def test_parallel_wheel_on_the_lane_line_each_time(cls):
    # pulling forward along the lane's left side: the left wheels on the far lane line
    run = run_for(cls, "c3_parallel")
    run.at("c3_parallel", -5.0, 0.0, point="rear_axle").start().hold(0.5)
    run.follow("c3_parallel", [(1.0, 0.0)], speed=2.0)
    run.follow("c3_parallel", [(3.0, 1.1), (5.0, 1.1), (6.0, 0.0), (8.0, 0.0), (9.0, 1.1), (11.0, 1.1)], speed=2.0)
    result = run.judge()
    assert [d.rule for d in result.deductions] == ["parallel.lane_line", "parallel.lane_line"]
    assert result.score == 80  # −10 each time: two separate touches


@pytest.mark.parametrize("cls", CLASSES)
def test_parallel_body_on_the_slot_line_while_moving(cls):
    # parked 0.7 m further forward: leaving, the front swings over the slot's front line
    result = parallel_run(cls, park_u=PARK_U + 0.7).judge()
    assert [d.rule for d in result.deductions] == ["parallel.slot_line"] and "slot_front" in result.deductions[0].detail


def test_parallel_slot_line_is_named_among_the_slot_lines():
    """The front corner swings over the slot's front line close to where it meets the lane's near
    line: the reason names the slot line, whatever the noise margin (with line_margin 2.5 or 3 cm
    the nearest of all lines to the overlap was once the lane's, lane_near_after)."""
    from scoring.rules import Overrides
    from tests.scoring.streams import ruleset

    run = parallel_run(park_u=PARK_U + 0.7)
    for margin in (0.025, 0.03):
        rules = ruleset().with_overrides(Overrides(measurement={"line_margin": margin}, source="test"), "course:test")
        result = run.judge(rules)
        assert [(d.rule, d.detail) for d in result.deductions] == [("parallel.slot_line", "body on slot_front")]


@pytest.mark.parametrize("signal", [None, "right"])
def test_parallel_exit_signal(signal):
    result = parallel_run(signal=signal).judge()
    assert [d.rule for d in result.deductions] == ["parallel.exit_signal"] and result.score == 90


def test_parallel_stops():
    assert parallel_run(wait=10.0).rules_hit() == []  # the stop in the slot is the route
    assert parallel_run(hesitate=2.6).rules_hit() == ["parallel.stop"]  # halfway in
    assert parallel_run(hesitate=1.9).rules_hit() == []


def test_parallel_time_limit():
    result = parallel_run(wait=95.0).judge()
    assert [d.rule for d in result.deductions] == ["parallel.time_limit"]
    assert 90.0 < result.deductions[0].value <= 91.0

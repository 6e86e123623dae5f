"""The reason is the right one (issue 11 item 4): each failure mode gives the rule the standard names
for what happened, with that rule's national (or local) code and its title as the attempt's reason —
in every class that has the item. Not only the verdict: the rule id, the code and the reason."""

import pytest

from scoring.events import Status
from tests.scoring.items.test_bay_shift import CASES, RULE, bay_run, kind
from tests.scoring.items.test_c3 import CLASSES, DEEP, LINE_B, parallel_run, reverse_run
from tests.scoring.streams import ruleset


def assert_reason(result, rule_id):
    rule = ruleset().rule(rule_id)
    assert [(d.rule, d.code) for d in result.deductions] == [(rule_id, rule.code)], result.deductions
    if rule.disqualify:
        assert result.status == Status.FAILED and result.reason == f"不合格: {rule.title}"


@pytest.mark.parametrize("cls,item_id,model", CASES)
def test_bay_shift_wholly_into_the_wrong_bay_is_the_wrong_route(cls, item_id, model):
    result = bay_run(cls, item_id, model, into_a_first=True).judge()
    assert_reason(result, RULE[kind(item_id)]["route"])
    assert "into bay A, not bay B" in result.deductions[0].detail


BAY_MODES = {
    "bay": dict(front_out=0.3),  # the front out of the right bay's mouth: 移库不入
    "pole": dict(offset_b=0.6),
    "out": dict(back_out=0.2),
    "route": dict(shuffle_end=True),
}


@pytest.mark.parametrize("cls,item_id,model", CASES)
@pytest.mark.parametrize("mode", sorted(BAY_MODES))
def test_bay_shift_failure_modes(cls, item_id, model, mode):
    assert_reason(bay_run(cls, item_id, model, **BAY_MODES[mode]).judge(), RULE[kind(item_id)][mode])


REVERSE_MODES = {
    "reverse.front_wheels_short": dict(turn_at=LINE_B - 3.3),
    "reverse.not_in_bay": dict(deep=-1.5),
    "reverse.body_out": dict(far=-0.6),
    "reverse.wrong_route": dict(wrong_way=True),
    "reverse.time_limit": dict(wait=200.0),
}


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("rule_id", sorted(REVERSE_MODES))
def test_reverse_failure_modes(cls, rule_id):
    assert_reason(reverse_run(cls, **REVERSE_MODES[rule_id]).judge(), rule_id)


PARALLEL_MODES = {
    "parallel.exit_signal": dict(signal=None),
    "parallel.slot_line": dict(park_u=6.9 + 0.7),
    "parallel.stop": dict(hesitate=2.6),
    "parallel.time_limit": dict(wait=95.0),
}


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("rule_id", sorted(PARALLEL_MODES))
def test_parallel_failure_modes(cls, rule_id):
    assert_reason(parallel_run(cls, **PARALLEL_MODES[rule_id]).judge(), rule_id)


def test_reverse_modes_cover_the_items_auto_rules():
    auto = {r.id for r in ruleset().rules.values() if r.item == "reverse" and r.detector == "auto"}
    assert auto - set(REVERSE_MODES) == {"reverse.stop"}  # the stop: tests/scoring/test_limits.py
    assert DEEP < 0


@pytest.mark.parametrize("cls", CLASSES)
def test_reversing_a_third_time_is_the_wrong_route_not_the_control_line(cls):
    from scoring.observations import Gear
    from tests.scoring.items.test_c3 import BAY_U, LANE_V, MOUTH, R, arc, run_for

    # both reverses as the route has them, then out of the bay a metre and back into it again
    run = run_for(cls, "c3_reverse")
    run.at("c3_reverse", -5.0, LANE_V, point="rear_axle").start().hold(0.5)
    run.follow("c3_reverse", [(LINE_B - 2.0, LANE_V)], speed=2.0).hold(1.0).set(gear=Gear.REVERSE)
    run.follow("c3_reverse", [(BAY_U + R, LANE_V)] + arc(BAY_U + R, LANE_V - R, R, 90, 180) + [(BAY_U, DEEP)],
               speed=1.0, reverse=True).hold(1.0).set(gear=Gear.G1)
    run.follow("c3_reverse", [(BAY_U, MOUTH)] + arc(BAY_U - R, MOUTH, R, 0, 90) + [(-3.2, LANE_V)], speed=1.0)
    run.hold(1.0).set(gear=Gear.REVERSE)
    run.follow("c3_reverse", [(BAY_U - R, LANE_V)] + arc(BAY_U - R, MOUTH, R, 90, 0) + [(BAY_U, DEEP)],
               speed=1.0, reverse=True).hold(1.0).set(gear=Gear.G1)
    run.follow("c3_reverse", [(BAY_U, MOUTH - 1.0)], speed=1.0).hold(1.0).set(gear=Gear.REVERSE)
    run.follow("c3_reverse", [(BAY_U, DEEP)], speed=1.0, reverse=True).hold(1.0)  # back into the bay again
    assert_reason(run.judge(), "reverse.wrong_route")

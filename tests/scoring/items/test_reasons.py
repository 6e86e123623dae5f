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

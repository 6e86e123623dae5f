"""The rule set: its contents, its validation, and that every rule is exercised."""

import copy
import re
import tomllib
from pathlib import Path

import pytest

from scoring.rules import (
    Overrides,
    RuleChange,
    RuleSetError,
    load_ruleset,
    parse_ruleset,
    ruleset_to_dict,
)
from scoring.vehicle import VEHICLE_CLASSES
from scoring.observations import CommandAction
from tests.scoring.streams import RULESET, Run, demo_course, only, ruleset

TESTS = Path(__file__).resolve().parent


def raw():
    return tomllib.loads(RULESET.read_text(encoding="utf-8"))


def test_pass_mark_and_start_score_are_data():
    rules = ruleset()
    assert (rules.start_score, rules.pass_mark, rules.id) == (100, 80, "ga1026-2022")


def test_ids_are_unique_and_every_rule_is_documented():
    ids = [r["id"] for r in raw()["rules"]]
    assert len(ids) == len(set(ids))
    for rule in ruleset().rules.values():
        assert rule.title.strip() and rule.title_en.strip() and rule.source.strip(), rule.id
        assert re.search(r"research\.md §\d", rule.source), rule.id
        assert rule.covers, rule.id
        assert rule.code_local == rule.code.startswith("9"), rule.id


def test_every_research_row_is_covered_once():
    covered = [row for rule in ruleset().rules.values() for row in rule.covers]
    expected = {f"G{i}" for i in range(1, 7)} | {f"M{i}" for i in range(1, 9)} | {f"P{i}" for i in range(1, 9)} \
        | {f"H{i}" for i in range(1, 11)} | {f"B{i}" for i in range(1, 6)} \
        | {f"R{i}" for i in range(1, 7)} | {f"S{i}" for i in range(1, 7)} | {f"A{i}" for i in range(1, 4)} \
        | {f"C{i}" for i in range(1, 4)} | {f"T{i}" for i in range(1, 10)}
    # G1 is one row for two signals: the seat belt (C4) and the helmet (D/E/F)
    assert sorted(covered) == sorted(list(expected) + ["G1"])


def test_values_from_the_decisions():
    rules = ruleset()
    assert rules.rule("bridge.wheel_not_mounted").points == 10 and rules.rule("bridge.wheel_not_mounted").each_time
    assert rules.rule("bridge.stop").points == 5 and rules.rule("bridge.stop").params["duration"].value == 2.0
    assert rules.rule("hill.stop_offset_minor").points == 10
    assert rules.rule("hill.rollback_minor").points == 5
    assert rules.rule("general.stall").code == "10210"
    assert rules.rule("pile.time_limit").enabled is False
    assert rules.rule("pile.bay_not_entered").layouts == ("bay_shift",)
    assert rules.rule("general.foot_down_or_weave").classes == ("E", "F")


@pytest.mark.parametrize("rule_id,value,expected", [
    ("hill.stop_offset_major", 0.50, False), ("hill.stop_offset_major", 0.501, True),  # 超出50cm: > 0.5
    ("hill.stop_offset_minor", 0.50, True),  # 不超出50cm: ≤ 0.5
    ("hill.edge_gap_minor", 0.30, False), ("hill.edge_gap_minor", 0.50, True),  # 超出30cm，未超出50cm
    ("hill.edge_gap_major", 0.50, False),  # 超过50cm
    ("hill.rollback_minor", 0.10, False), ("hill.rollback_minor", 0.30, False),  # 大于10cm，小于30cm
    ("hill.rollback_major", 0.30, False),  # 大于30cm
    ("general.rollback_minor", 0.30, False), ("general.rollback_minor", 0.299, True),
    ("hill.start_timeout", 30.0, False), ("hill.start_timeout", 30.001, True),  # 超过30s
    ("pile.stop", 2.0, False), ("general.starter_held", 2.0, False),
    # the C3 items and the tractor course
    ("reverse.time_limit", 210.0, False), ("reverse.time_limit", 210.001, True),  # 超过210s
    ("parallel.time_limit", 90.0, False), ("parallel.time_limit", 90.001, True),  # 超过90s
    ("reverse.stop", 2.0, False), ("reverse.stop", 2.001, True), ("parallel.stop", 2.0, False),
    ("angle.stop", 2.0, False), ("angle.stop", 2.001, True), ("curve.stop", 2.0, False), ("curve.stop", 2.001, True),
    ("field.stops", 2, True), ("field.stops", 1, False),  # 两次以上: 以上 includes 2
])
def test_boundaries_follow_the_legal_convention(rule_id, value, expected):
    assert ruleset().rule(rule_id).triggered_by(value) is expected


def _test_sources():
    return "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py") if p.name != "test_rules.py")


def test_every_auto_rule_is_exercised_by_a_test():
    sources = _test_sources()
    missing = [r.id for r in ruleset().rules.values() if r.detector == "auto" and f'"{r.id}"' not in sources]
    assert missing == []


def _manual_cases():
    return [(r.id, cls) for r in ruleset().rules.values() if r.detector == "manual" for cls in r.classes]


@pytest.mark.parametrize("rule_id,vehicle_class", _manual_cases())
def test_every_manual_rule_can_be_applied(rule_id, vehicle_class):
    from tests.scoring.items.test_bay_shift import bay_course
    from tests.scoring.items.test_c3 import c3_course

    if vehicle_class in ("C3", "M"):
        base, model = c3_course(), "C3-01"
    elif vehicle_class in ("G1", "G2", "K1", "K2"):
        base, model = bay_course(), "G1-01" if vehicle_class.startswith("G") else "K2-01"
    else:
        # the demo course has items for E and C4 only: D and F borrow the E items here
        base, model = demo_course(), "C4-01" if vehicle_class == "C4" else "E-01"
    donor = base.vehicle(model).vehicle_class
    course = only(base, vehicle_class, *base.order[donor])
    run = Run(course, model=model, vehicle_class=vehicle_class)
    run.at(course.order[vehicle_class][0], -3.0).start().hold(0.5)
    run.command(CommandAction.MANUAL_FAIL, rule=rule_id).hold(0.5)
    deductions = run.judge().deductions
    assert [d.rule for d in deductions] == [rule_id]


def test_ruleset_to_dict():
    data = ruleset_to_dict(ruleset())
    assert data["pass_mark"] == 80 and len(data["rules"]) == len(ruleset().rules)
    helmet = next(r for r in data["rules"] if r["id"] == "general.helmet")
    assert helmet["points"] == 100 and helmet["disqualify"] and helmet["title"] == "不按规定戴安全头盔"
    assert data["measurement"]["walking_pace"]["unit"] == "m/s"
    c4 = ruleset_to_dict(ruleset(), vehicle_class="C4")
    assert "general.seatbelt" in [r["id"] for r in c4["rules"]]
    assert "general.helmet" not in [r["id"] for r in c4["rules"]]


def test_overrides_change_thresholds_and_enable_rules():
    changed = ruleset().with_overrides(Overrides(
        rules={"pile.time_limit": RuleChange(params={"limit": 480.0}, enabled=True)},
        measurement={"walking_pace": 1.4}), "province:甘肃")
    assert changed.id == "ga1026-2022+province:甘肃"
    assert changed.rule("pile.time_limit").triggered_by(481.0)
    assert changed.measure("walking_pace") == 1.4
    assert ruleset().measure("walking_pace") == 1.0  # the original is untouched
    assert changed.with_overrides(Overrides(measurement={"walking_pace": 1.4}), "province:甘肃") is changed


def test_override_that_breaks_minor_below_major():
    with pytest.raises(RuleSetError, match="above the 不合格 threshold"):
        ruleset().with_overrides(Overrides(rules={"hill.rollback_minor": RuleChange(params={"rollback_max": 0.4})}), "x")


def _rule(data, rule_id):
    return next(r for r in data["rules"] if r["id"] == rule_id)


BROKEN = [
    ("duplicate id", lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])), r"rules\[\d+\]\.id: duplicate rule id"),
    ("unknown item", lambda d: _rule(d, "pile.stop").update(item="tunnel"), r"\.item: unknown value 'tunnel'"),
    ("points and disqualify", lambda d: _rule(d, "pile.stop").update(disqualify=True),
     r"give either points or disqualify"),
    ("neither", lambda d: _rule(d, "pile.stop").pop("points"), r"give either points or disqualify"),
    ("unit", lambda d: _rule(d, "pile.stop")["params"]["duration"].update(unit="min"), r"duration\.unit: unknown value"),
    ("comparator", lambda d: _rule(d, "pile.stop")["params"]["duration"].update(comparator="~"), r"comparator"),
    ("minor above major", lambda d: _rule(d, "hill.edge_gap_minor")["params"]["gap_max"].update(value=0.6),
     r"minor threshold 0.6 m is above the 不合格 threshold 0.5 m of hill.edge_gap_major"),
    ("major unknown", lambda d: _rule(d, "hill.edge_gap_minor").update(major="hill.nope"), r"major: no rule"),
    ("code", lambda d: _rule(d, "pile.stop").update(code="B101"), r"code must be 5 digits"),
    ("class", lambda d: _rule(d, "pile.stop").update(classes=["C1"]), r"classes\[0\]: unknown value 'C1'"),
    ("missing source", lambda d: _rule(d, "pile.stop").pop("source"), r"source: missing field"),
    ("unknown key", lambda d: _rule(d, "pile.stop").update(pionts=5), r"unknown key\(s\): pionts"),
    ("enabled without value", lambda d: _rule(d, "pile.time_limit").update(enabled=True),
     r"limit: an enabled rule needs a value"),
    ("missing measurement", lambda d: d["measurement"].pop("walking_pace"), r"measurement: missing setting\(s\)"),
    ("measurement unit", lambda d: d["measurement"]["walking_pace"].update(unit="s"), r"walking_pace\.unit: unit must be"),
    ("pass mark", lambda d: d["ruleset"].update(pass_mark=120), r"ruleset\.pass_mark: pass mark 120 is above"),
    ("empty range", lambda d: _rule(d, "hill.rollback_minor")["params"]["rollback_min"].update(value=0.3),
     r"params: empty range"),
]


@pytest.mark.parametrize("name,change,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rule_set(name, change, message):
    data = raw()
    change(data)
    with pytest.raises(RuleSetError, match=message):
        parse_ruleset(data)


def test_load_ruleset_names_the_file(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text("[ruleset\n")
    with pytest.raises(RuleSetError, match="r.toml: not valid TOML"):
        load_ruleset(path)


def test_classes_are_the_five_small_vehicle_set():
    assert VEHICLE_CLASSES == ("C3", "M", "C4", "D", "E", "F", "G1", "G2", "K1", "K2")


def test_every_class_has_rules_and_an_item_rule():
    for cls in VEHICLE_CLASSES:
        rules = [r for r in ruleset().rules.values() if cls in r.classes]
        assert any(r.item != "general" for r in rules), cls
        assert any(r.item == "general" for r in rules), cls

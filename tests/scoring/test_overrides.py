"""Versions, province and course overrides, and the effective rule set's snapshot."""

import dataclasses
import json

import pytest

from scoring.course import parse_course
from scoring.observations import CommandAction
from scoring.overrides import apply_overrides, effective_ruleset, load_override_file, read_overrides
from scoring.fields import Fields
from scoring.rule_snapshot import ruleset_from_dict
from scoring.rules import RuleSetError, load_ruleset, ruleset_hash, ruleset_to_dict
from tests.scoring.streams import ROOT, Run, demo_course, only, ruleset

RULES_DIR = ROOT / "config" / "rules"
EXAMPLE = RULES_DIR / "provinces" / "example.toml"


def ga2012():
    return load_ruleset(RULES_DIR / "ga1026-2012.toml")


def overrides(body: dict):
    return read_overrides(Fields(body, "", RuleSetError))


# --- versions -------------------------------------------------------------------------------

def test_2012_differs_from_2022_where_research_says_so():
    old, new = ga2012(), ruleset()
    assert (old.id, old.standard) == ("ga1026-2012", "GA 1026-2012")
    assert old.rule("hill.stop_offset_minor").points == 20 and new.rule("hill.stop_offset_minor").points == 10
    assert old.rule("bridge.wheel_not_mounted").points == 20 and new.rule("bridge.wheel_not_mounted").points == 10
    assert old.rule("hill.rollback_minor").points == 10 and new.rule("hill.rollback_minor").points == 5
    assert not old.rule("hill.edge_gap_major").enabled and not old.rule("hill.start_timeout").enabled
    # "30cm以上" includes 30 cm; the 2022 "超出30cm" excludes it
    assert old.rule("hill.edge_gap_minor").triggered_by(0.30) and not new.rule("hill.edge_gap_minor").triggered_by(0.30)
    assert old.rule("hill.edge_gap_minor").triggered_by(0.70)  # no upper bound: H3 is not in the 2012 list
    assert set(old.rules) == set(new.rules)
    assert old.rule("general.stall") == new.rule("general.stall")  # inherited unchanged
    assert "extends ga1026-2022" in old.layers[0].detail


def test_2012_judges_the_same_stream_differently():
    from tests.scoring.items.test_hill import hill_run  # a hill run stopping 0.3 m short

    run = hill_run(offset=-0.3)
    assert run.rules_hit(ruleset()) == ["hill.stop_offset_minor"]
    assert run.judge(ruleset()).score == 90 and run.judge(ga2012()).score == 80


def test_extends_loops_and_missing_bases_are_refused(tmp_path):
    a = tmp_path / "a.toml"
    a.write_text('[ruleset]\nid = "a"\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match="extends itself"):
        load_ruleset(a)
    a.write_text('[ruleset]\nid = "a"\nextends = "nope.toml"\n', encoding="utf-8")
    with pytest.raises(RuleSetError, match="no rule set file nope.toml"):
        load_ruleset(a)


# --- overrides ------------------------------------------------------------------------------

def test_province_file_changes_adds_and_switches_off_with_its_source():
    province = load_override_file(EXAMPLE)
    assert province.label == "province:示例省"
    changed = effective_ruleset(ruleset(), (province,))
    assert changed.id == "ga1026-2022+province:示例省"
    limit = changed.rule("pile.time_limit")
    assert limit.enabled and limit.triggered_by(480.001) and not limit.triggered_by(480.0)
    assert [(c.what, c.before, c.after) for c in limit.history] == [("params.limit", None, 480.0),
                                                                     ("enabled", False, True)]
    assert "research.md §1.3" in limit.history[0].source
    off = changed.rule("general.gear_clash")
    assert not off.enabled and off.history[0].source.startswith("示例")  # the layer's source
    assert changed.rule("general.local_no_signal_on_start").history[0].what == "added"
    assert changed.measure("walking_pace") == 1.2 and "示例省" in changed.measurement["walking_pace"].source
    assert [layer.kind for layer in changed.layers] == ["standard", "province"]
    assert ruleset().rule("pile.time_limit").enabled is False  # the version is untouched


def test_switched_off_rule_is_not_applied():
    province = load_override_file(EXAMPLE)
    course = only(demo_course(), "E", "e_pile")
    run = Run(course).at("e_pile", -3.0).start().hold(0.5)
    run.command(CommandAction.MANUAL_FAIL,
                rule="general.gear_clash").hold(0.5)
    assert run.rules_hit(ruleset()) == ["general.gear_clash"]
    with pytest.raises(Exception, match="does not apply"):
        run.judge(effective_ruleset(ruleset(), (province,)))


@pytest.mark.parametrize("body,message", [
    ({"source": "s", "rules": {"pile.nope": {"enabled": False}}}, r"rules\.pile\.nope: no such rule in ga1026-2022"),
    ({"source": "s", "rules": {"pile.stop": {"duration": {"value": 2, "unit": "m"}}}},
     r"rules\.pile\.stop\.duration\.unit: must be s, got m"),
    ({"source": "s", "rules": {"pile.stop": {"limit": {"value": 2, "unit": "s"}}}},
     r"rules\.pile\.stop\.limit: rule has no threshold 'limit'"),
    ({"source": "s", "rules": {"hill.rollback_minor": {"rollback_max": {"value": 0.4, "unit": "m"}}}},
     r"minor threshold 0\.4 m is above the 不合格 threshold 0\.3 m of hill\.rollback_major"),
    ({"source": "s", "rules": {"hill.rollback_major": {"rollback": {"value": 0.2, "unit": "m"}}}},
     r"minor threshold 0\.3 m is above the 不合格 threshold 0\.2 m"),
    ({"source": "s", "rules": {"general.helmet": {"points": 20}}}, r"general\.helmet is a 不合格 rule"),
    ({"source": "s", "rules": {"pile.stop": {"points": 100}}}, r"points: must be between 1 and 99"),
    ({"source": "s", "measurement": {"walking_pace": {"value": 1, "unit": "s"}}},
     r"measurement\.walking_pace\.unit: must be m/s, got s"),
    ({"source": "s", "measurement": {"pace": {"value": 1, "unit": "m/s"}}}, r"measurement\.pace: no such"),
    ({"source": "s", "rules": {"pile.time_limit": {"enabled": True}}}, r"limit: an enabled rule needs a value"),
])
def test_bad_overrides_are_refused_naming_the_field(body, message):
    with pytest.raises(RuleSetError, match=message):
        apply_overrides(ruleset(), overrides(body), "province:x")


def test_added_rule_must_be_new_and_well_formed():
    rule = {"id": "pile.stop", "item": "pile", "title": "t", "title_en": "t", "points": 5, "code": "99001",
            "code_local": True, "source": "s", "classes": ["E"], "detector": "manual"}
    with pytest.raises(RuleSetError, match="already has this rule"):
        apply_overrides(ruleset(), overrides({"source": "s", "add": [rule]}), "course:x")
    with pytest.raises(RuleSetError, match=r"add\[0\]\.code: code must be 5 digits"):
        overrides({"source": "s", "add": [dict(rule, id="pile.local", code="x")]})


def test_course_overrides_apply_after_the_province():
    data = {"source": "course decision 2025-01", "rules": {"pile.time_limit": {"limit": {"value": 300, "unit": "s"}}}}
    course = dataclasses.replace(demo_course(), overrides=overrides(data))
    final = effective_ruleset(ruleset(), (load_override_file(EXAMPLE),), course.overrides, course.name)
    assert final.id == "ga1026-2022+province:示例省+course:陇南演示考场"
    assert final.rule("pile.time_limit").params["limit"].value == 300.0
    assert [c.layer for c in final.rule("pile.time_limit").history] == ["province:示例省", "province:示例省",
                                                                        "course:陇南演示考场"]


def test_course_file_overrides_need_units_and_source():
    body = {"name": "c", "origin": {"latitude": 30.0, "longitude": 100.0}, "vehicles": [], "items": [], "overrides": {
        "source": "s", "rules": {"pile.time_limit": {"enabled": True, "limit": {"value": 60, "unit": "s"}}}}}
    assert parse_course(body).overrides.rules["pile.time_limit"].units == {"limit": "s"}


# --- the effective set as data --------------------------------------------------------------

def test_snapshot_round_trip_and_hash():
    final = effective_ruleset(ruleset(), (load_override_file(EXAMPLE),))
    data = json.loads(json.dumps(ruleset_to_dict(final), ensure_ascii=False))
    back = ruleset_from_dict(data)
    assert back == final and ruleset_hash(back) == data["hash"]
    assert ruleset_hash(final) != ruleset_hash(ruleset())


def test_tampered_snapshot_is_refused():
    data = ruleset_to_dict(ruleset())
    next(r for r in data["rules"] if r["id"] == "pile.stop")["points"] = 1
    with pytest.raises(RuleSetError, match="does not match its hash"):
        ruleset_from_dict(data)


def test_one_class_view_keeps_the_whole_set_hash():
    assert ruleset_to_dict(ruleset(), "E")["hash"] == ruleset_to_dict(ruleset())["hash"]
    with pytest.raises(RuleSetError, match="one class"):
        ruleset_from_dict(ruleset_to_dict(ruleset(), "E"))

"""Every number in a course, rule set or override file is finite and in a range the message names."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest
import tomli_w

from scoring.course import CourseError, load_course
from scoring.fields import number_problem
from scoring.overrides import load_override_file
from scoring.rules import RuleSetError, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "config" / "courses" / "demo.toml"
RULES = ROOT / "config" / "rules" / "ga1026-2022.toml"


def test_number_problem_names_the_range():
    assert number_problem(1.5, 0, 2) is None and number_problem(7, maximum=10) is None
    assert number_problem(math.nan, 0.2, 30) == "must be a finite number between 0.2 and 30, got nan"
    assert number_problem(math.inf, positive=True, maximum=20) == ("must be a finite number greater than 0 and "
                                                                    "at most 20, got inf")
    assert number_problem(-1.0, 0, 3600) == "must be between 0 and 3600, got -1.0"
    assert number_problem(1e9) == "must be between -1e+06 and 1e+06, got 1000000000.0"
    assert number_problem(10 ** 400).endswith("(401 digits)")
    assert number_problem(True) == "expected a number, got boolean"


def _course(tmp_path: Path, change) -> Path:
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    change(data)
    path = tmp_path / "broken.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


BROKEN_COURSES = {
    "vehicle_length_nan": (lambda d: d["vehicles"][0].update(length=math.nan),
                           "broken.toml: vehicles[0].length: must be a finite number greater than 0 and at most 20, "
                           "got nan"),
    "vehicle_width_inf": (lambda d: d["vehicles"][1].update(width=math.inf),
                          "broken.toml: vehicles[1].width: must be a finite number greater than 0 and at most 5, "
                          "got inf"),
    "item_length_nan": (lambda d: d["items"][0].update(edge_distance=math.nan),
                        "broken.toml: items[0].edge_distance: must be a finite number greater than 0 and at most "
                        "500, got nan"),
    "course_1e9_m": (lambda d: d["items"][2].update(placement={"x": 1e9, "y": 0.0, "heading": 90.0}),
                     "broken.toml: items[2].placement.x: must be between -10000 and 10000, got 1000000000.0"),
    "item_1e9_m_long": (lambda d: d["items"][0].update(spacing=1e9),
                        "broken.toml: items[0].spacing: must be greater than 0 and at most 500, got 1000000000.0"),
    "heading_nan": (lambda d: d["items"][0]["placement"].update(heading=math.nan),
                    "broken.toml: items[0].placement.heading: must be a finite number between -360 and 360"),
    "antenna_inf": (lambda d: d["vehicles"][0].update(antenna=[math.inf, 0.0]),
                    "broken.toml: vehicles[0].antenna[0]: must be a finite number between -20 and 20, got inf"),
    "line_width_zero": (lambda d: d["items"][0].update(line_width=0.0),
                        "broken.toml: items[0].line_width: must be greater than 0 and at most 1, got 0.0"),
    "altitude_nan": (lambda d: d["origin"].update(altitude=math.nan),
                     "broken.toml: origin.altitude: must be a finite number between -500 and 9000, got nan"),
    "override_negative_duration": (
        lambda d: d.update(overrides={"source": "s", "rules": {"pile.time_limit": {
            "limit": {"value": -5.0, "unit": "s"}}}}),
        "broken.toml: overrides.rules.pile.time_limit.limit.value: must be between 0 and 3600, got -5.0"),
}


@pytest.mark.parametrize("change,message", BROKEN_COURSES.values(), ids=BROKEN_COURSES.keys())
def test_a_course_with_a_number_out_of_range_is_refused_naming_file_field_and_range(tmp_path, change, message):
    with pytest.raises(CourseError) as refused:
        load_course(_course(tmp_path, change))
    assert str(refused.value).startswith(message), str(refused.value)


def _rules(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rule_set_measurement_that_is_not_a_number_is_refused(tmp_path):
    text = RULES.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    name = next(iter(data["measurement"]))
    data["measurement"][name]["value"] = math.nan
    with pytest.raises(RuleSetError, match=rf"rules\.toml: measurement\.{name}\.value: must be a finite number "
                                           rf"between 0 and \d+"):
        load_ruleset(_rules(tmp_path, tomli_w.dumps(data)))


def test_a_rule_threshold_with_a_negative_duration_is_refused(tmp_path):
    data = tomllib.loads(RULES.read_text(encoding="utf-8"))
    rule = next(r for r in data["rules"] if any(p.get("unit") == "s" and p.get("value")
                                               for p in r.get("params", {}).values()))
    name = next(n for n, p in rule["params"].items() if p.get("unit") == "s" and p.get("value"))
    rule["params"][name]["value"] = -30.0
    with pytest.raises(RuleSetError, match=r"rules\.toml: .*params\.\w+\.value: must be between 0 and 3600, "
                                           r"got -30\.0"):
        load_ruleset(_rules(tmp_path, tomli_w.dumps(data)))


@pytest.mark.parametrize("value,words", [
    ("nan", "must be a finite number between 0 and 3600, got nan"),
    ("inf", "must be a finite number between 0 and 3600, got inf"),
    ("-2.0", "must be between 0 and 3600, got -2.0"),
])
def test_a_province_override_out_of_range_is_refused(tmp_path, value, words):
    path = tmp_path / "province.toml"
    path.write_text('scope = "province"\nname = "x"\nsource = "s"\n'
                    f'[rules."pile.time_limit".limit]\nvalue = {value}\nunit = "s"\n', encoding="utf-8")
    with pytest.raises(RuleSetError) as refused:
        load_override_file(path)
    assert str(refused.value) == f"province.toml: rules.pile.time_limit.limit.value: {words}"


@pytest.mark.parametrize("loader,error", [(load_course, CourseError), (load_ruleset, RuleSetError),
                                          (load_override_file, RuleSetError)])
def test_a_file_that_is_not_utf8_is_refused_like_one_that_is_not_toml(tmp_path, loader, error):
    # Found by bench/fuzz_readers.py: a damaged byte raised UnicodeDecodeError, not the loader's error.
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "考场"\n'.encode("gb18030"))
    with pytest.raises(error, match=r"^latin1\.toml: not UTF-8 text \(byte \d+: invalid start byte\)$"):
        loader(path)

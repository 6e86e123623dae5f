"""Site settings and course drawings refuse numbers that are not numbers, naming file, field and range."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest
import tomli_w

from examroom.cli import main as cli
from examroom.coursetools.drawing import DrawingError, draw_course
from examroom.site.settings import SettingsError, load_settings
from scoring.course import load_course
from tests.examroom.site.test_settings import GOOD

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "config" / "courses" / "demo.toml"


def _site(tmp_path: Path, change) -> Path:
    data = copy.deepcopy(GOOD)
    change(data)
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("change,message", [
    (lambda d: d.update(health={"fault_after": float("nan")}),
     "health.fault_after: must be a finite number between 0.2 and 30, got nan"),
    (lambda d: d.update(health={"max_correction_age": float("nan")}),
     "health.max_correction_age: must be a finite number between 0.5 and 600, got nan"),
    (lambda d: d.update(health={"max_correction_age": float("inf")}),
     "health.max_correction_age: must be a finite number between 0.5 and 600, got inf"),
    (lambda d: d.update(health={"fault_after": -1.0}), "health.fault_after: must be between 0.2 and 30, got -1.0"),
    (lambda d: d["vehicles"][0].update(gnss_rate=float("nan")),
     "vehicles[0].gnss_rate: must be a finite number between 1 and 50, got nan (vehicle V1)"),
    (lambda d: d["course_boards"][0].update(poll_rate=float("-inf")),
     "course_boards[0].poll_rate: must be a finite number between 1 and 100, got -inf (course board B1)"),
])
def test_a_site_file_with_a_number_out_of_range_is_refused(tmp_path, change, message):
    path = _site(tmp_path, change)
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(refused.value) == f"{path}: {message}"


def test_a_nan_fault_time_no_longer_switches_faults_off(tmp_path):
    # nan compared false with both limits, so it was taken, and `elapsed >= nan` never fires.
    path = _site(tmp_path, lambda d: d.update(health={"fault_after": float("nan")}))
    with pytest.raises(SettingsError):
        load_settings(path)
    assert load_settings(_site(tmp_path, lambda d: d.update(health={"fault_after": 2.0}))).fault_after == 2.0


def test_course_show_of_a_1e9_m_course_is_one_line_and_allocates_nothing(tmp_path, capsys):
    data = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    data["items"][0]["placement"]["x"] = 1e9
    course = tmp_path / "far.toml"
    course.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert cli.main(["course", "show", str(course), "-o", str(tmp_path / "far.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "far.toml: items[0].placement.x: must be between -10000 and 10000" in err
    assert not (tmp_path / "far.png").exists()


def test_a_drawing_too_large_for_its_scale_is_refused_before_allocating(tmp_path):
    course = load_course(DEMO)
    with pytest.raises(DrawingError, match=r"exceed 20000 px a side; give a smaller --scale"):
        draw_course(course, tmp_path / "huge.png", scale=999.0)
    with pytest.raises(DrawingError, match=r"--scale: must be greater than 0 and at most 1000 px/m, got nan"):
        draw_course(course, tmp_path / "nan.png", scale=float("nan"))
    assert not (tmp_path / "huge.png").exists()

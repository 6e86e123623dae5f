"""`examroom course new` takes a surveyor's geometry and runs the route planner; `course check FILE`.

The planner is the simulation's (examroom/coursetools/route.py), run for real: about a second
of CPU per exam vehicle.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from examroom.cli import main as cli
from scoring.course import load_course

ROOT = Path(__file__).resolve().parents[3]
E = ["--class", "E", "--vehicle-length", "1.905", "--vehicle-width", "0.75"]


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_standard_e_course_has_a_clean_route_and_check_agrees(tmp_path, capsys):
    path = tmp_path / "e.toml"
    code, out, err = _run(capsys, "course", "new", *E, "-o", path)
    assert (code, err) == (0, "")
    assert "E E-01: clean route, slalom clearance +0." in out and "° of steering)" in out
    code, checked, err = _run(capsys, "course", "check", path, "--rules", "ga1026-2012")
    assert (code, err) == (0, "") and checked == out.splitlines()[1] + "\n"


def test_a_course_too_narrow_is_written_with_a_warning_naming_the_clearance(tmp_path, capsys):
    narrow = tmp_path / "narrow.toml"
    code, out, err = _run(capsys, "course", "new", *E, "--pile-edge-distance", "0.6", "-o", narrow)
    assert code == 0 and narrow.is_file()
    warning, hint = err.splitlines()
    assert warning.startswith("examroom course: warning: E E-01: NO CLEAN ROUTE: e_pile: no clean slalom")
    assert re.search(r"leaves -\d\.\d{3} m to the poles or boundary lines \(need ≥ 0\.05 m\)", warning)
    assert "0.60 m from the pile line to the boundary lines" in hint and "--pile-edge-distance" in hint
    code, out, err = _run(capsys, "course", "check", narrow)
    assert (code, err) == (1, "")
    assert out.startswith("E E-01: NO CLEAN ROUTE: ") and warning.split("NO CLEAN ROUTE: ")[1] in out


def test_the_c4_formula_course_warns_and_a_wider_lane_is_clean(tmp_path, capsys):
    # GA 1029 as summarised (research.md §3.1, 正三轮 figures): spacing length + 0.4 m, edge width + 0.3 m.
    c4 = ["--class", "C4", "--vehicle-length", "3.2", "--vehicle-width", "1.3"]
    code, _, err = _run(capsys, "course", "new", *c4, "-o", tmp_path / "c4.toml")
    assert code == 0 and "C4 C4-01: NO CLEAN ROUTE" in err and "1.60 m from the pile line" in err
    code, out, err = _run(capsys, "course", "new", *c4, "--pile-edge-distance", "2.7", "-o", tmp_path / "wide.toml")
    assert (code, err) == (0, "") and "C4 C4-01: clean route" in out


def test_course_check_says_what_it_does_not_drive(capsys):
    code, out, _ = _run(capsys, "course", "check", ROOT / "config" / "courses" / "c3.toml")
    assert code == 0 and "not checked (the planner drives pile, hill, bridge" in out


def test_a_surveyors_geometry_lands_in_the_file(tmp_path, capsys):
    path = tmp_path / "surveyed.toml"
    code, out, err = _run(capsys, "course", "new", *E, "--piles", "6", "--pile-spacing", "2.6", "--pile-edge-distance",
                          "1.2", "--pole-radius", "0.04", "--line-width", "0.1", "--line-reference", "inner_edge",
                          "--no-route-check", "-o", path)
    assert (code, err) == (0, "") and "clean route" not in out
    pile = load_course(path).items["e_pile"]
    assert len(pile.poles) == 6 and {p.radius for p in pile.poles} == {0.04}
    assert math.dist(pile.poles[0].position, pile.poles[1].position) == pytest.approx(2.6)
    assert abs(pile.left_line.side(pile.poles[0].position)) == pytest.approx(1.2, abs=0.06)
    lines = [line for item in load_course(path).items.values() for line in (item.entry, item.exit)]
    assert {line.width for line in lines} == {0.1} and {line.reference for line in lines} == {"inner_edge"}


@pytest.mark.parametrize("args,message", [
    ([*E, "--pile-spacing", "nan"], "--pile-spacing: must be a finite number greater than 0 and at most 500, got nan"),
    ([*E, "--pile-edge-distance", "-1"], "--pile-edge-distance: must be greater than 0 and at most 500, got -1.0"),
    ([*E, "--line-width", "5"], "--line-width: must be greater than 0 and at most 1, got 5.0"),
    ([*E, "--piles", "1"], "--piles: must be between 2 and 50, got 1"),
    (["--class", "E", "--vehicle-length", "inf", "--vehicle-width", "0.75"],
     "--vehicle-length: must be a finite number greater than 0 and at most 20, got inf"),
    (["--class", "C4", "--vehicle-length", "3.2", "--vehicle-width", "1.3", "--pile-layout", "bay_shift",
      "--pile-spacing", "4"], "--pile-spacing: applies to the slalom 桩考, not the bay-shift layout"),
    (["--class", "C3", "--vehicle-length", "4.5", "--vehicle-width", "1.7", "--pile-spacing", "4"],
     "class C3 has no 桩考"),
])
def test_bad_geometry_is_one_line_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "x.toml"
    code, _, err = _run(capsys, "course", "new", *args, "-o", out)
    assert code == 2 and message in err and err.count("\n") == 1 and not out.exists()


def test_a_weave_through_the_poles_is_as_bad_as_it_is_deep():
    # The planner's clearance once stopped at -pole radius for a pole inside the body, so a weave
    # straight through the poles looked "best" (-0.050 m) on every course too tight to weave.
    from examroom.coursetools.builder import VehicleSpec, build_course
    from examroom.coursetools.route import _weave_clearance
    from scoring.course import parse_course

    course = parse_course(build_course(VehicleSpec("C4", 3.2, 1.3)))
    pile, vehicle = course.items["c4_pile"], course.vehicle("C4-01")
    assert _weave_clearance(pile, vehicle, amplitude=0.0, lag=0.0, step=0.2) < -0.5  # half the body's width

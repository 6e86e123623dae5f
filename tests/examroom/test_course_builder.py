"""`examroom course new` and `examroom course show`: standard course files from the vehicle, drawn as PNG."""

import math

import cv2
import pytest

from examroom import cli
from examroom.course_builder import CLASS_ITEMS, CourseBuildError, VehicleSpec, build_course
from scoring.course import load_course, parse_course
from scoring.vehicle import VEHICLE_CLASSES

SIZES = {"C3": (4.5, 1.7), "M": (5.0, 2.0), "C4": (3.2, 1.3), "D": (3.05, 1.6), "E": (1.905, 0.75),
         "F": (1.73, 0.7), "G1": (3.8, 1.8), "G2": (3.8, 1.8), "K1": (2.7, 0.9), "K2": (5.2, 1.5)}


@pytest.mark.parametrize("cls", VEHICLE_CLASSES)
def test_every_class_gets_its_items_in_order(cls):
    course = parse_course(build_course(VehicleSpec(cls, *SIZES[cls])))
    assert [course.items[i].type for i in course.order[cls]] == list(CLASS_ITEMS[cls])


def test_sizes_follow_the_ga1029_formulas():
    e = parse_course(build_course(VehicleSpec("E", 1.905, 0.75)))
    poles = e.items["e_pile"].poles
    assert math.dist(poles[0].position, poles[1].position) == pytest.approx(1.905 + 0.5)  # length + 0.5 m
    c3 = parse_course(build_course(VehicleSpec("C3", 4.5, 1.7)))
    bay = c3.items["c3_reverse"].bay.minimum_rotated_rectangle
    sides = sorted(math.dist(*pair) for pair in zip(bay.exterior.coords, list(bay.exterior.coords)[1:3]))
    assert sides == pytest.approx([1.7 + 0.6, 4.5 + 0.7])  # 库宽 width + 0.6, 库长 length + 0.7
    assert c3.items["c3_curve"].radius == 9.5 and c3.items["c3_curve"].road_width == 3.7
    g1 = parse_course(build_course(VehicleSpec("G1", 3.8, 1.8)))
    assert g1.items["g1_field"].legs[0] == ("B", "reverse")


def test_c4_bay_shift_option():
    course = parse_course(build_course(VehicleSpec("C4", 3.2, 1.3), pile_layout="bay_shift"))
    assert course.items["c4_pile"].layout == "bay_shift"
    with pytest.raises(CourseBuildError, match="C4"):
        build_course(VehicleSpec("E", 1.905, 0.75), pile_layout="bay_shift")


def test_cli_new_then_show(tmp_path, capsys):
    course_file, png = tmp_path / "e.toml", tmp_path / "e.png"
    assert cli.main(["course", "new", "--class", "E", "--vehicle-length", "1.905", "--vehicle-width", "0.75",
                     "-o", str(course_file)]) == 0
    course = load_course(course_file)
    assert course.order["E"] == ("e_pile", "e_hill", "e_bridge")
    assert course_file.read_text(encoding="utf-8").startswith("# E标准考场")
    assert cli.main(["course", "show", str(course_file), "-o", str(png), "--scale", "20"]) == 0
    image = cv2.imread(str(png))
    assert image is not None and image.shape[1] > 200 and image.shape[0] > 50
    assert (image < 100).any()  # something dark was drawn: lines and labels


@pytest.mark.parametrize("args,message", [
    (["--class", "Q", "--vehicle-length", "1", "--vehicle-width", "1"], "--class: unknown class 'Q'"),
    (["--class", "E", "--vehicle-length", "0", "--vehicle-width", "1"], "--vehicle-length: must be positive"),
    (["--class", "C4", "--vehicle-length", "3.2", "--vehicle-width", "1.3", "--wheelbase", "4"],
     "wheelbase: must be shorter than the length"),
])
def test_cli_new_refuses_bad_options(tmp_path, capsys, args, message):
    out = tmp_path / "x.toml"
    assert cli.main(["course", "new", *args, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()

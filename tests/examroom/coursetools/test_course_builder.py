"""`examroom course new` and `examroom course show`: standard course files from the vehicle, drawn as PNG."""

import math

import cv2
import pytest

from examroom.cli import main as cli
from examroom.coursetools.builder import CLASS_ITEMS, CourseBuildError, VehicleSpec, build_course
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
                     "--no-route-check", "-o", str(course_file)]) == 0
    course = load_course(course_file)
    assert course.order["E"] == ("e_pile", "e_hill", "e_bridge")
    assert course_file.read_text(encoding="utf-8").startswith("# E标准考场")
    assert cli.main(["course", "show", str(course_file), "-o", str(png), "--scale", "20"]) == 0
    image = cv2.imread(str(png))
    assert image is not None and image.shape[1] > 200 and image.shape[0] > 50
    assert (image < 100).any()  # something dark was drawn: lines and labels


@pytest.mark.parametrize("args,message", [
    (["--class", "Q", "--vehicle-length", "1", "--vehicle-width", "1"], "--class: unknown class 'Q'"),
    (["--class", "E", "--vehicle-length", "0", "--vehicle-width", "1"], "--vehicle-length: must be greater than 0"),
    (["--class", "C4", "--vehicle-length", "3.2", "--vehicle-width", "1.3", "--wheelbase", "4"],
     "wheelbase: must be shorter than the length"),
])
def test_cli_new_refuses_bad_options(tmp_path, capsys, args, message):
    out = tmp_path / "x.toml"
    assert cli.main(["course", "new", *args, "-o", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


# --- built courses, driven: the motorcycle classes D (正三轮 and 侧三轮) and F ---------------------

from tests.scoring.items.test_hill import lateral_for_gap, stake_u  # noqa: E402
from tests.scoring.streams import Run, deck_sensors, past_exit, slalom  # noqa: E402


def built(cls, length, width, kind=None):
    return parse_course(build_course(VehicleSpec(cls, length, width, kind=kind)))


def hill_drive(course, cls, offset=0.0):
    item_id = f"{cls.lower()}_hill"
    run = Run(course, model=f"{cls}-01", vehicle_class=cls)
    item = run.item(item_id)
    v = lateral_for_gap(run, item, 0.15) + run.model.local_point("front_axle")[1]  # a sidecar's is off-centre
    run.at(item_id, -1.5, v).start().hold(0.5)
    run.go(item_id, stake_u(item) + offset, point="front_axle", speed=1.0).hold(3.0)
    run.go(item_id, past_exit(run, item_id), point="front_axle", speed=1.0)
    return run


def bridge_drive(course, cls, first_v, second_v):
    import math as _math

    item_id = f"{cls.lower()}_bridge"
    run = Run(course, model=f"{cls}-01", vehicle_class=cls)
    item = run.item(item_id)
    a, b = item.decks["A"], item.decks["B"]
    shift_from, shift_to = a.end + 0.8, b.start - 0.8

    def lateral(u):
        k = min(max((u - shift_from) / (shift_to - shift_from), 0.0), 1.0)
        return first_v + (second_v - first_v) * (1 - _math.cos(_math.pi * k)) / 2

    run.at(item_id, -3.0, lateral(-3.0), point="rear_axle").start().hold(0.5)
    run.go(item_id, past_exit(run, item_id) - run.model.wheelbase, lateral, point="rear_axle", speed=1.0)
    return run


@pytest.mark.parametrize("kind", ["three_wheeler", "sidecar"])
def test_d_hill_and_bridge_on_a_built_course(kind):
    course = built("D", 3.05, 1.6, kind)
    only_hill = _only(course, "D", "d_hill")
    assert hill_drive(only_hill, "D").rules_hit() == []
    assert hill_drive(only_hill, "D", offset=0.3).rules_hit() == ["hill.stop_offset_minor"]
    only_bridge = _only(course, "D", "d_bridge")
    # 正三轮: rear_left over 甲, rear_right over 乙; 侧三轮: front and rear_left over 甲, the sidecar wheel
    # over 乙 — both put the rear axle 0.5 m left of the centre line for 甲 and 0.5 m right for 乙
    assert bridge_drive(only_bridge, "D", 0.5, -0.5).rules_hit() == []
    assert bridge_drive(only_bridge, "D", 0.5, -0.2).rules_hit() == ["bridge.wheel_not_mounted"]


def test_f_moped_on_a_built_course():
    course = built("F", 1.73, 0.7)
    pile = _only(course, "F", "f_pile")
    run = Run(pile, model="F-01", vehicle_class="F")
    path = slalom(run.item("f_pile"), 0.8)
    run.at("f_pile", -1.0, path(-1.0)).start().hold(0.5)
    run.go("f_pile", past_exit(run, "f_pile"), path, speed=1.5)
    assert run.rules_hit() == []
    assert hill_drive(_only(course, "F", "f_hill"), "F").rules_hit() == []
    bridge = _only(course, "F", "f_bridge")
    run = Run(bridge, model="F-01", vehicle_class="F")
    run.at("f_bridge", -0.5, 0.0).start().hold(0.5)
    run.go("f_bridge", past_exit(run, "f_bridge"), 0.0, speed=1.0)
    assert run.rules_hit() == []  # built without deck sensors: judged from geometry
    run = Run(bridge, model="F-01", vehicle_class="F")
    run.at("f_bridge", -0.5, 0.3).start().hold(0.5)
    run.go("f_bridge", past_exit(run, "f_bridge"), 0.3, speed=1.0)
    assert run.rules_hit() == ["bridge.wheel_not_mounted"]  # both wheels beside the one bridge: once


def _only(course, cls, item_id):
    import dataclasses

    return dataclasses.replace(course, order={**course.order, cls: (item_id,)})

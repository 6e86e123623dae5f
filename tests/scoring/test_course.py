"""Course files: the demo course, generated geometry, surveyed items, and every error class."""

import copy
import math

import pytest

from scoring.course import CourseError, load_course, parse_course
from tests.scoring.streams import DEMO_COURSE, demo_course

VEHICLE = {"id": "E-01", "class": "E", "kind": "two_wheeler", "length": 1.905, "width": 0.75, "wheelbase": 1.25}
MINIMAL = {
    "name": "t",
    "origin": {"latitude": 33.4, "longitude": 104.92, "altitude": 1000.0},
    "vehicles": [VEHICLE],
    "items": [
        {"id": "p", "type": "pile", "classes": ["E"], "vehicle": "E-01",
         "placement": {"x": 0.0, "y": 0.0, "heading": 90.0}},
        {"id": "h", "type": "hill", "classes": ["E"], "vehicle": "E-01",
         "placement": {"x": 20.0, "y": 0.0, "heading": 90.0}},
    ],
}
SURVEYED_PILE = {
    "id": "sp", "type": "pile", "classes": ["E"], "geometry": "surveyed", "heading": 0.0,
    "zone": [[-1.1, 0.0], [1.1, 0.0], [1.1, 10.0], [-1.1, 10.0]],
    "entry": {"points": [[-1.1, 0.0], [1.1, 0.0]]},
    "exit": {"points": [[-1.1, 10.0], [1.1, 10.0]]},
    "piles": [[0.0, 2.5], [0.0, 5.0], [0.0, 7.5]],
    "left_line": {"points": [[-1.05, 0.0], [-1.05, 10.0]], "reference": "inner_edge"},
    "right_line": {"points": [[1.05, 0.0], [1.05, 10.0]], "width": 0.10},
}


def course_with(change):
    data = copy.deepcopy(MINIMAL)
    change(data)
    return data


def test_demo_course_loads():
    course = demo_course()
    assert course.origin.latitude == pytest.approx(33.40, abs=0.01)
    assert course.origin.longitude == pytest.approx(104.92, abs=0.01)
    assert set(course.vehicles) == {"E-01", "C4-01"}
    assert course.order == {"E": ("e_pile", "e_hill", "e_bridge"), "C4": ("c4_pile", "c4_hill", "c4_bridge")}


def test_demo_items_do_not_overlap():
    items = list(demo_course().items.values())
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            assert a.zone.distance(b.zone) >= 2.0, (a.id, b.id)


def test_generated_pile_follows_the_formulas():
    course = demo_course()
    e, c4 = course.items["e_pile"], course.items["c4_pile"]
    us = [e.to_item(p.position)[0] for p in e.poles]
    assert len(e.poles) == 5
    assert [b - a for a, b in zip(us, us[1:])] == pytest.approx([1.905 + 0.5] * 4)
    c4_us = [c4.to_item(p.position)[0] for p in c4.poles]
    assert c4_us[1] - c4_us[0] == pytest.approx(3.2 + 0.4)  # 正三轮 / 三轮汽车: length + 0.4
    assert abs(e.to_item(e.left_line.points[0])[1]) == pytest.approx(0.75 + 0.3)
    assert [p.side for p in e.poles] == ["left", "right", "left", "right", "left"]
    assert [p.element for p in e.poles][:2] == ["e_pile.pole1", "e_pile.pole2"]


def test_generated_bridge_follows_the_formulas():
    course = demo_course()
    c4 = course.items["c4_bridge"]
    a, b = c4.decks["A"], c4.decks["B"]
    assert a.end - a.start == pytest.approx(1.5 * 2.1)
    assert b.start - a.end == pytest.approx(2.5 * 2.1)
    va = c4.to_item(a.polygon.centroid.coords[0])[1]
    vb = c4.to_item(b.polygon.centroid.coords[0])[1]
    assert va - vb == pytest.approx(1.1 + 1.0) and va > 0  # A (甲) is the left deck
    minx, miny, maxx, maxy = a.polygon.bounds
    assert maxy - miny == pytest.approx(0.20)
    assert (a.element, b.element) == ("c4_bridge.A", "c4_bridge.B")
    assert set(course.items["e_bridge"].decks) == {"A"}  # two-wheelers: one bridge


def test_generated_hill_has_its_lines():
    hill = demo_course().items["c4_hill"]
    stake = hill.to_item(hill.stake_line.points[0])[0]
    assert stake - 1.0 > 1.5 * 3.2  # more than 1.5 × length up from the foot
    assert [hill.to_item(c.points[0])[0] - stake for c in hill.control_lines] == pytest.approx([-0.65, 0.65])
    assert hill.slope_zone.within(hill.zone)
    assert hill.edge_line.side(hill.to_course(5.0, 0.0)) > 0  # the lane is on the positive side


def test_surveyed_pile():
    data = course_with(lambda d: d["items"].append(copy.deepcopy(SURVEYED_PILE) | {"classes": ["F"]}))
    item = parse_course(data).items["sp"]
    assert [p.position for p in item.poles] == [(0.0, 2.5), (0.0, 5.0), (0.0, 7.5)]
    assert item.left_line.reference == "inner_edge" and item.right_line.width == 0.10
    assert item.left_line.side((0.0, 5.0)) > 0 and item.right_line.side((0.0, 5.0)) > 0
    assert item.entry.crossed((0.0, -0.1), (0.0, 0.1)) == pytest.approx(0.5)


def test_default_order_is_pile_hill_bridge():
    data = course_with(lambda d: d["items"].reverse())
    assert parse_course(data).order == {"E": ("p", "h")}


def test_load_course_names_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("name = \n")
    with pytest.raises(CourseError, match="bad.toml: not valid TOML"):
        load_course(path)
    assert load_course(DEMO_COURSE).name


def _set(path, value):
    def change(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


BROKEN = [
    ("missing field", lambda d: d.pop("name"), r"^name: missing field$"),
    ("missing nested", lambda d: d["items"][1].pop("placement"), r"^items\[1\]\.placement: missing field$"),
    ("unknown key", _set(("items", 0, "colour"), "red"), r"^items\[0\]: unknown key\(s\): colour$"),
    ("wrong type", _set(("vehicles", 0, "length"), "long"), r"^vehicles\[0\]\.length: expected a number, got string$"),
    ("negative size", _set(("vehicles", 0, "width"), -0.75), r"^vehicles\[0\]\.width: must be greater than 0 and at most 5, got -0.75$"),
    ("negative option", _set(("items", 0, "spacing"), -2.0), r"^items\[0\]\.spacing: must be greater than 0 and at most 500, got -2.0$"),
    ("unknown class", _set(("items", 0, "classes"), ["Z"]), r"^items\[0\]\.classes\[0\]: unknown value 'Z'"),
    ("unknown vehicle class", _set(("vehicles", 0, "class"), "B2"), r"^vehicles\[0\]\.class: unknown value 'B2'"),
    ("unknown type", _set(("items", 0, "type"), "tunnel"), r"^items\[0\]\.type: unknown value 'tunnel'"),
    ("duplicate item", lambda d: d["items"].append(copy.deepcopy(d["items"][0]) | {
        "placement": {"x": 0.0, "y": 50.0, "heading": 0.0}}), r"^items\[2\]\.id: duplicate item id 'p'$"),
    ("duplicate vehicle", lambda d: d["vehicles"].append(dict(VEHICLE)), r"^vehicles\[1\]\.id: duplicate vehicle id"),
    ("too few piles", _set(("items", 0, "piles"), 1), r"^items\[0\]\.piles: need at least 2 piles, got 1$"),
    ("too few surveyed piles", lambda d: d["items"].append(copy.deepcopy(SURVEYED_PILE) | {
        "classes": ["F"], "piles": [[0.0, 2.5]]}), r"^items\[2\]\.piles: need at least 2 piles, got 1$"),
    ("pile outside zone", lambda d: d["items"].append(copy.deepcopy(SURVEYED_PILE) | {
        "classes": ["F"], "piles": [[0.0, 2.5], [5.0, 5.0]]}), r"^items\[2\]\.piles\[1\]: pile lies outside"),
    ("bad point", lambda d: d["items"].append(copy.deepcopy(SURVEYED_PILE) | {
        "classes": ["F"], "piles": [[0.0, 2.5], [5.0]]}), r"^items\[2\]\.piles\[1\]: expected a point"),
    ("bad reference", _set(("items", 0, "line_reference"), "outer"), r"^items\[0\]\.line_reference: unknown value"),
    ("unknown design vehicle", _set(("items", 0, "vehicle"), "X"), r"^items\[0\]\.vehicle: no exam vehicle 'X'"),
    ("wheelbase too long", _set(("vehicles", 0, "wheelbase"), 2.0), r"^vehicles\[0\]: wheelbase: must be shorter"),
    ("three-wheeler without track", _set(("vehicles", 0, "kind"), "three_wheeler"), r"^vehicles\[0\]: track"),
    ("latitude", _set(("origin", "latitude"), 133.4), r"^origin\.latitude: must be between -90 and 90, got 133.4$"),
    ("order unknown item", _set(("order",), {"E": ["p", "nope"]}), r"^order\.E\[1\]: no item 'nope'$"),
    ("order wrong class", _set(("order",), {"F": ["p"]}), r"^order\.F\[0\]: item 'p' does not serve class F$"),
    ("order unknown class", _set(("order",), {"Q": ["p"]}), r"^order\.Q: unknown class"),
    ("ambiguous default order", lambda d: d["items"].append(copy.deepcopy(d["items"][0]) | {
        "id": "p2", "placement": {"x": 0.0, "y": 50.0, "heading": 90.0}}), r"^order: class E has 2 pile items"),
    ("overlap", lambda d: d["items"][1].update(placement={"x": 5.0, "y": 0.0, "heading": 90.0}),
     r"^items: items p and h serve the same class and their zones overlap$"),
    ("bad override", _set(("overrides",), {"source": "s", "rules": {"pile.time_limit": {
        "limit": {"value": "ten", "unit": "s"}}}}),
     r"^overrides\.rules\.pile\.time_limit\.limit\.value: expected a number"),
    ("override without unit", _set(("overrides",), {"source": "s", "rules": {"pile.time_limit": {"limit": 10}}}),
     r"^overrides\.rules\.pile\.time_limit\.limit: a threshold is written \{ value"),
    ("override without source", _set(("overrides",), {"rules": {"pile.time_limit": {"enabled": False}}}),
     r"^overrides\.source: overrides need a source"),
]


@pytest.mark.parametrize("name,change,message", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_course_file(name, change, message):
    with pytest.raises(CourseError, match=message):
        parse_course(course_with(change))


def test_two_deck_bridge_needs_a_track():
    data = course_with(lambda d: d["items"].append({
        "id": "b", "type": "bridge", "classes": ["D"], "vehicle": "D-01",
        "placement": {"x": 40.0, "y": 0.0, "heading": 90.0}}))
    data["vehicles"].append({"id": "D-01", "class": "D", "kind": "sidecar", "length": 3.05, "width": 1.6,
                             "wheelbase": 2.0, "track": 1.2})
    bridge = parse_course(data).items["b"]
    assert set(bridge.decks) == {"A", "B"}
    assert math.isclose(bridge.decks["A"].end - bridge.decks["A"].start, 3.0)

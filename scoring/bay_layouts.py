"""Generated geometry of the bay-shift course (移库): the C4 桩考 option and the tractor field course.

Layout [INF: the sources give the sizes, not a drawing we could read]: a lane
along the travel heading, and on its right two bays side by side, 乙 (B) first
and 甲 (A) beyond it, with poles at the bays' corners. Sizes (research.md §3.1,
§2.7):

- C4 桩考, bay-shift option: bay length 2 × vehicle length, bay width vehicle
  width + 0.7 m (the large-vehicle figure; no C4 figure found), lane 1.5 × length.
- Tractors (2018 业务工作规范 annex, S30): lane 1.5 × machine length, bay length
  1.2 × length; bay width + 0.6 m for wheeled tractors, + 0.5 m for hand
  tractors (the pre-2018 大中型 / 小型 figures, S31; the 2018 wheeled figures were
  cut off in the copy read).

The route (``legs``) is a list of ``"<bay or ->:<forward|reverse>"``: each leg
is one movement in one direction, and a leg naming a bay must end wholly inside
it. The default reads research.md §2.7's procedure in its shortest form:
reverse into 乙, pull forward, reverse into 甲, drive out forward. A course sets
the full two-forward-two-reverse shift with ``legs``.
"""

from __future__ import annotations

from shapely.geometry import LineString, Point, box
from shapely.ops import unary_union

from .item_geometry import BayShiftItem, Pole
from .small_car_layouts import LEAD, _common, _judged, _line, _placer, _transverse_at
from .vehicle import TRACTOR_CLASSES, VehicleModel

DEFAULT_LEGS = ("B:reverse", "-:forward", "A:reverse", "-:forward")
POLE_RADIUS = 0.05  # [INF] a 10 cm pole
PILE_BAY_LENGTH_FACTOR, PILE_BAY_WIDTH_ADD, LANE_FACTOR = 2.0, 0.7, 1.5  # research.md §3.1
FIELD_BAY_LENGTH_FACTOR = 1.2  # research.md §2.7 (2018)
FIELD_BAY_WIDTH_ADD = {"G1": 0.6, "G2": 0.6, "K1": 0.5, "K2": 0.5}


class LegError(ValueError):
    """A ``legs`` entry that is not ``<A|B|->:<forward|reverse>``."""


def parse_legs(entries: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    legs = []
    for i, entry in enumerate(entries):
        target, _, direction = entry.partition(":")
        if target not in ("A", "B", "-") or direction not in ("forward", "reverse"):
            raise LegError(f"legs[{i}]: {entry!r} is not '<A|B|->:<forward|reverse>'")
        legs.append((target, direction))
    if not legs or legs[-1][1] != "forward":
        raise LegError("the last leg must be forward (out of the item)")
    return tuple(legs)


def bay_shift(item_id, classes, place, vehicle: VehicleModel, style, options, item_type: str) -> BayShiftItem:
    field_course = item_type == "field"
    if field_course:
        length = FIELD_BAY_LENGTH_FACTOR * vehicle.length
        width = vehicle.width + FIELD_BAY_WIDTH_ADD.get(vehicle.vehicle_class, FIELD_BAY_WIDTH_ADD["G1"])
    else:
        length = PILE_BAY_LENGTH_FACTOR * vehicle.length
        width = vehicle.width + PILE_BAY_WIDTH_ADD
    bay_length = options.get("bay_length", length)
    bay_width = options.get("bay_width", width)
    lane = options.get("lane_width", LANE_FACTOR * vehicle.length)
    radius = options.get("pole_radius", POLE_RADIUS)
    legs = parse_legs(tuple(options.get("legs", DEFAULT_LEGS)))
    to_course = _placer(place, -lane / 2)
    b0 = LEAD + vehicle.length  # 乙's first side
    b1, b2 = b0 + bay_width, b0 + 2 * bay_width
    end = b2 + LANE_FACTOR * vehicle.length + LEAD
    ext = 2 * vehicle.length
    bays = {"B": box(b0, -bay_length, b1, 0.0), "A": box(b1, -bay_length, b2, 0.0)}
    area = unary_union([box(-ext, 0.0, end + ext, lane), bays["A"], bays["B"]])
    lines = tuple(_line(name, LineString(points), to_course, style) for name, points in (
        ("lane_far", [(0.0, lane), (end, lane)]),
        ("lane_near_before", [(0.0, 0.0), (b0, 0.0)]),
        ("lane_near_after", [(b2, 0.0), (end, 0.0)]),
        ("bay_side_b", [(b0, 0.0), (b0, -bay_length)]),
        ("bay_back", [(b0, -bay_length), (b2, -bay_length)]),
        ("bay_side_a", [(b2, -bay_length), (b2, 0.0)]),
    ))
    corners = [(b0, 0.0), (b1, 0.0), (b2, 0.0), (b0, -bay_length), (b1, -bay_length), (b2, -bay_length)]
    poles = tuple(Pole(n, tuple(to_course(Point(u, v)).coords)[0], radius, "-", f"{item_id}.pole{n}")
                  for n, (u, v) in enumerate(corners, 1))
    zone = unary_union([box(0.0, 0.0, end, lane), bays["A"], bays["B"]]).buffer(LEAD / 4, join_style="mitre")
    return BayShiftItem(
        **_common(item_id, item_type, classes, place, vehicle, to_course(zone),
                  _transverse_at("entry", 0.0, lane / 2, lane / 2, 1.0, 0.0, to_course, style),
                  _transverse_at("exit", end, lane / 2, lane / 2, 1.0, 0.0, to_course, style)),
        area=to_course(_judged(area, style)), lines=lines, line_width=style.width, reference=style.reference,
        bays={name: to_course(_judged(b, style)) for name, b in bays.items()}, poles=poles, legs=legs,
    )


def field(item_id, classes, place, vehicle, style, options) -> BayShiftItem:
    """The tractor field course (场地驾驶, research.md §2.7)."""
    if vehicle.vehicle_class not in TRACTOR_CLASSES:
        raise ValueError(f"vehicle {vehicle.id}: the field course is for tractors ({', '.join(TRACTOR_CLASSES)})")
    return bay_shift(item_id, classes, place, vehicle, style, options, "field")


def pile_bay_shift(item_id, classes, place, vehicle, style, options) -> BayShiftItem:
    """The 桩考 bay-shift option (三轮汽车, research.md §2.3; domain/README.md)."""
    return bay_shift(item_id, classes, place, vehicle, style, options, "pile")


OPTIONS = ("bay_length", "bay_width", "lane_width", "pole_radius", "legs")

"""Generated geometry of the C3 (and M) items from the exam vehicle's dimensions.

Formulas of research.md §3.4 (GA 1029 as summarised by secondary sources,
UNCONFIRMED against the bought standard); every default is a course-file key
an item may override. Geometry is built in the item frame (u along the entry
heading, v to its left, origin at the middle of the entry line) and moved to
the course frame at the end.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from shapely import affinity
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

from .geometry import Line, forward, leftward
from .item_geometry import AngleItem, CurveItem, ParallelItem, ReverseItem
from .vehicle import VehicleModel

# research.md §3.4
BAY_WIDTH_ADD = 0.6  # 倒车入库 库宽 = vehicle width (without mirrors) + 0.6 m
BAY_LENGTH_ADD = 0.7  # 库长 = vehicle length + 0.7 m
LANE_LENGTH_FACTOR = 1.5  # 车道宽 and control line to bay = 1.5 × vehicle length
SLOT_LENGTH_FACTOR = 1.5  # 侧方停车 车位长 = 1.5 × length (+1 m small vehicles, −1 m large buses)
SLOT_LENGTH_ADD = {"C3": 0.0, "M": 0.0}  # 低速载货汽车 and 专用机械车 read as "others" [INF]
SLOT_WIDTH_ADD = 0.8  # 车位宽 = width + 0.8 m
PARALLEL_LANE_FACTOR, PARALLEL_LANE_ADD = 1.5, 0.8  # 车道宽 = 1.5 × width + 0.8 m
CURVE_RADIUS = {"C3": 9.5, "M": 9.5}  # 低速载货汽车 9.5 m (M read as the same [INF])
CURVE_ROAD_WIDTH = {"C3": 3.7, "M": 3.7}
CURVE_ARC = 3 / 8  # each arc is 3/8 of a circle
ANGLE_LEG_FACTOR = 1.5  # 直角转弯 road length ≥ 1.5 × vehicle length
ANGLE_ROAD_WIDTH = CURVE_ROAD_WIDTH  # [INF] no figure found: the class's S-curve road width
LEAD = 1.0  # [INF] run-in between the entry line and the first painted feature
ARC_STEP = math.radians(3)  # polyline resolution of painted arcs


def _placer(place, shift: float = 0.0) -> Callable[[BaseGeometry], BaseGeometry]:
    """Item-frame geometry → course frame (rotation to the heading, then the entry point).

    ``shift`` moves the geometry sideways first: a generator that draws its lane from v = 0
    to v = w shifts it by −w/2 so the entry line's middle is the item frame's origin.
    """
    f, l = forward(place.heading), leftward(place.heading)
    matrix = [f[0], l[0], f[1], l[1], place.x + shift * l[0], place.y + shift * l[1]]
    return lambda geom: affinity.affine_transform(geom, matrix)


def _line(name: str, geom: LineString, to_course, style, toward=None) -> Line:
    line = Line(name, tuple(to_course(geom).coords), style.width, style.reference)
    return line.oriented_towards(tuple(to_course(toward).coords)[0]) if toward is not None else line


def _judged(area: Polygon, style) -> Polygon:
    """The area bounded by the judging references: the line centres, or their inner edges."""
    if style.reference == "inner_edge":
        return area.buffer(-style.width / 2, join_style="mitre")
    return area


def _transverse_at(name: str, u: float, v: float, half: float, heading_u: float, heading_v: float,
                   to_course, style) -> Line:
    """A line across the travel direction (heading_u, heading_v) at (u, v), positive side ahead."""
    nu, nv = -heading_v, heading_u
    geom = LineString([(u - nu * half, v - nv * half), (u + nu * half, v + nv * half)])
    return _line(name, geom, to_course, style, Point(u + heading_u, v + heading_v))


def _common(item_id, item_type, classes, place, vehicle, zone, entry, exit_) -> dict[str, Any]:
    return dict(id=item_id, type=item_type, classes=classes, heading=place.heading, zone=zone, entry=entry,
                exit=exit_, geometry="generated", vehicle=vehicle.id)


def _arc(cu: float, cv: float, radius: float, start: float, sweep: float) -> list[tuple[float, float]]:
    steps = max(2, math.ceil(abs(sweep) / ARC_STEP))
    return [(cu + radius * math.cos(start + sweep * i / steps), cv + radius * math.sin(start + sweep * i / steps))
            for i in range(steps + 1)]


def curve(item_id, classes, place, vehicle: VehicleModel, style, options) -> CurveItem:
    """An S: a left arc then a right arc of ``radius``, each ``arc`` of a circle, between leads."""
    radius = options.get("radius", CURVE_RADIUS.get(vehicle.vehicle_class, CURVE_RADIUS["C3"]))
    width = options.get("road_width", CURVE_ROAD_WIDTH.get(vehicle.vehicle_class, CURVE_ROAD_WIDTH["C3"]))
    theta = 2 * math.pi * options.get("arc", CURVE_ARC)
    to_course = _placer(place)
    first = _arc(LEAD, radius, radius, -math.pi / 2, theta)  # centre left of the start: turns left
    eu, ev = first[-1]
    cu, cv = eu + radius * math.sin(theta), ev - radius * math.cos(theta)  # centre right of the path
    second = _arc(cu, cv, radius, math.pi / 2 + theta, -theta)
    end_u, end_v = second[-1]
    centre = [(0.0, 0.0)] + first + second[1:] + [(end_u + LEAD, end_v)]
    ext = 2 * vehicle.length  # the roads before and after: their edges are not this item's
    road = LineString([(-ext, 0.0)] + centre + [(end_u + LEAD + ext, end_v)])
    area = road.buffer(width / 2, cap_style="flat", join_style="round")
    painted = LineString(centre)
    lines = (
        _line("edge_left", painted.offset_curve(width / 2), to_course, style),
        _line("edge_right", painted.offset_curve(-width / 2), to_course, style),
    )
    zone = painted.buffer(width / 2 + LEAD / 2, cap_style="flat")
    return CurveItem(
        **_common(item_id, "curve", classes, place, vehicle, to_course(zone),
                  _transverse_at("entry", 0.0, 0.0, width / 2, 1.0, 0.0, to_course, style),
                  _transverse_at("exit", end_u + LEAD, end_v, width / 2, 1.0, 0.0, to_course, style)),
        area=to_course(_judged(area, style)), lines=lines, line_width=style.width, reference=style.reference,
        radius=radius, road_width=width, centre=tuple(to_course(painted).coords),
    )


def angle(item_id, classes, place, vehicle: VehicleModel, style, options) -> AngleItem:
    """An L: a leg along the heading, a square corner, a leg to the ``turn`` side."""
    width = options.get("road_width", ANGLE_ROAD_WIDTH.get(vehicle.vehicle_class, ANGLE_ROAD_WIDTH["C3"]))
    leg = options.get("leg_length", ANGLE_LEG_FACTOR * vehicle.length)
    turn = options.get("turn", "left")
    side = 1 if turn == "left" else -1
    to_course = _placer(place)
    ext = 2 * vehicle.length
    half = width / 2
    corner = box(leg, -half, leg + width, half)
    first = box(-ext, -half, leg, half)
    out_end = half + leg
    second = box(leg, half, leg + width, out_end + ext)
    if side < 0:
        corner, first, second = (affinity.scale(g, 1, -1, origin=(0, 0)) for g in (corner, first, second))
    area = unary_union([first, corner, second])
    outer = LineString([(0.0, -side * half), (leg + width, -side * half), (leg + width, side * out_end)])
    inner = LineString([(0.0, side * half), (leg, side * half), (leg, side * out_end)])
    lines = (_line("edge_outer", outer, to_course, style), _line("edge_inner", inner, to_course, style))
    zone = unary_union([box(0.0, -half, leg + width, half),
                        box(leg, min(side * half, side * out_end), leg + width, max(side * half, side * out_end))])
    return AngleItem(
        **_common(item_id, "angle", classes, place, vehicle, to_course(zone.buffer(LEAD / 2, join_style="mitre")),
                  _transverse_at("entry", 0.0, 0.0, half, 1.0, 0.0, to_course, style),
                  _transverse_at("exit", leg + half, side * out_end, half, 0.0, float(side), to_course, style)),
        area=to_course(_judged(area, style)), lines=lines, line_width=style.width, reference=style.reference,
        corner=to_course(corner), turn=turn, road_width=width,
    )


def parallel(item_id, classes, place, vehicle: VehicleModel, style, options) -> ParallelItem:
    """A lane along the heading with the slot on its right; room ahead of the slot to pull forward."""
    add = SLOT_LENGTH_ADD.get(vehicle.vehicle_class, 0.0)
    slot_length = options.get("slot_length", SLOT_LENGTH_FACTOR * vehicle.length + add)
    slot_width = options.get("slot_width", vehicle.width + SLOT_WIDTH_ADD)
    lane = options.get("lane_width", PARALLEL_LANE_FACTOR * vehicle.width + PARALLEL_LANE_ADD)
    to_course = _placer(place, -lane / 2)
    s0 = LEAD + vehicle.length  # the slot's back line
    s1 = s0 + slot_length  # its front line
    end = s1 + LANE_LENGTH_FACTOR * vehicle.length  # room to pull forward before reversing
    ext = 2 * vehicle.length
    slot = box(s0, -slot_width, s1, 0.0)
    area = unary_union([box(-ext, 0.0, end + ext, lane), slot])
    lines = tuple(_line(name, LineString(points), to_course, style) for name, points in (
        ("lane_far", [(0.0, lane), (end, lane)]),
        ("lane_near_before", [(0.0, 0.0), (s0, 0.0)]),
        ("lane_near_after", [(s1, 0.0), (end, 0.0)]),
        ("slot_back", [(s0, 0.0), (s0, -slot_width)]),
        ("slot_bottom", [(s0, -slot_width), (s1, -slot_width)]),
        ("slot_front", [(s1, -slot_width), (s1, 0.0)]),
    ))
    zone = unary_union([box(0.0, 0.0, end, lane), slot]).buffer(LEAD / 4, join_style="mitre")
    r = style.width / 2 if style.reference == "inner_edge" else 0.0
    slot_lines = LineString([(s0 + r, 0.0), (s0 + r, -slot_width + r), (s1 - r, -slot_width + r), (s1 - r, 0.0)])
    beside = box(s0 - style.width, -slot_width - ext, s1 + style.width, 0.0)
    return ParallelItem(
        # the item ends when the tail passes the front slot line on the way out (research.md §1.3)
        **_common(item_id, "parallel", classes, place, vehicle, to_course(zone),
                  _transverse_at("entry", 0.0, lane / 2, lane / 2, 1.0, 0.0, to_course, style),
                  _transverse_at("exit", s1, lane / 2, lane / 2, 1.0, 0.0, to_course, style)),
        area=to_course(_judged(area, style)), lines=lines, line_width=style.width, reference=style.reference,
        slot=to_course(_judged(slot, style)), slot_lines=to_course(slot_lines), beside_slot=to_course(beside),
    )


def reverse(item_id, classes, place, vehicle: VehicleModel, style, options) -> ReverseItem:
    """Control line A (entry), the bay on the right of the lane, control line B, each 1.5 L from the bay."""
    bay_width = options.get("bay_width", vehicle.width + BAY_WIDTH_ADD)
    bay_length = options.get("bay_length", vehicle.length + BAY_LENGTH_ADD)
    lane = options.get("lane_width", LANE_LENGTH_FACTOR * vehicle.length)
    to_control = options.get("control_distance", LANE_LENGTH_FACTOR * vehicle.length)
    to_course = _placer(place, -lane / 2)
    b0 = to_control  # the bay's first side line
    b1 = b0 + bay_width
    line_b = b1 + to_control
    ext = 2 * vehicle.length  # the lane goes on past the control lines
    bay = box(b0, -bay_length, b1, 0.0)
    area = unary_union([box(-ext, 0.0, line_b + ext, lane), bay])
    lines = tuple(_line(name, LineString(points), to_course, style) for name, points in (
        ("lane_far", [(-ext, lane), (line_b + ext, lane)]),
        ("lane_near_a", [(-ext, 0.0), (b0, 0.0)]),
        ("lane_near_b", [(b1, 0.0), (line_b + ext, 0.0)]),
        ("bay_side_a", [(b0, 0.0), (b0, -bay_length)]),
        ("bay_back", [(b0, -bay_length), (b1, -bay_length)]),
        ("bay_side_b", [(b1, -bay_length), (b1, 0.0)]),
    ))
    half = lane / 2
    control_a = _line("control_a", LineString([(0.0, 0.0), (0.0, lane)]), to_course, style, Point(-1.0, half))
    control_b = _line("control_b", LineString([(line_b, 0.0), (line_b, lane)]), to_course, style,
                      Point(line_b + 1.0, half))
    zone = unary_union([box(-ext, 0.0, line_b + ext, lane), bay]).buffer(LEAD / 4, join_style="mitre")
    return ReverseItem(
        **_common(item_id, "reverse", classes, place, vehicle, to_course(zone),
                  _transverse_at("entry", 0.0, half, half, 1.0, 0.0, to_course, style), control_b),
        area=to_course(_judged(area, style)), lines=lines + (control_a, control_b), line_width=style.width,
        reference=style.reference, bay=to_course(_judged(bay, style)), control_a=control_a, control_b=control_b,
    )


GENERATORS = {"curve": curve, "angle": angle, "parallel": parallel, "reverse": reverse}
GENERATOR_OPTIONS = {
    "curve": ("radius", "road_width", "arc"),
    "angle": ("road_width", "leg_length", "turn"),
    "parallel": ("slot_length", "slot_width", "lane_width"),
    "reverse": ("bay_width", "bay_length", "lane_width", "control_distance"),
}

"""The geometry of course items (桩考, 坡道定点停车和起步, 通过单边桥) in the course frame.

Every item has a zone polygon, an entry line and an exit line (both
transverse, oriented so that their positive side is the travel direction),
and a travel heading. Its item frame has ``u`` along the heading and ``v`` to
the left, with the origin at the middle of the entry line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from .geometry import Line, Vec, to_course, to_local

ITEM_TYPES = ("pile", "hill", "bridge", "reverse", "parallel", "angle", "curve", "field")
SIDES = ("left", "right")

# How each vehicle kind crosses the single-side bridges (research.md §2.5): stages in order,
# each a deck and the wheels that must run over it.
CROSSING_PATTERNS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "two_wheeler": (("A", ("front", "rear")),),
    "three_wheeler": (("A", ("rear_left",)), ("B", ("rear_right",))),
    "sidecar": (("A", ("front", "rear_left")), ("B", ("side",))),
}


@dataclass(frozen=True)
class Item:
    id: str
    type: str
    classes: tuple[str, ...]
    heading: float
    zone: Polygon
    entry: Line
    exit: Line
    geometry: str  # "generated" or "surveyed"
    vehicle: str | None  # the exam vehicle whose dimensions generated the geometry

    @property
    def frame_origin(self) -> Vec:
        (x0, y0), (x1, y1) = self.entry.points[0], self.entry.points[-1]
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def to_course(self, u: float, v: float) -> Vec:
        return to_course(self.frame_origin, self.heading, u, v)

    def to_item(self, p: Vec) -> Vec:
        return to_local(self.frame_origin, self.heading, p)

    def along(self, p: Vec) -> float:
        """Distance of ``p`` along the travel heading from the entry line's middle."""
        return self.to_item(p)[0]


@dataclass(frozen=True)
class Pole:
    number: int  # 1-based, in the order the route passes them
    position: Vec
    radius: float
    side: str  # the side of the pole the vehicle passes on, seen in the travel direction
    element: str  # sensor element id, "<item>.pole<n>"


@dataclass(frozen=True)
class PileItem(Item):
    poles: tuple[Pole, ...]
    left_line: Line
    right_line: Line
    layout: str = "slalom"

    @property
    def boundary_lines(self) -> tuple[Line, Line]:
        return (self.left_line, self.right_line)


@dataclass(frozen=True)
class HillItem(Item):
    stake_line: Line  # 桩杆线; positive side = past it in the travel direction
    edge_line: Line  # right 道路边缘线; positive side = the lane
    slope_zone: Polygon
    control_lines: tuple[Line, ...] = ()


@dataclass(frozen=True)
class Deck:
    name: str  # "A" (甲, left) or "B" (乙, right)
    polygon: Polygon
    element: str  # sensor element id, "<item>.A"
    start: float  # along-heading coordinates of the deck's ends (item frame u)
    end: float


@dataclass(frozen=True)
class BridgeItem(Item):
    decks: dict[str, Deck] = field(hash=False)
    deck_sensors: bool = False

    def pattern(self, kind: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return CROSSING_PATTERNS[kind]


def deck_from_polygon(item_id: str, name: str, polygon: Polygon, origin: Vec, heading: float) -> Deck:
    """A deck whose ends are the extent of its polygon along the travel heading."""
    us = [to_local(origin, heading, p)[0] for p in polygon.exterior.coords]
    return Deck(name=name, polygon=polygon, element=f"{item_id}.{name}", start=min(us), end=max(us))


# --- the C3 items and the bay-shift course: judged against areas, drawn as lines ---------------


@dataclass(frozen=True)
class AreaItem(Item):
    """An item judged against painted areas rather than single lines.

    ``area`` is where the vehicle may be, bounded by the lines' judging references
    (research.md §3.5: the line centres, or their inner edges, which shrinks the area by
    half a line width); the generator computes it once. ``lines`` are the painted lines,
    at their centres, named (``lane_far``, ``slot_back``, ...) for drawing and reporting.
    """

    area: Polygon
    lines: tuple[Line, ...]
    line_width: float
    reference: str

    def nearest_line(self, p: Vec) -> Line:
        point = Point(p)
        return min(self.lines, key=lambda line: line.geometry.distance(point))


@dataclass(frozen=True)
class CurveItem(AreaItem):
    """曲线行驶: an S of two opposite arcs; ``area`` is the road between its edge lines."""

    radius: float = 0.0
    road_width: float = 0.0
    centre: tuple[Vec, ...] = ()  # the road's centre line, course frame (for drawing and scripts)


@dataclass(frozen=True)
class AngleItem(AreaItem):
    """直角转弯: an L-shaped road; ``corner`` is the square where the turn is made."""

    corner: Polygon = field(default_factory=Polygon)
    turn: str = "left"
    road_width: float = 0.0


@dataclass(frozen=True)
class ParallelItem(AreaItem):
    """侧方停车: a lane with the slot on its right; ``slot`` is the slot as judged.

    ``slot_lines`` are the slot's back, bottom and front lines at their judging reference;
    ``beside_slot`` is the strip of the slot's length on its side of the lane (a wheel out of
    the area there is on a slot line, elsewhere on a lane line).
    """

    slot: Polygon = field(default_factory=Polygon)
    slot_lines: BaseGeometry = field(default_factory=LineString)
    beside_slot: Polygon = field(default_factory=Polygon)


@dataclass(frozen=True)
class ReverseItem(AreaItem):
    """倒车入库: a lane between control lines A (the entry) and B, the bay on its right.

    ``control_a`` has its positive side toward −u (beyond A, going back), ``control_b``
    toward +u (beyond B). ``bay`` is the bay as judged.
    """

    bay: Polygon = field(default_factory=Polygon)
    control_a: Line | None = None
    control_b: Line | None = None


@dataclass(frozen=True)
class BayShiftItem(AreaItem):
    """The bay-shift course (移库): bays 甲 (A, the far one) and 乙 (B) in a row, poles at the corners.

    ``legs`` are the route: each a bay the vehicle must end wholly inside and the direction
    it moves in to get there (``"reverse"`` or ``"forward"``); ``bays`` are as judged.
    """

    bays: dict[str, Polygon] = field(default_factory=dict, hash=False)
    poles: tuple[Pole, ...] = ()
    legs: tuple[tuple[str, str], ...] = ()
    layout: str = "bay_shift"

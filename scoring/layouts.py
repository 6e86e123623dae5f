"""Generated item geometry: course sizes from the exam vehicle's dimensions.

The formulas are those of research.md §3 (GA 1029 as summarised by secondary
sources, UNCONFIRMED against the bought standard). Every default below can be
overridden per item in the course file; the names are the course-file keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shapely.geometry import Polygon

from .geometry import Line, Vec, to_course
from .item_geometry import BridgeItem, HillItem, PileItem, Pole, deck_from_polygon
from .vehicle import VehicleModel

# research.md §3.1: pile spacing = vehicle length + this, by vehicle kind (S27).
PILE_SPACING_ADD = {"two_wheeler": 0.5, "three_wheeler": 0.4, "sidecar": 0.8}
PILE_EDGE_ADD = 0.3  # pile to edge line = vehicle width + 0.3 m (S27)
PILE_COUNT = 5  # S28, legacy 5-pole course (research.md §5.3)
POLE_RADIUS = 0.05  # [INF] a 10 cm pole

# research.md §3.2 (S24): deck 20 cm wide, 1.5 × wheelbase long; 甲乙 lateral offset track + 1 m;
# longitudinal spacing 2.5 × wheelbase ("others"), read as the gap from A's end to B's start [INF].
DECK_WIDTH = 0.20
DECK_LENGTH_FACTOR = 1.5
DECK_OFFSET_ADD = 1.0
DECK_GAP_FACTOR = 2.5

# research.md §3.3: ramp ≥ 8 m for motorcycles, ≥ 20 m for small vehicles (C4 read as such [INF]);
# stake more than 1.5 × vehicle length up from the foot; stop control lines 0.65 m from the stake.
SLOPE_LENGTH_MIN = {"C3": 20.0, "M": 20.0, "C4": 20.0, "D": 8.0, "E": 8.0, "F": 8.0}
STAKE_FROM_FOOT_FACTOR = 1.5
STAKE_FROM_FOOT_ADD = 0.5
CONTROL_LINE_OFFSET = 0.65
HILL_LANE_ADD = 2.0  # [INF] lane width = vehicle width + 2 m

LEAD = 1.0  # [INF] run-in and run-out between an item's entry/exit lines and its first/last element


@dataclass(frozen=True)
class Placement:
    """Where a generated item sits: the middle of its entry line and its travel heading."""

    x: float
    y: float
    heading: float


@dataclass(frozen=True)
class LineStyle:
    width: float
    reference: str


def _frame(place: Placement):
    def at(u: float, v: float) -> Vec:
        return to_course((place.x, place.y), place.heading, u, v)

    return at


def _transverse(name: str, at, u: float, half: float, style: LineStyle) -> Line:
    """A line across the travel direction at ``u``, positive side ahead."""
    return Line(name, (at(u, -half), at(u, half)), style.width, style.reference).oriented_towards(at(u + 1, 0))


def _boundary(name: str, at, v: float, u0: float, u1: float, style: LineStyle) -> Line:
    """A line along the travel direction at ``v`` (never 0), positive side toward the centre line."""
    return Line(name, (at(u0, v), at(u1, v)), style.width, style.reference).oriented_towards(at(u0, 0.0))


def _rect(at, u0: float, u1: float, v0: float, v1: float) -> Polygon:
    return Polygon([at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)])


def _common(item_id: str, item_type: str, classes: tuple[str, ...], place: Placement, vehicle: VehicleModel,
            zone: Polygon, entry: Line, exit_: Line) -> dict[str, Any]:
    return dict(id=item_id, type=item_type, classes=classes, heading=place.heading, zone=zone, entry=entry,
                exit=exit_, geometry="generated", vehicle=vehicle.id)


def pile(item_id: str, classes: tuple[str, ...], place: Placement, vehicle: VehicleModel, style: LineStyle,
         options: dict[str, Any]) -> PileItem:
    """A slalom through ``piles`` poles on the centre line, boundary lines on both sides."""
    count = options.get("piles", PILE_COUNT)
    spacing = options.get("spacing", vehicle.length + PILE_SPACING_ADD[vehicle.kind])
    edge = options.get("edge_distance", vehicle.width + PILE_EDGE_ADD)
    radius = options.get("pole_radius", POLE_RADIUS)
    first = options.get("first_side", "left")
    at = _frame(place)
    u_exit = spacing * (count + 1)
    half = edge + style.width / 2
    sides = ("left", "right") if first == "left" else ("right", "left")
    poles = tuple(
        Pole(n, at(spacing * n, 0.0), radius, sides[(n - 1) % 2], f"{item_id}.pole{n}") for n in range(1, count + 1)
    )
    return PileItem(
        **_common(item_id, "pile", classes, place, vehicle, _rect(at, 0.0, u_exit, -half, half),
                  _transverse("entry", at, 0.0, half, style), _transverse("exit", at, u_exit, half, style)),
        poles=poles,
        left_line=_boundary("left", at, edge, 0.0, u_exit, style),
        right_line=_boundary("right", at, -edge, 0.0, u_exit, style),
        layout="slalom",
    )


def hill(item_id: str, classes: tuple[str, ...], place: Placement, vehicle: VehicleModel, style: LineStyle,
         options: dict[str, Any]) -> HillItem:
    """A straight ramp with the stake line on the up-slope and the right edge line."""
    stake_from_foot = options.get("stake_distance", STAKE_FROM_FOOT_FACTOR * vehicle.length + STAKE_FROM_FOOT_ADD)
    slope = options.get("slope_length", max(SLOPE_LENGTH_MIN[vehicle.vehicle_class], 2 * stake_from_foot + 2 * LEAD))
    lane = options.get("lane_width", vehicle.width + HILL_LANE_ADD)
    at = _frame(place)
    foot = LEAD
    stake = foot + stake_from_foot
    u_exit = foot + slope + LEAD
    half = lane / 2
    return HillItem(
        **_common(item_id, "hill", classes, place, vehicle, _rect(at, 0.0, u_exit, -half, half),
                  _transverse("entry", at, 0.0, half, style), _transverse("exit", at, u_exit, half, style)),
        stake_line=_transverse("stake", at, stake, half, style),
        edge_line=_boundary("edge", at, -half, 0.0, u_exit, style),
        slope_zone=_rect(at, foot, foot + slope, -half, half),
        control_lines=(
            _transverse("control_before", at, stake - CONTROL_LINE_OFFSET, half, style),
            _transverse("control_after", at, stake + CONTROL_LINE_OFFSET, half, style),
        ),
    )


def bridge(item_id: str, classes: tuple[str, ...], place: Placement, vehicle: VehicleModel, style: LineStyle,
           options: dict[str, Any]) -> BridgeItem:
    """Deck A (甲, left) then deck B (乙, right); a two-wheeler course has deck A only, centred."""
    width = options.get("deck_width", DECK_WIDTH)
    length = options.get("deck_length", DECK_LENGTH_FACTOR * vehicle.wheelbase)
    gap = options.get("deck_gap", DECK_GAP_FACTOR * vehicle.wheelbase)
    offset = options.get("deck_offset", vehicle.track + DECK_OFFSET_ADD)
    at = _frame(place)
    a_start = LEAD + vehicle.wheelbase  # room to line the vehicle up before the first deck
    if vehicle.kind == "two_wheeler":
        spans = {"A": (a_start, a_start + length, 0.0)}
    else:
        b_start = a_start + length + gap
        spans = {"A": (a_start, a_start + length, offset / 2), "B": (b_start, b_start + length, -offset / 2)}
    u_exit = max(end for _, end, _ in spans.values()) + LEAD
    half = max(abs(v) for _, _, v in spans.values()) + vehicle.width + LEAD / 2
    decks = {
        name: deck_from_polygon(item_id, name, _rect(at, u0, u1, v - width / 2, v + width / 2),
                                (place.x, place.y), place.heading)
        for name, (u0, u1, v) in spans.items()
    }
    return BridgeItem(
        **_common(item_id, "bridge", classes, place, vehicle, _rect(at, 0.0, u_exit, -half, half),
                  _transverse("entry", at, 0.0, half, style), _transverse("exit", at, u_exit, half, style)),
        decks=decks,
        deck_sensors=bool(options.get("deck_sensors", False)),
    )


GENERATORS = {"pile": pile, "hill": hill, "bridge": bridge}

# Course-file keys each generator accepts (numbers unless listed in STRING_OPTIONS / BOOL_OPTIONS).
GENERATOR_OPTIONS = {
    "pile": ("piles", "spacing", "edge_distance", "pole_radius", "first_side", "layout"),
    "hill": ("stake_distance", "slope_length", "lane_width"),
    "bridge": ("deck_width", "deck_length", "deck_gap", "deck_offset", "deck_sensors"),
}

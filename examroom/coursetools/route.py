"""Route planning: the path of a clean attempt, built from the course file's geometry.

The planner reads the items a class drives (``course.items_for``) and lays a
path through them for the vehicle's *rear axle centre*: a real vehicle's rear
axle moves along its heading, so the body swings the way it really does in the
slalom. Inside each item the path is a function ``v(u)`` in the item frame
(``u`` along the travel heading, ``v`` to the left), sampled densely, so the
heading is smooth without any corner blending:

- 桩考: a cosine weave round the poles on their set sides, faded in and out
  with a smoothstep window; its amplitude and lag are searched so that the
  placed vehicle keeps the largest clearance from poles and boundary lines
  (wheel contact points for two-wheelers, the outline otherwise — what the
  pile item judges). A course too tight for any weave raises
  :class:`RouteError` with the best clearance found.
- 坡道: a lane change toward the right edge line, then straight up to the stop
  with the class's hill reference point (read from the rule set) on the stake
  line and the body a chosen gap from the edge line; then on to the exit.
- 单边桥: for each stage of the vehicle kind's crossing pattern, straight
  along the deck with the stage's wheels on its centre, with smooth lane
  changes between stages.

Consecutive items must share a heading (a row of items, as on the demo
course); the lateral offset between them is taken up by lane changes.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import shapely
from shapely.geometry import Point

from examroom.coursetools.path import Path
from scoring.body_lines import body_beyond
from scoring.course import Course
from scoring.item_geometry import BridgeItem, HillItem, Item, PileItem
from scoring.rules import RuleSet
from scoring.vehicle import VehicleModel

TRACKED_POINT = "rear_axle"
SAMPLE = 0.05  # m between path points inside items
LEAD_IN = 3.0  # m of straight run-up before the first item's entry line (from the front of the vehicle)
RUN_OUT = 1.5  # m the rear axle drives past an item's exit line before the next lane change
HILL_EDGE_GAP = 0.15  # m from the body to the edge line's judging reference: close, not touching
HILL_ALIGN = 1.0  # m of straight, square run before the stop


class RouteError(ValueError):
    """The course cannot be driven cleanly by this vehicle as planned; says where and by how much."""

    def __init__(self, message: str, clearance: float | None = None) -> None:
        super().__init__(message)
        self.clearance = clearance  # the best slalom's clearance (m) when that is what failed


@dataclass(frozen=True)
class Leg:
    """A stretch of the route driven at one cruise speed (m/s)."""

    path: Path
    speed: float
    name: str


@dataclass(frozen=True)
class Route:
    """A clean attempt's path: the legs up to the hill stop and the legs after it."""

    vehicle: VehicleModel
    track: tuple[float, float]  # tracked point (rear axle centre) from the antenna, vehicle frame
    start: tuple[float, float, float]  # tracked point x, y and heading at the start
    to_hill: tuple[Leg, ...]
    from_hill: tuple[Leg, ...]
    pile: PileItem
    hill: HillItem
    bridge: BridgeItem
    weave_clearance: float  # smallest clearance of the slalom (m), poles or lines
    marks: dict[str, tuple[str, float]] = field(default_factory=dict)  # name -> (leg name, s along it)

    def leg(self, name: str) -> Leg:
        for leg in self.to_hill + self.from_hill:
            if leg.name == name:
                return leg
        raise KeyError(name)


@dataclass(frozen=True)
class Speeds:
    """Cruise speeds (m/s): realistic for the items, 1–3 m/s."""

    approach: float = 2.0
    pile: float = 1.8
    transfer: float = 2.5
    hill: float = 1.5
    bridge: float = 1.2
    finish: float = 2.0


def _smoothstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)


def _smootherstep(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * x * (x * (6 * x - 15) + 10)


def _shift(v0: float, v1: float, u0: float, u1: float) -> Callable[[float], float]:
    """Lane change from ``v0`` to ``v1`` between ``u0`` and ``u1`` with zero slope and curvature at both ends."""
    return lambda u: v0 + (v1 - v0) * _smootherstep((u - u0) / (u1 - u0)) if u1 > u0 else v1


def _sample(item: Item, v_of: Callable[[float], float], u0: float, u1: float) -> list[tuple[float, float]]:
    n = max(2, int(math.ceil((u1 - u0) / SAMPLE)))
    return [item.to_course(u0 + (u1 - u0) * k / n, v_of(u0 + (u1 - u0) * k / n)) for k in range(n + 1)]


def _heading_at(item: Item, v_of: Callable[[float], float], u: float) -> float:
    slope = (v_of(u + 1e-3) - v_of(u - 1e-3)) / 2e-3
    return item.heading - math.degrees(math.atan(slope))  # v is to the left: a positive slope turns left


def _local_x(vehicle: VehicleModel, name: str) -> float:
    return vehicle.local_point(name)[0] - vehicle.local_point(TRACKED_POINT)[0]


# ---------------------------------------------------------------------------------- 桩考


@dataclass(frozen=True)
class Weave:
    amplitude: float
    lag: float  # the path's peaks lie this far before the poles (the body reaches ahead of the rear axle)
    clearance: float


def _weave_function(item: PileItem, amplitude: float, lag: float,
                    ease: float) -> tuple[Callable[[float], float], float, float]:
    """v(u) of the weave and the u range over which it differs from 0.

    A lane change of length ``ease`` brings the vehicle out to the first
    pole's side before it gets there (its body reaches ahead of the rear
    axle), then a cosine weave swings it round each pole, and a last lane
    change brings it back to the centre line after the last pole.
    """
    us = [item.to_item(p.position)[0] for p in item.poles]
    spacing = (us[-1] - us[0]) / (len(us) - 1) if len(us) > 1 else 2.0
    first_sign = 1.0 if item.poles[0].side == "left" else -1.0
    first_peak, last_peak = us[0] - lag, us[-1] - lag
    last_sign = first_sign * (-1.0) ** (len(us) - 1)
    start, end = first_peak - ease, last_peak + ease

    def v(u: float) -> float:
        if u <= first_peak:
            return first_sign * amplitude * _smootherstep((u - start) / ease)
        if u >= last_peak:
            return last_sign * amplitude * (1.0 - _smootherstep((u - last_peak) / ease))
        return first_sign * amplitude * math.cos(math.pi * (u - first_peak) / spacing)

    return v, start, end


def _ease(vehicle: VehicleModel) -> float:
    """Length of the lane changes into and out of the weave: a body length and a bit."""
    return vehicle.length + 1.5


def _weave_clearance(item: PileItem, vehicle: VehicleModel, amplitude: float, lag: float, step: float = 0.1) -> float:
    """Smallest clearance (m) of the placed vehicle from the poles and boundary lines; < 0: touches."""
    v_of, start, end = _weave_function(item, amplitude, lag, _ease(vehicle))
    two_wheeler = vehicle.kind == "two_wheeler"
    reach = vehicle.length + 0.5
    worst = math.inf
    steps = []  # (x, y, placement) of the tracked point at each step
    u = start
    while u <= end:
        heading = _heading_at(item, v_of, u)
        x, y = item.to_course(u, v_of(u))
        placed = vehicle.place(*vehicle.antenna_for(TRACKED_POINT, x, y, heading), heading)
        steps.append((x, y, placed))
        for line in item.boundary_lines:
            # Two-wheelers are judged by their wheels' contact points, other vehicles by the body.
            past = (max(line.beyond(placed.point(w)) for w in vehicle.wheel_names) if two_wheeler
                    else body_beyond(placed, line))
            worst = min(worst, -past)
        u += step
    return min(worst, _pole_clearance(item, steps, reach))


def _pole_clearance(item: PileItem, steps: list, reach: float) -> float:
    """Smallest clearance of the outlines placed at ``steps`` from the poles within reach.

    The outlines are built and measured by GEOS in one call each (shapely's array functions): the
    same distances as one Polygon at a time, without a Python object per step.
    """
    worst = math.inf
    for pole in item.poles:
        px, py = pole.position
        near = [placed.corners for x, y, placed in steps if abs(px - x) + abs(py - y) < 2 * reach]
        if not near:
            continue
        outlines = shapely.polygons(np.asarray(near, dtype=float))
        gaps = shapely.distance(shapely.get_exterior_ring(outlines), Point(pole.position))
        # A pole inside the outline is driven through: count how deep, not 0 (which would make
        # every pole overlap look like -radius, and a weave straight through the poles "best").
        depth = np.where(shapely.contains_xy(outlines, px, py), -gaps, gaps)
        worst = min(worst, float(depth.min()) - pole.radius)
    return worst


# A pure function of the item and the vehicle, and the costliest step of planning: every route of
# one vehicle on one course (the scenarios' variants differ at the hill or the bridge) weaves alike.
@functools.lru_cache(maxsize=64)
def plan_weave(item: PileItem, vehicle: VehicleModel) -> Weave:
    """The amplitude and lag of the weave with the largest clearance (coarse grid, then finer)."""
    half_lane = min(abs(line.side(item.frame_origin)) for line in item.boundary_lines)
    best = Weave(0.0, 0.0, -math.inf)
    amplitudes = [half_lane * k / 10 for k in range(2, 10)]
    lags = [vehicle.wheelbase * k / 8 - vehicle.wheelbase / 2 for k in range(0, 17)]
    for a in amplitudes:
        for lag in lags:
            c = _weave_clearance(item, vehicle, a, lag, step=0.2)
            if c > best.clearance:
                best = Weave(a, lag, c)
    da, dl = half_lane / 20, vehicle.wheelbase / 16
    for _ in range(2):
        centre = best
        for a in (centre.amplitude - da, centre.amplitude, centre.amplitude + da):
            for lag in (centre.lag - dl, centre.lag, centre.lag + dl):
                c = _weave_clearance(item, vehicle, a, lag, step=0.1)
                if c > best.clearance:
                    best = Weave(a, lag, c)
        da, dl = da / 2, dl / 2
    final = _weave_clearance(item, vehicle, best.amplitude, best.lag, step=0.05)
    return Weave(best.amplitude, best.lag, final)


# ---------------------------------------------------------------------------------- planner


def _single(course: Course, vehicle_class: str, kind: type) -> Item:
    items = [i for i in course.items_for(vehicle_class) if isinstance(i, kind)]
    if len(items) != 1:
        raise RouteError(f"class {vehicle_class}: expected one {kind.__name__}, found {len(items)}")
    return items[0]


def _hill_lane(item: HillItem, vehicle: VehicleModel, gap: float) -> float:
    """Tracked-point v at which the body stands ``gap`` from the edge line's judging reference."""
    x, y = item.to_course(0.0, 0.0)
    placed = vehicle.place(*vehicle.antenna_for(TRACKED_POINT, x, y, item.heading), item.heading)
    current = -body_beyond(placed, item.edge_line)
    # Moving toward the edge line reduces the gap one for one; which way is "toward" is the
    # line's negative side, found from its side of the item frame origin.
    toward = -1.0 if item.edge_line.side(item.to_course(0.0, 1.0)) > item.edge_line.side(item.frame_origin) else 1.0
    return toward * (current - gap)


def plan_route(course: Course, vehicle_model: str, ruleset: RuleSet, *, hill_short: float = 0.0,
               drop_wheel: str | None = None, speeds: Speeds = Speeds(),
               min_clearance: float = 0.05) -> Route:
    """The path of a clean attempt for ``vehicle_model`` (an id of the course's vehicles).

    ``hill_short`` stops the hill reference point that far before the stake
    line; ``drop_wheel`` names a wheel of the first bridge stage that leaves
    its deck in the middle (the bridge_drop scenario). Everything else is a
    clean attempt.
    """
    vehicle = course.vehicle(vehicle_model)
    cls = vehicle.vehicle_class
    pile = _single(course, cls, PileItem)
    hill = _single(course, cls, HillItem)
    bridge = _single(course, cls, BridgeItem)
    order = [i.id for i in course.items_for(cls)]
    if order != [pile.id, hill.id, bridge.id]:
        raise RouteError(f"class {cls}: items in order {order}; the planner drives pile, hill, bridge")
    for a, b in ((pile, hill), (hill, bridge)):
        if abs((a.heading - b.heading + 180) % 360 - 180) > 0.5 or abs(a.to_item(b.frame_origin)[1]) > 5.0:
            raise RouteError(f"items {a.id} and {b.id} are not in one row; the planner needs a connector")
    reference = ruleset.hill_reference_point[cls]
    front = _local_x(vehicle, "front_bumper")
    rear_wheel_to_front_axle = _local_x(vehicle, "front_axle")

    # --- 桩考 --------------------------------------------------------------------------------
    weave = plan_weave(pile, vehicle)
    if weave.clearance < min_clearance:
        raise RouteError(
            f"{pile.id}: no clean slalom for {vehicle.id} ({vehicle.length} × {vehicle.width} m): the best weave "
            f"found (amplitude {weave.amplitude:.2f} m, lag {weave.lag:.2f} m) leaves {weave.clearance:+.3f} m "
            f"to the poles or boundary lines (need ≥ {min_clearance} m)", clearance=weave.clearance)
    v_pile, w_start, w_end = _weave_function(pile, weave.amplitude, weave.lag, _ease(vehicle))
    u_start = -LEAD_IN - front
    pile_exit = pile.to_item(pile.exit.points[0])[0]
    approach = Path(_sample(pile, v_pile, u_start, min(w_start, -front)))
    slalom = Path(_sample(pile, v_pile, min(w_start, -front), max(w_end, pile_exit + RUN_OUT)))
    start_xy = approach.start

    # --- 坡道 --------------------------------------------------------------------------------
    u_in, v_in = hill.to_item(slalom.end)
    v_lane = _hill_lane(hill, vehicle, HILL_EDGE_GAP)
    stake_u = hill.to_item(_midpoint(hill.stake_line.points))[0]
    u_stop = stake_u - _local_x(vehicle, reference) - hill_short
    foot = hill.to_item(hill.slope_zone.exterior.coords[0])[0]
    shift_end = min(u_stop - HILL_ALIGN, max(foot, u_in + 3.0))
    v_hill = _shift(v_in, v_lane, u_in, shift_end)
    to_hill = Path(_sample(hill, v_hill, u_in, u_stop))
    # Split so the run-in keeps its speed and the last metres up the slope are slow.
    entry_u = -rear_wheel_to_front_axle - 0.5
    transfer, climb = to_hill.split(to_hill.project(hill.to_course(entry_u, v_hill(entry_u))))
    hill_exit = hill.to_item(hill.exit.points[0])[0]
    move_off = Path(_sample(hill, lambda u: v_lane, u_stop, hill_exit + RUN_OUT))

    # --- 单边桥 ------------------------------------------------------------------------------
    u_b, v_b = bridge.to_item(move_off.end)
    pieces: list[tuple[float, float, float]] = []  # (u from, u to, v) straight runs along decks
    for deck_name, wheels in bridge.pattern(vehicle.kind):
        deck = bridge.decks[deck_name]
        deck_v = bridge.to_item(_centroid(deck.polygon))[1]
        offsets = [vehicle.local_point(w)[1] - vehicle.local_point(TRACKED_POINT)[1] for w in wheels]
        ahead = max(_local_x(vehicle, w) for w in wheels)
        pieces.append((deck.start - ahead - 0.5, deck.end + 0.3, deck_v - sum(offsets) / len(offsets)))
    bridge_exit = bridge.to_item(bridge.exit.points[0])[0]
    finish_u = bridge_exit + RUN_OUT + vehicle.length

    def v_bridge(u: float) -> float:
        v, last_u = v_b, u_b
        for u0, u1, target in pieces:
            if u < u0:
                return _shift(v, target, last_u, u0)(u)
            if u <= u1:
                return target
            v, last_u = target, u1
        return v

    v_cross = v_bridge
    marks: dict[str, tuple[str, float]] = {}
    if drop_wheel is not None:
        v_cross, drop_u = _with_drop(bridge, vehicle, pieces, v_bridge, drop_wheel)
    crossing = Path(_sample(bridge, v_cross, u_b, finish_u))
    to_bridge, over = crossing.split(crossing.project(bridge.to_course(pieces[0][0], v_cross(pieces[0][0]))))
    over, finish = over.split(over.project(bridge.to_course(bridge_exit, v_cross(bridge_exit))))

    legs_in = (Leg(approach, speeds.approach, "approach"), Leg(slalom, speeds.pile, "pile"),
               Leg(transfer, speeds.transfer, "to_hill"), Leg(climb, speeds.hill, "climb"))
    legs_out = (Leg(move_off, speeds.hill, "move_off"), Leg(to_bridge, speeds.transfer, "to_bridge"),
                Leg(over, speeds.bridge, "bridge"), Leg(finish, speeds.finish, "finish"))
    for pole in pile.poles:
        marks[pole.element] = ("pile", slalom.project(pile.to_course(pile.to_item(pole.position)[0], 0.0)))
    start_heading = approach.heading_at(0.0)
    return Route(vehicle=vehicle, track=_track_offset(vehicle), start=(start_xy[0], start_xy[1], start_heading),
                 to_hill=legs_in, from_hill=legs_out, pile=pile, hill=hill, bridge=bridge,
                 weave_clearance=weave.clearance, marks=marks)


def _with_drop(bridge: BridgeItem, vehicle: VehicleModel, pieces, v_of, wheel: str):
    """The first stage's path with ``wheel`` steered off its deck half-way along it.

    The swerve starts once every wheel ahead of ``wheel`` is past the deck's
    end, so only that wheel drops; it moves the wheel sideways by a deck width
    plus 10 cm, clear of the deck.
    """
    deck_name, wheels = bridge.pattern(vehicle.kind)[0]
    if wheel not in wheels:
        raise RouteError(f"{wheel} does not run over the first deck of a {vehicle.kind}")
    deck = bridge.decks[deck_name]
    u0, u1, v_deck = pieces[0]
    wheel_x = _local_x(vehicle, wheel)
    # Tracked-point u at which the wheel is at mid-deck; wait until the stage's wheels ahead
    # of it have left the deck (plus a margin), or they would drop too.
    mid = (deck.start + deck.end) / 2 - wheel_x
    begin = mid - 0.3
    ahead = [_local_x(vehicle, w) for w in wheels if w != wheel and _local_x(vehicle, w) > wheel_x]
    if ahead:
        begin = max(begin, deck.end - max(ahead) + 0.25)
    # A gentle swerve (a sharp one would read as weaving on a two-wheeler's tilt sensor) that
    # takes the wheel a deck width plus 10 cm sideways: clear of the deck and its sensor.
    end = begin + 1.0
    if end + wheel_x > deck.end:
        raise RouteError(f"deck {deck_name} is too short to drop the {wheel} wheel in its middle")
    width = abs(bridge.to_item(deck.polygon.exterior.coords[0])[1] - bridge.to_item(deck.polygon.exterior.coords[2])[1])
    side = -1.0 if v_deck >= 0 else 1.0  # swerve toward the item's centre line
    swerve = _shift(0.0, side * (width + 0.1), begin, end)

    def v(u: float) -> float:
        base = v_of(u)
        if u < begin:
            return base
        if u <= u1:
            return base + swerve(u)
        # After the deck, ease back into the planned line by the next stage.
        return base + swerve(u) * (1.0 - _smootherstep((u - u1) / 2.5))

    return v, begin


def _track_offset(vehicle: VehicleModel) -> tuple[float, float]:
    p, a = vehicle.local_point(TRACKED_POINT), vehicle.antenna
    return (p[0] - a[0], p[1] - a[1])


def _midpoint(points) -> tuple[float, float]:
    (x0, y0), (x1, y1) = points[0], points[-1]
    return ((x0 + x1) / 2, (y0 + y1) / 2)


def _centroid(polygon) -> tuple[float, float]:
    c = polygon.centroid
    return (c.x, c.y)

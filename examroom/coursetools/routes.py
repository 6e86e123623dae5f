"""Whether a course can be driven cleanly: the simulation's route planner run on a course file.

``examroom course new`` runs it on what it writes and ``examroom course check FILE`` on a
surveyed file. For each class whose items the planner drives (桩考, 坡道, 单边桥 in one row:
C4, D, E, F) and each exam vehicle of that class in the course file, it plans a clean attempt
(:func:`examroom.coursetools.route.plan_route`): the 桩考 weave that keeps the placed vehicle
farthest from the poles and boundary lines (wheel contact points for two-wheelers, the body
outline otherwise), the hill stop and the bridge crossings. A slalom whose best weave leaves
less than :data:`MIN_CLEARANCE` is not clean: a candidate who drives it as well as the planner
still touches a pole or a line. A clean route also names the tightest turn radius the slalom
needs, to compare with the exam vehicle's (the course file does not hold turning radii). The
planner does not drive the small-car items (C3, M) or the
tractor field course; those classes are reported as not checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from examroom.coursetools.route import RouteError, plan_route
from scoring.course import Course
from scoring.rules import RuleSet

# Metres the planned slalom must keep from every pole and line (the planner's own default):
# less is within the noise of a real driver and of the judge's position.
MIN_CLEARANCE = 0.05
PLANNED_ITEMS = ("pile", "hill", "bridge")


@dataclass(frozen=True)
class RouteCheck:
    vehicle_class: str
    vehicle: str  # the exam vehicle's id in the course file
    checked: bool  # False: the planner does not drive this class's items
    clean: bool
    clearance: float | None  # the slalom's clearance (m), when a slalom was planned
    message: str
    tightest_turn: float | None = None  # m: the smallest radius the planned slalom turns on (rear axle)
    wheelbase: float | None = None

    @property
    def steering(self) -> float:
        """Degrees of front-wheel angle the tightest turn needs (bicycle model: atan(wheelbase / radius))."""
        return math.degrees(math.atan2(self.wheelbase, self.tightest_turn))

    def line(self) -> str:
        where = f"{self.vehicle_class} {self.vehicle}"
        if not self.checked:
            return f"{where}: not checked ({self.message})"
        if self.clean:
            return (f"{where}: clean route, slalom clearance {self.clearance:+.3f} m, tightest turn radius "
                    f"{self.tightest_turn:.1f} m at the rear axle ({self.steering:.0f}° of steering)")
        return f"{where}: NO CLEAN ROUTE: {self.message}"


def check_routes(course: Course, ruleset: RuleSet) -> list[RouteCheck]:
    """One check per class and exam vehicle of the course (slow: seconds per vehicle)."""
    out = []
    for cls in sorted({cls for item in course.items.values() for cls in item.classes}):
        types = tuple(item.type for item in course.items_for(cls))
        for vehicle in (v for v in course.vehicles.values() if v.vehicle_class == cls):
            if types != PLANNED_ITEMS:
                out.append(RouteCheck(cls, vehicle.id, False, False, None,
                                      f"the planner drives pile, hill, bridge; class {cls} has {', '.join(types)}"))
                continue
            try:
                route = plan_route(course, vehicle.id, ruleset, min_clearance=MIN_CLEARANCE)
            except RouteError as exc:
                out.append(RouteCheck(cls, vehicle.id, True, False, exc.clearance, str(exc)))
            else:
                out.append(RouteCheck(cls, vehicle.id, True, True, route.weave_clearance, "",
                                      _tightest_turn(route), vehicle.wheelbase))
    return out


def _tightest_turn(route, chord: float = 0.3) -> float:
    """The smallest turning radius of the planned slalom (m): what the vehicle must be able to steer.

    The circle through three path points ``chord`` apart, the smallest over the slalom.
    """
    slalom = next(leg.path for leg in route.to_hill if leg.name == "pile")
    tightest = math.inf
    s = chord
    while s + chord <= slalom.length:
        a, b, c = slalom.point_at(s - chord), slalom.point_at(s), slalom.point_at(s + chord)
        twice_area = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        if twice_area > 1e-12:
            tightest = min(tightest, math.dist(a, b) * math.dist(b, c) * math.dist(a, c) / (2 * twice_area))
        s += chord / 2
    return tightest

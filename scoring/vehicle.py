"""Exam vehicle models: outline, wheel contact points and GNSS antenna offset.

Vehicle frame: metres, x forward, y left, origin at the rear axle centre (for a
two-wheeler, the rear wheel's contact point). The judge places the model in
the course frame from each GNSS fix of the antenna.
"""

from __future__ import annotations

import functools
import math

from dataclasses import dataclass, field

from shapely.geometry import Polygon

from .geometry import Vec, forward, leftward

# The "five small vehicles" classes (domain/README.md): C3 低速载货汽车, M 轮式专用机械车,
# C4 三轮汽车, D/E/F motorcycles, and the tractors G1/G2 (轮式拖拉机 / 运输机组), K1/K2
# (手扶拖拉机 / 运输机组), which the agriculture ministry examines (research.md §2.7).
VEHICLE_CLASSES = ("C3", "M", "C4", "D", "E", "F", "G1", "G2", "K1", "K2")
TRACTOR_CLASSES = ("G1", "G2", "K1", "K2")
MOTORCYCLE_CLASSES = ("D", "E", "F")

# Wheel contact points each vehicle kind has (research.md §2.5 names them this way).
WHEELS_BY_KIND: dict[str, tuple[str, ...]] = {
    "two_wheeler": ("front", "rear"),
    "three_wheeler": ("front", "rear_left", "rear_right"),  # 正三轮, 三轮汽车
    "sidecar": ("front", "rear_left", "side"),  # 侧三轮: the sidecar wheel is on the right
    # 低速载货汽车, 轮式专用机械车, 轮式拖拉机; a 手扶拖拉机 with its trailer is modelled the same
    # way (drive wheels in front, trailer wheels behind) with its combined outline.
    "four_wheeler": ("front_left", "front_right", "rear_left", "rear_right"),
}

REFERENCE_POINTS = ("front_axle", "front_bumper", "rear_axle", "rear_bumper", "antenna")


class VehicleError(ValueError):
    """A vehicle model that cannot be built; the message names the field."""


class Placement:
    """A vehicle model placed in the course frame at one moment.

    The outline polygon is built when first asked for: between items (most of an attempt's
    fixes) the judge needs only the named points.
    """

    __slots__ = ("heading", "points", "_corners", "_outline")

    def __init__(self, heading: float, points: dict[str, Vec], corners: list[Vec] | None = None,
                 outline: Polygon | None = None) -> None:
        self.heading = heading
        self.points = points  # wheel contact points and reference points, course frame
        self._corners = corners
        self._outline = outline

    @property
    def outline(self) -> Polygon:
        if self._outline is None:
            self._outline = Polygon(self._corners)
        return self._outline

    @property
    def corners(self) -> list[Vec]:
        """The outline's corners in ring order, without the ring's closing repeat. Where a question
        is about the corners alone (how far the furthest is past a line), no polygon is built."""
        if self._corners is None:
            self._corners = list(self._outline.exterior.coords)[:-1]
        return self._corners

    def point(self, name: str) -> Vec:
        return self.points[name]


@dataclass(frozen=True)
class VehicleModel:
    """One exam vehicle as the course file describes it."""

    id: str
    vehicle_class: str
    kind: str
    length: float
    width: float
    wheelbase: float
    track: float
    rear_overhang: float
    antenna: Vec
    outline: tuple[Vec, ...]
    wheels: dict[str, Vec] = field(hash=False)

    @property
    def wheel_names(self) -> tuple[str, ...]:
        return WHEELS_BY_KIND[self.kind]

    def local_point(self, name: str) -> Vec:
        """A named point in the vehicle frame (a wheel or a reference point)."""
        if name in self.wheels:
            return self.wheels[name]
        if name == "front_axle":
            return (self.wheelbase, self.wheels["front"][1] if "front" in self.wheels else 0.0)
        if name == "front_bumper":
            return (self.length - self.rear_overhang, 0.0)
        if name == "rear_axle":
            return (0.0, 0.0)
        if name == "rear_bumper":
            return (-self.rear_overhang, 0.0)
        if name == "antenna":
            return self.antenna
        raise KeyError(f"vehicle {self.id}: no point named {name!r}")

    def lever_arm(self, name: str) -> float:
        """How far a named point is from the GNSS antenna (metres): a heading error swings it sideways by
        this × tan(error)."""
        x, y = self.local_point(name)
        return math.hypot(x - self.antenna[0], y - self.antenna[1])

    @functools.cached_property
    def outline_lever_arm(self) -> float:
        """The furthest outline corner's distance from the antenna (the body's longest lever arm)."""
        return max(math.hypot(x - self.antenna[0], y - self.antenna[1]) for x, y in self.outline)

    def point_names(self) -> tuple[str, ...]:
        return self.wheel_names + REFERENCE_POINTS

    def _to_course(self, ax: float, ay: float, heading: float, p: Vec) -> Vec:
        f, l = forward(heading), leftward(heading)
        du, dv = p[0] - self.antenna[0], p[1] - self.antenna[1]
        return (ax + du * f[0] + dv * l[0], ay + du * f[1] + dv * l[1])

    @functools.cached_property
    def _named_points(self) -> tuple[tuple[str, Vec], ...]:
        return tuple((name, self.local_point(name)) for name in self.point_names())

    def place(self, x: float, y: float, heading: float) -> Placement:
        """Outline and named points in the course frame, given the ANTENNA position.

        The same arithmetic as :meth:`_to_course`, with the heading's sine and cosine taken once
        (the judge places the vehicle at every fix).
        """
        r = math.radians(heading)
        s, c = math.sin(r), math.cos(r)  # forward = (s, c), leftward = (−c, s)
        ax, ay = self.antenna

        def to_course(p: Vec) -> Vec:
            du, dv = p[0] - ax, p[1] - ay
            return (x + du * s + dv * -c, y + du * c + dv * s)

        points = {name: to_course(p) for name, p in self._named_points}
        return Placement(heading, points, corners=[to_course(p) for p in self.outline])

    def antenna_for(self, point: str, x: float, y: float, heading: float) -> Vec:
        """The antenna position that puts the named point at (x, y) with this heading."""
        px, py = self._to_course(0.0, 0.0, heading, self.local_point(point))
        return (x - px, y - py)


def _rectangle(rear: float, front: float, half_width: float) -> tuple[Vec, ...]:
    return ((rear, -half_width), (front, -half_width), (front, half_width), (rear, half_width))


def default_wheels(kind: str, wheelbase: float, track: float) -> dict[str, Vec]:
    """Wheel contact points from the dimensions (vehicle frame)."""
    half = track / 2
    if kind == "two_wheeler":
        return {"front": (wheelbase, 0.0), "rear": (0.0, 0.0)}
    if kind == "three_wheeler":
        return {"front": (wheelbase, 0.0), "rear_left": (0.0, half), "rear_right": (0.0, -half)}
    if kind == "four_wheeler":
        return {"front_left": (wheelbase, half), "front_right": (wheelbase, -half),
                "rear_left": (0.0, half), "rear_right": (0.0, -half)}
    # sidecar: the motorcycle's wheels are in line on the left, the sidecar wheel on the right
    return {"front": (wheelbase, half), "rear_left": (0.0, half), "side": (0.0, -half)}


def build_vehicle(
    id: str,
    vehicle_class: str,
    kind: str,
    length: float,
    width: float,
    wheelbase: float,
    track: float = 0.0,
    rear_overhang: float | None = None,
    antenna: Vec = (0.0, 0.0),
    outline: tuple[Vec, ...] | None = None,
    wheels: dict[str, Vec] | None = None,
) -> VehicleModel:
    """Build a model; outline and wheels are generated from the dimensions unless given."""
    if vehicle_class not in VEHICLE_CLASSES:
        raise VehicleError(f"class: unknown class {vehicle_class!r} (known: {', '.join(VEHICLE_CLASSES)})")
    if kind not in WHEELS_BY_KIND:
        raise VehicleError(f"kind: unknown kind {kind!r} (known: {', '.join(WHEELS_BY_KIND)})")
    for name, value in (("length", length), ("width", width), ("wheelbase", wheelbase)):
        if value <= 0:
            raise VehicleError(f"{name}: must be positive, got {value}")
    if track < 0:
        raise VehicleError(f"track: must not be negative, got {track}")
    if kind != "two_wheeler" and track <= 0:
        raise VehicleError(f"track: a {kind} needs a positive track, got {track}")
    if wheelbase >= length:
        raise VehicleError(f"wheelbase: must be shorter than the length {length}, got {wheelbase}")
    if rear_overhang is None:
        rear_overhang = (length - wheelbase) / 2
    if rear_overhang < 0 or rear_overhang + wheelbase > length:
        raise VehicleError(f"rear_overhang: must lie in [0, length − wheelbase], got {rear_overhang}")
    if outline is None:
        outline = _rectangle(-rear_overhang, length - rear_overhang, width / 2)
    elif len(outline) < 3 or not Polygon(outline).is_valid:
        raise VehicleError("outline: need at least 3 points forming a simple polygon")
    if wheels is None:
        wheels = default_wheels(kind, wheelbase, track)
    else:
        missing = set(WHEELS_BY_KIND[kind]) - set(wheels)
        extra = set(wheels) - set(WHEELS_BY_KIND[kind])
        if missing or extra:
            raise VehicleError(
                f"wheels: a {kind} has wheels {', '.join(WHEELS_BY_KIND[kind])}; "
                f"missing {sorted(missing)}, unknown {sorted(extra)}"
            )
    return VehicleModel(
        id=id,
        vehicle_class=vehicle_class,
        kind=kind,
        length=length,
        width=width,
        wheelbase=wheelbase,
        track=track,
        rear_overhang=rear_overhang,
        antenna=(float(antenna[0]), float(antenna[1])),
        outline=tuple((float(x), float(y)) for x, y in outline),
        wheels={k: (float(v[0]), float(v[1])) for k, v in wheels.items()},
    )

"""The scripted attempts of the demo course, each with the result it must get.

Usage::

    from examroom.simulation.scenarios import all_scenarios, scenario
    for sc in all_scenarios():                 # or scenario("E", "hill_short")
        for state in sc.samples(0.05):         # WorldState, t from 0 to sc.duration
            ...
        stream = list(sc.observations())       # perfect-device observation stream
        sc.expected.rules, sc.expected.score, sc.expected.passed

Every attempt begins the same way: the vehicle stands before the pile item
with the engine off, gear N, helmet on or seat belt fastened as the class
needs (read from the rule set), the parking brake on where the vehicle has
one; the candidate starts the engine properly (starter held under 1 s), and
then the start command is issued. Each scenario changes one thing from the
clean attempt. Expected rule ids are data here; the expected score and verdict
follow from those rules' points in the rule set, never from numbers copied
into this module.

C4 and the demo course: with the motorcycle formula (poles 1.6 m from the
boundary lines for a 3.2 × 1.3 m vehicle) no weave of a rigid body that size
stays inside the lines (:func:`examroom.coursetools.route.plan_weave` finds
−0.05 m at best), so the demo course widens the C4 pile lane (its
``edge_distance``; see the comment in config/courses/demo.toml).
"""

from __future__ import annotations

import math
import functools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterator

from examroom.coursetools.path import Path
from examroom.simulation.observe import DEFAULT_START_UTC, observations
from examroom.coursetools.route import Leg, Route, plan_route
from examroom.simulation.script import Pulse, Script, Set, Timeline
from examroom.simulation.sensors import CourseTruth
from examroom.simulation.world import VehicleTruth, WorldState
from scoring import config_files
from scoring.course import Course, load_course
from scoring.observations import Observation
from scoring.rules import RuleSet, default_ruleset_path, load_ruleset

DEMO_COURSE_PATH = config_files.course_file()
DEMO_MODELS = {"E": "E-01", "C4": "C4-01"}
# Vehicles with a parking brake (domain/README.md: C3, C4, tractors; D by model).
PARKING_BRAKE_CLASSES = ("C4",)

HILL_SHORT = 0.40  # m short of the stake line: the scenario says so
ROLLBACK = 0.40  # m rolled back on moving off: the scenario says so
HILL_HOLD = 3.0  # s stopped on the hill before moving off
ACCEL = 0.8  # m/s² mean acceleration and braking: gentle, as in an exam


@dataclass(frozen=True)
class Expected:
    """What the judge must say: the rules triggered (in order), the final score and the verdict."""

    rules: tuple[str, ...]
    score: int
    passed: bool

    @classmethod
    def of(cls, ruleset: RuleSet, rules: tuple[str, ...]) -> "Expected":
        score, passed = ruleset.start_score, True
        for rule_id in rules:
            rule = ruleset.rule(rule_id)
            score = max(score - rule.deducted, 0)
            passed = passed and not rule.disqualify
        return cls(rules, score, passed and score >= ruleset.pass_mark)


@dataclass(frozen=True)
class Scenario:
    """One scripted attempt: its ground truth over time and the result it must get."""

    name: str
    vehicle_class: str
    vehicle_model: str
    description: str
    course: Course = field(repr=False)
    timeline: Timeline = field(repr=False)
    sensors: CourseTruth = field(repr=False)
    expected: Expected
    vehicle: str = "sim-1"  # the vehicle id the devices report

    @property
    def duration(self) -> float:
        return self.timeline.duration

    @property
    def start_command_at(self) -> float:
        """Scenario time at which the start command is issued."""
        return next(t for t, action in self.timeline.commands if action == "start")

    def state(self, t: float, step: float = 0.05) -> WorldState:
        truth = self.timeline.state(t)
        return WorldState(t=t, vehicle=truth, course_sensors=self.sensor_state(t, truth),
                          commands=self.timeline.commands_at(t, step))

    def sensor_state(self, t: float, truth: VehicleTruth | None = None) -> dict[str, bool]:
        """The course sensors at scenario time ``t`` (what a board polled then reads); ``truth``:
        the vehicle then, when the caller has it."""
        return self.sensors.read(truth if truth is not None else self.timeline.state(t), self.timeline.active_pulses(t))

    def samples(self, step: float = 0.05) -> Iterator[WorldState]:
        """World states at ``step`` seconds from 0 to the end, the same every time."""
        for t in self.timeline.times(step):
            yield self.state(t, step)

    def observations(self, start_utc: datetime = DEFAULT_START_UTC, step: float = 0.05,
                     from_start: bool = True) -> Iterator[Observation]:
        """The attempt's observation stream from perfect devices (see :mod:`observe`)."""
        return observations(self.samples(step), vehicle=self.vehicle, vehicle_class=self.vehicle_class,
                            vehicle_model=self.vehicle_model, start_utc=start_utc, from_start=from_start)


# ----------------------------------------------------------------------------- courses


@functools.lru_cache(maxsize=None)
def demo_course() -> Course:
    return load_course(DEMO_COURSE_PATH)


@functools.lru_cache(maxsize=None)
def default_ruleset() -> RuleSet:
    return load_ruleset(default_ruleset_path())


def course_for(vehicle_class: str) -> Course:
    return demo_course()


@functools.lru_cache(maxsize=None)
def _route(vehicle_class: str, hill_short: float = 0.0, drop_wheel: str | None = None) -> Route:
    course = course_for(vehicle_class)
    return plan_route(course, DEMO_MODELS[vehicle_class], _ruleset_with(course), hill_short=hill_short,
                      drop_wheel=drop_wheel)


def _ruleset_with(course: Course) -> RuleSet:
    return default_ruleset().with_overrides(course.overrides, f"course:{course.name}")


# ----------------------------------------------------------------------------- scripts


@dataclass
class _Variant:
    """What one scenario changes in the clean attempt."""

    hill_short: float = 0.0
    drop_wheel: str | None = None
    pile_events: Callable[[Route, RuleSet, Leg], list] = lambda route, ruleset, leg: []
    hill_start: str = "clean"  # "clean", "rollback" or "stall"


def _chain(script: Script, legs: tuple[Leg, ...], events: dict[str, list] | None = None) -> None:
    """Drive the legs one after the other without stopping between them."""
    # Speeds at the joins: no faster than either leg's cruise, and reachable from the join
    # before and brakeable to the join after (forward then backward pass, with a margin).
    joins = [0.0] + [min(a.speed, b.speed) for a, b in zip(legs, legs[1:])] + [0.0]
    for i, leg in enumerate(legs):
        joins[i + 1] = min(joins[i + 1], 0.9 * math.sqrt(joins[i] ** 2 + 2 * ACCEL * leg.path.length))
    for i in range(len(legs) - 1, -1, -1):
        joins[i] = min(joins[i], 0.9 * math.sqrt(joins[i + 1] ** 2 + 2 * ACCEL * legs[i].path.length))
    for i, leg in enumerate(legs):
        end_speed = joins[i + 1]
        script.drive(leg.path, leg.speed, end_speed=end_speed, accel=ACCEL, decel=ACCEL,
                     events=(events or {}).get(leg.name, ()))


def _build(vehicle_class: str, variant: _Variant) -> tuple[Script, Route]:
    ruleset = default_ruleset()
    route = _route(vehicle_class, variant.hill_short, variant.drop_wheel)
    vehicle = route.vehicle
    two_wheeler = vehicle.kind == "two_wheeler"
    brake = vehicle_class in PARKING_BRAKE_CLASSES
    signals = dict(ignition=False, engine=False, starter=False, gear="N",
                   helmet=True if ruleset.rule("general.helmet").applies_to(vehicle_class) else None,
                   seatbelt=True if ruleset.rule("general.seatbelt").applies_to(vehicle_class) else None,
                   parking_brake=True if brake else None,
                   left_footpeg=False if two_wheeler else None,  # feet on the ground at standstill
                   right_footpeg=False if two_wheeler else None)
    x, y, heading = route.start
    script = Script(x, y, heading, signals, lean=two_wheeler, track=route.track)

    def feet(up: bool) -> None:
        if two_wheeler:
            script.set(left_footpeg=up, right_footpeg=up)

    def move_off() -> None:
        if brake:
            script.set(parking_brake=False)
        script.wait(0.3)
        feet(True)  # feet up as the wheels start to turn, well below walking pace

    # Getting ready, then the start command.
    script.wait(1.0).start_engine(hold=0.7, crank=0.4).wait(0.5).command("start").wait(1.0)
    script.set(gear="1")
    move_off()
    pile_leg = route.leg("pile")
    _chain(script, route.to_hill, {"pile": variant.pile_events(route, ruleset, pile_leg)})
    # The fixed-point stop on the hill.
    feet(False)
    if brake:
        script.set(parking_brake=True)
    script.wait(HILL_HOLD)
    if variant.hill_start == "rollback":
        if brake:
            script.set(parking_brake=False)
        feet(True)
        script.rollback(ROLLBACK, speed=0.25, accel=0.4)
        script.wait(0.3)
    elif variant.hill_start == "stall":
        if brake:
            script.set(parking_brake=False)
        script.wait(0.5).stall()  # the clutch comes up too fast: the engine dies
        if brake:
            script.set(parking_brake=True)  # secure the vehicle before restarting
        script.wait(1.0).set(gear="N").wait(0.5).start_engine(hold=0.7, crank=0.4).wait(0.5).set(gear="1")
        script.wait(0.5)
    move_off()
    legs = route.from_hill
    if variant.hill_start == "rollback":
        # Climb back the distance lost, straight, then carry on along the planned route.
        x, y, _ = script.position
        legs = (Leg(Path([(x, y), legs[0].path.start]), legs[0].speed, "recover"),) + legs
    _chain(script, legs)
    feet(False)
    script.wait(1.0)
    return script, route


def _pole_touch(route: Route, ruleset: RuleSet, leg: Leg) -> list:
    element = route.pile.poles[2].element  # the third pole, mid-slalom
    return [(route.marks[element][1], Pulse(element, 0.3))]


def _foot_down(route: Route, ruleset: RuleSet, leg: Leg) -> list:
    # Mid-slalom, where the vehicle cruises at the pile speed: a foot off its peg for three
    # times the switch debounce, long enough to be a real foot down.
    s0 = route.marks[route.pile.poles[1].element][1] + 0.5
    held = 3 * ruleset.measure("footpeg_debounce") * leg.speed
    return [(s0, Set(left_footpeg=False)), (s0 + held, Set(left_footpeg=True))]


_DROP_WHEEL = {"two_wheeler": "rear", "three_wheeler": "rear_left", "sidecar": "rear_left"}

# name -> (classes, description, variant factory, expected rule ids)
_SCENARIOS: dict[str, tuple[tuple[str, ...], str, Callable[[str], _Variant], tuple[str, ...]]] = {
    "clean": (("E", "C4"), "A clean attempt: no deduction.", lambda c: _Variant(), ()),
    "hill_rollback": (("E", "C4"), f"Rolls back {ROLLBACK:.2f} m on moving off the hill.",
                      lambda c: _Variant(hill_start="rollback"), ("hill.rollback_major",)),
    "hill_short": (("E", "C4"), f"Stops with the hill reference point {HILL_SHORT:.2f} m short of the stake line.",
                   lambda c: _Variant(hill_short=HILL_SHORT), ("hill.stop_offset_minor",)),
    "pole_touch": (("E", "C4"), "The third pole's sensor fires in the slalom.",
                   lambda c: _Variant(pile_events=_pole_touch), ("pile.pole_touched",)),
    "foot_down": (("E",), "A foot leaves its peg at riding speed in the slalom.",
                  lambda c: _Variant(pile_events=_foot_down), ("general.foot_down_or_weave",)),
    "bridge_drop": (("E", "C4"), "A wheel that mounted the first deck drops off mid-deck.",
                    lambda c: _Variant(drop_wheel=_DROP_WHEEL[course_for(c).vehicle(DEMO_MODELS[c]).kind]),
                    ("bridge.wheel_dropped",)),
    "stall": (("E", "C4"), "The engine stalls on the hill start and is restarted in neutral.",
              lambda c: _Variant(hill_start="stall"), ("general.stall",)),
}


def scenario_names(vehicle_class: str) -> tuple[str, ...]:
    return tuple(name for name, (classes, *_rest) in _SCENARIOS.items() if vehicle_class in classes)


@functools.lru_cache(maxsize=None)
def scenario(vehicle_class: str, name: str) -> Scenario:
    """The scenario ``name`` for the demo course's exam vehicle of ``vehicle_class``."""
    classes, description, make, rules = _SCENARIOS[name]
    if vehicle_class not in classes:
        raise KeyError(f"no scenario {name!r} for class {vehicle_class}")
    script, route = _build(vehicle_class, make(vehicle_class))
    course = course_for(vehicle_class)
    return Scenario(name=name, vehicle_class=vehicle_class, vehicle_model=route.vehicle.id,
                    description=description, course=course, timeline=script.compile(),
                    sensors=CourseTruth(course, route.vehicle),
                    expected=Expected.of(_ruleset_with(course), rules))


DEMO_CLASSES = ("E", "C4")  # the demo course's exam vehicles' classes


def scenario_keys(classes: tuple[str, ...] = DEMO_CLASSES) -> list[tuple[str, str]]:
    """(vehicle class, scenario name) of every scenario, without building one (no route planned)."""
    return [(c, name) for c in classes for name in scenario_names(c)]


def all_scenarios(classes: tuple[str, ...] = DEMO_CLASSES) -> list[Scenario]:
    return [scenario(c, name) for c, name in scenario_keys(classes)]

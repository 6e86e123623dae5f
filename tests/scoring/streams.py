"""Builders of synthetic observation streams for the judge tests.

A :class:`Run` drives one vehicle model over a course: it moves a named point
of the vehicle (the front axle by default) along an item's frame (u along the
item's heading, v to its left), with the heading following the path, and
emits a Pose and a Signals snapshot at every step (10 Hz).
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable

from shapely.geometry import Point

from scoring.course import Course, load_course
from scoring.geometry import forward
from scoring.item_geometry import Item
from scoring.judge import judge_stream
from scoring.observations import Command, CommandAction, CourseSensor, FixQuality, Gear, Observation, Pose, Signals
from scoring.rules import RuleSet, load_ruleset

ROOT = Path(__file__).resolve().parents[2]
DEMO_COURSE = ROOT / "config" / "courses" / "demo.toml"
RULESET = ROOT / "config" / "rules" / "ga1026-2022.toml"
UTC0 = datetime(2025, 5, 6, 1, 30, tzinfo=timezone.utc)
RATE = 10.0  # fixes per second


@lru_cache(maxsize=None)
def demo_course() -> Course:
    return load_course(DEMO_COURSE)


@lru_cache(maxsize=None)
def ruleset() -> RuleSet:
    return load_ruleset(RULESET)


def default_signals(kind: str, vehicle_class: str) -> dict:
    signals = dict(ignition=True, engine=True, starter=False, gear=Gear.G1)
    if vehicle_class in ("C3", "M"):
        signals.update(seatbelt=True, parking_brake=False, left_turn=False, right_turn=False, gear=Gear.G2)
    elif vehicle_class in ("G1", "G2", "K1", "K2"):
        signals.update(seatbelt=None)
    elif vehicle_class == "C4":
        signals.update(seatbelt=True, parking_brake=False)
    else:
        signals.update(helmet=True)
    if kind == "two_wheeler":
        signals.update(left_footpeg=True, right_footpeg=True, roll=0.0)
    return signals


class Run:
    """One scripted attempt of one vehicle on a course."""

    def __init__(self, course: Course | None = None, model: str = "E-01", vehicle: str = "veh-1",
                 vehicle_class: str | None = None) -> None:
        self.course = course or demo_course()
        self.model = self.course.vehicle(model)
        self.vehicle = vehicle
        self.vehicle_class = vehicle_class or self.model.vehicle_class
        self.t = 0.0
        self.obs: list[Observation] = []
        self.signals = default_signals(self.model.kind, self.vehicle_class)
        self.x = self.y = 0.0  # antenna
        self.heading = 0.0
        self.ramp: float | None = None  # m/s²: follow() pulls away and brakes at this rate (None: at once)

    # --- set-up ---------------------------------------------------------------------------

    def utc(self, t: float | None = None) -> datetime:
        return UTC0 + timedelta(seconds=self.t if t is None else t)

    def item(self, item_id: str) -> Item:
        return self.course.items[item_id]

    def at(self, item_id: str, u: float, v: float = 0.0, point: str = "front_axle") -> "Run":
        """Put ``point`` at (u, v) of an item, heading along the item."""
        item = self.item(item_id)
        self.heading = item.heading
        self.x, self.y = self.model.antenna_for(point, *item.to_course(u, v), item.heading)
        return self

    def start(self) -> "Run":
        return self.command(CommandAction.START, vehicle_class=self.vehicle_class, vehicle_model=self.model.id)

    def command(self, action: CommandAction, **fields) -> "Run":
        self.obs.append(Command(t=self.t, utc=self.utc(), vehicle=self.vehicle, action=action, **fields))
        return self

    def sensor(self, element: str, active: bool) -> "Run":
        self.obs.append(CourseSensor(t=self.t, utc=self.utc(), element=element, active=active, vehicle=self.vehicle))
        return self

    def set(self, **signals) -> "Run":
        self.signals.update(signals)
        return self

    # --- motion ---------------------------------------------------------------------------

    def emit(self, speed: float) -> None:
        self.t = round(self.t + 1 / RATE, 6)
        utc = self.utc()
        self.obs.append(Pose(t=self.t, utc=utc, vehicle=self.vehicle, x=self.x, y=self.y, heading=self.heading,
                             speed=speed, fix=FixQuality.RTK_FIXED))
        self.obs.append(Signals(t=self.t, utc=utc, vehicle=self.vehicle, **self.signals))

    def hold(self, seconds: float) -> "Run":
        """Stand still."""
        for _ in range(round(seconds * RATE)):
            self.emit(0.0)
        return self

    def stand(self, seconds: float) -> "Run":
        """Stand still for exactly ``seconds`` as the fixes show it: zero-speed fixes every 1/RATE s,
        the first one fix after now and the last one at exactly ``seconds`` after it (a plain float
        sum, residue included), so the standstill the judge measures is ``seconds`` long."""
        first = round(self.t + 1 / RATE, 6)
        last = first + seconds
        t = first
        while t < last - 1e-9:
            self._emit_at(t, 0.0)
            t = round(t + 1 / RATE, 6)
        self._emit_at(last, 0.0)
        self.t = last
        return self

    def _emit_at(self, t: float, speed: float) -> None:
        self.t = t
        utc = self.utc()
        self.obs.append(Pose(t=t, utc=utc, vehicle=self.vehicle, x=self.x, y=self.y, heading=self.heading,
                             speed=speed, fix=FixQuality.RTK_FIXED))
        self.obs.append(Signals(t=t, utc=utc, vehicle=self.vehicle, **self.signals))

    def go(self, item_id: str, u_to: float, v: Callable[[float], float] | float | None = None,
           speed: float = 1.0, point: str = "front_axle", each: Callable[["Run"], None] | None = None) -> "Run":
        """Drive ``point`` forward along an item's frame to ``u_to``; ``v`` is the lateral path.

        Driving the front axle, the rear axle trails it as a real vehicle's does (each step
        pulls the rear axle toward the new front position, keeping the wheelbase), so the
        rear wheels cut inside a curve. Driving any other point, the heading follows the
        path's tangent.
        """
        item = self.item(item_id)
        placed = self.model.place(self.x, self.y, self.heading)
        u0, v0 = item.to_item(placed.point(point))
        rear = placed.point("rear_axle")
        lateral = (lambda u: v0) if v is None else (v if callable(v) else (lambda u, c=v: c))
        steps = max(1, math.ceil(abs(u_to - u0) / (speed / RATE)))
        trailing = point == "front_axle" and self.model.local_point("front_axle")[1] == 0.0
        for i in range(1, steps + 1):
            u = u0 + (u_to - u0) * i / steps
            target = item.to_course(u, lateral(u))
            if trailing:
                dx, dy = target[0] - rear[0], target[1] - rear[1]
                norm = math.hypot(dx, dy)
                rear = (target[0] - dx / norm * self.model.wheelbase, target[1] - dy / norm * self.model.wheelbase)
                self.heading = math.degrees(math.atan2(dx, dy)) % 360
            else:
                du = 0.01
                slope = (lateral(u + du) - lateral(u - du)) / (2 * du)
                self.heading = (item.heading - math.degrees(math.atan(slope))) % 360
            self.x, self.y = self.model.antenna_for(point, *target, self.heading)
            self.emit(speed)
            if each is not None:
                each(self)
        return self

    def follow(self, item_id: str, points: list[tuple[float, float]], speed: float = 1.0,
               reverse: bool = False, each: Callable[["Run"], None] | None = None) -> "Run":
        """Move the rear axle along a polyline of item-frame (u, v) points, the heading along it.

        The rear axle of a real vehicle moves along its heading (forward or backward), so this
        is the exact kinematics of the vehicle model; ``reverse`` faces the vehicle against
        the direction of travel. The polyline is walked at ``speed`` (one fix each 1/RATE s);
        with ``self.ramp`` (m/s²) set, it pulls away from rest and brakes to rest at the end
        at that rate, reporting the true speed at each fix, as a real vehicle does.
        """
        item = self.item(item_id)
        here = self.model.place(self.x, self.y, self.heading).point("rear_axle")
        course = [here] + [item.to_course(u, v) for u, v in points]
        segments = [(a, b, math.hypot(b[0] - a[0], b[1] - a[1])) for a, b in zip(course, course[1:])]
        segments = [seg for seg in segments if seg[2] > 0]
        total = sum(seg[2] for seg in segments)
        index, start = 0, 0.0  # current segment and the distance at its start
        for d, v in self._profile(total, speed):
            while index < len(segments) - 1 and d > start + segments[index][2]:
                start += segments[index][2]
                index += 1
            (x0, y0), (x1, y1), length = segments[index]
            k = min(1.0, (d - start) / length)
            heading = math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360
            self.heading = (heading + 180) % 360 if reverse else heading
            self.x, self.y = self.model.antenna_for("rear_axle", x0 + (x1 - x0) * k, y0 + (y1 - y0) * k,
                                                    self.heading)
            self.emit(v)
            if each is not None:
                each(self)
        return self

    def _profile(self, total: float, speed: float) -> list[tuple[float, float]]:
        """(distance, speed) at each fix along a path of length ``total``."""
        if self.ramp is None:
            steps = max(1, math.ceil(total / (speed / RATE)))
            return [(total * i / steps, speed) for i in range(1, steps + 1)]
        a = self.ramp
        peak = min(speed, math.sqrt(a * total))  # a short path never reaches full speed
        t_ramp = peak / a
        t_cruise = (total - peak * t_ramp) / peak
        duration = 2 * t_ramp + t_cruise
        samples = []
        for i in range(1, math.ceil(duration * RATE) + 1):
            t = min(i / RATE, duration)
            if t <= t_ramp:
                d, v = a * t * t / 2, a * t
            elif t <= t_ramp + t_cruise:
                d, v = peak * t_ramp / 2 + peak * (t - t_ramp), peak
            else:
                left = duration - t
                d, v = total - a * left * left / 2, a * left
            samples.append((min(d, total), v))
        return samples

    def back(self, distance: float, speed: float = 0.2) -> "Run":
        """Roll straight backward along the current heading (speed is reported positive)."""
        steps = max(1, math.ceil(distance / (speed / RATE)))
        f = forward(self.heading)
        step = distance / steps
        for _ in range(steps):
            self.x -= f[0] * step
            self.y -= f[1] * step
            self.emit(speed)
        return self

    # --- judging ----------------------------------------------------------------------------

    def judge(self, rules: RuleSet | None = None, course: Course | None = None):
        return judge_stream(self.obs, course or self.course, rules or ruleset())

    def rules_hit(self, rules: RuleSet | None = None, course: Course | None = None) -> list[str]:
        return [d.rule for d in self.judge(rules, course).deductions]


def with_noise(observations: list[Observation], seed: int, position: float = 0.02,
               speed: float = 0.02) -> list[Observation]:
    """The stream as a real receiver reports it: each fix's position off by up to ``position`` m on
    each axis and its speed by up to ``speed`` m/s (uniform, seeded; speed never below 0)."""
    import random

    rng = random.Random(seed)
    out: list[Observation] = []
    for obs in observations:
        if isinstance(obs, Pose):
            obs = dataclasses.replace(obs, x=obs.x + rng.uniform(-position, position),
                                      y=obs.y + rng.uniform(-position, position),
                                      speed=max(0.0, obs.speed + rng.uniform(-speed, speed)))
        out.append(obs)
    return out


def slalom(item: Item, amplitude: float, sharpness: float = 2.0, lag: float = 0.3) -> Callable[[float], float]:
    """A lateral path for the front axle that swings out to ``amplitude`` at each pole, on its side.

    The swing is a clipped sine (``sharpness`` > 1 flattens its peaks) that peaks ``lag`` metres
    after each pole, as a rider swings wide so the trailing rear wheel clears the pole.
    """
    poles = item.poles  # type: ignore[attr-defined]
    spacing = item.to_item(poles[1].position)[0] - item.to_item(poles[0].position)[0]
    first = 1 if poles[0].side == "left" else -1

    def lateral(u: float) -> float:
        wave = sharpness * math.sin(math.pi * (u - lag) / spacing - math.pi / 2)
        return first * amplitude * max(-1.0, min(1.0, wave))

    return lateral


def past_exit(run: Run, item_id: str) -> float:
    """A front-axle u that puts the rear axle just past the item's exit line."""
    item = run.item(item_id)
    exit_u = item.to_item(item.exit.points[0])[0]
    return exit_u + run.model.wheelbase + 0.3


def only(course: Course, vehicle_class: str, *item_ids: str) -> Course:
    """The course with the class's exam order cut down to the given items."""
    order = dict(course.order)
    order[vehicle_class] = tuple(item_ids)
    return dataclasses.replace(course, order=order)


def deck_sensors(item_id: str) -> Callable[[Run], None]:
    """A callback for :meth:`Run.go` that plays the deck sensors: active while a wheel is on the deck."""
    state: dict[str, bool] = {}

    def play(run: Run) -> None:
        item = run.item(item_id)
        placed = run.model.place(run.x, run.y, run.heading)
        for deck in item.decks.values():  # type: ignore[attr-defined]
            pressed = any(deck.polygon.covers(Point(placed.point(w))) for w in run.model.wheel_names)
            if state.get(deck.name, False) != pressed:
                state[deck.name] = pressed
                run.sensor(deck.element, pressed)

    return play


def arc(cu: float, cv: float, r: float, start_deg: float, end_deg: float, step_deg: float = 2.0) -> list:
    """Item-frame points of an arc (degrees counter-clockwise from +u)."""
    n = max(2, math.ceil(abs(end_deg - start_deg) / step_deg))
    return [(cu + r * math.cos(math.radians(start_deg + (end_deg - start_deg) * i / n)),
             cv + r * math.sin(math.radians(start_deg + (end_deg - start_deg) * i / n))) for i in range(n + 1)]


def s_bend(u0: float, v0: float, u1: float, v1: float, n: int = 60) -> list:
    """Item-frame points of a cosine S from (u0, v0) to (u1, v1), level at both ends."""
    return [(u0 + (u1 - u0) * i / n, v0 + (v1 - v0) * (1 - math.cos(math.pi * i / n)) / 2) for i in range(n + 1)]

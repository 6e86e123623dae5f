"""Noisy observation streams from a known true motion, for the detection-bound tests and bench.

A :class:`Truth` is the vehicle's real motion in an item's frame: the rear axle's
(u, v) and speed as functions of time, heading along the item. :func:`stream`
samples it the way the devices would: GNSS fixes at ``rate`` Hz with position
noise up to ``noise`` metres on each axis and speed noise up to ``speed_noise``,
some fixes dropped, and signal-board snapshots at 10 Hz on their own clock.

Three motions cover the three bounds of GA/T 1028.3 (research.md §4.2):

- :func:`drift`: driving along the item while drifting sideways at ``lateral`` m/s
  toward a line and over it (or up to ``closest`` metres short of it and away);
- :func:`stop_and_go`: braking to a stop, standing, moving off;
- :func:`creep`: crossing the entry line and creeping on (the item timer).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

from scoring.course import Course
from scoring.observations import Command, CommandAction, FixQuality, Observation, Pose, Signals
from tests.scoring.streams import UTC0, default_signals

SIGNAL_RATE = 10.0


@dataclass(frozen=True)
class Truth:
    """Rear-axle position in the item frame and speed, as functions of time, for ``duration`` s."""

    u: Callable[[float], float]
    v: Callable[[float], float]
    speed: Callable[[float], float]
    duration: float


def drift(u0: float, v0: float, forward: float, lateral: float, duration: float) -> Truth:
    """Straight along the item at ``forward`` m/s, drifting sideways at ``lateral`` m/s (negative: right)."""
    return Truth(u=lambda t: u0 + forward * t, v=lambda t: v0 + lateral * t,
                 speed=lambda t: math.hypot(forward, lateral), duration=duration)


def approach_and_leave(u0: float, v0: float, forward: float, lateral: float, turn_at: float,
                       duration: float) -> Truth:
    """Drift sideways until ``turn_at`` s, then drift back the same way (a closest approach)."""
    def v(t: float) -> float:
        return v0 + lateral * t if t <= turn_at else v0 + lateral * (2 * turn_at - t)

    return Truth(u=lambda t: u0 + forward * t, v=v, speed=lambda t: math.hypot(forward, lateral),
                 duration=duration)


def stop_and_go(u0: float, v0: float, speed0: float, braking: float, stand: float, pull: float,
                stop_at: float, after: float = 1.5) -> Truth:
    """Cruise at ``speed0`` from ``u0``, brake at ``braking`` m/s² to a standstill at ``stop_at``, stand
    ``stand`` s, pull away at ``pull`` m/s²."""
    brake_distance = speed0 * speed0 / (2 * braking)
    t_cruise = (stop_at - brake_distance - u0) / speed0
    assert t_cruise >= 0, "start further back"
    t_brake = t_cruise + speed0 / braking

    def speed(t: float) -> float:
        if t < t_cruise:
            return speed0
        if t < t_brake:
            return speed0 - braking * (t - t_cruise)
        if t < t_brake + stand:
            return 0.0
        return pull * (t - t_brake - stand)

    def u(t: float) -> float:
        if t < t_cruise:
            return u0 + speed0 * t
        if t < t_brake:
            dt = t - t_cruise
            return u0 + speed0 * t_cruise + speed0 * dt - braking * dt * dt / 2
        if t < t_brake + stand:
            return stop_at
        dt = t - t_brake - stand
        return stop_at + pull * dt * dt / 2

    return Truth(u=u, v=lambda t: v0, speed=speed, duration=t_brake + stand + after)


def true_stop(truth: Truth, stop_speed: float, step: float = 0.001) -> tuple[float, float]:
    """(start, end) of the standstill in the true motion: the speed at most ``stop_speed`` (the
    judge's definition, measurement.stop_speed), without noise."""
    start = end = None
    t = 0.0
    while t <= truth.duration:
        s = truth.speed(t)
        if start is None and s <= stop_speed:
            start = t
        elif start is not None and s > stop_speed:
            end = t
            break
        t += step
    assert start is not None
    return start, end if end is not None else truth.duration


@dataclass(frozen=True)
class Sampling:
    rate: float  # GNSS fixes per second
    noise: float  # metres, bound of the position error on each axis
    speed_noise: float  # m/s, bound of the speed error
    drop: float  # probability that a fix is lost
    seed: int
    position: str = "box"  # position noise: "box" (uniform ±noise per axis), "disc" (uniform in a disc of
    # radius noise) or "gauss" (Gaussian, σ = noise / 2 per axis: ±2 cm is σ = 1 cm)


def stream(course: Course, item_id: str, model_id: str, vehicle_class: str, truth: Truth,
           sampling: Sampling) -> list[Observation]:
    """The observations a course would record of ``truth``: start, noisy fixes, signal snapshots."""
    rng = random.Random(sampling.seed)
    item = course.items[item_id]
    model = course.vehicle(model_id)
    heading = item.heading
    signals = default_signals(model.kind, vehicle_class)
    vehicle = "veh-1"

    def utc(t: float):
        return UTC0 + timedelta(seconds=t)

    obs: list[Observation] = [Command(t=0.0, utc=utc(0.0), vehicle=vehicle, action=CommandAction.START,
                                      vehicle_class=vehicle_class, vehicle_model=model_id)]
    timed: list[tuple[float, int, Observation]] = []
    n = 1
    while n / sampling.rate <= truth.duration:
        t = n / sampling.rate
        n += 1
        if n > 4 and rng.random() < sampling.drop:  # the first fixes, at the start, always arrive
            continue
        x, y = model.antenna_for("rear_axle", *item.to_course(truth.u(t), truth.v(t)), heading)
        dx, dy = position_noise(rng, sampling)
        x, y = x + dx, y + dy
        speed = max(0.0, truth.speed(t) + rng.uniform(-sampling.speed_noise, sampling.speed_noise))
        timed.append((t, 0, Pose(t=t, utc=utc(t), vehicle=vehicle, x=x, y=y, heading=heading, speed=speed,
                                 fix=FixQuality.RTK_FIXED)))
    n = 1
    while n / SIGNAL_RATE <= truth.duration:
        t = n / SIGNAL_RATE + 0.013  # the signal board runs on its own clock
        n += 1
        timed.append((t, 1, Signals(t=t, utc=utc(t), vehicle=vehicle, **signals)))
    timed.sort(key=lambda entry: (entry[0], entry[1]))
    return obs + [o for _, _, o in timed]


def position_noise(rng: random.Random, sampling: Sampling) -> tuple[float, float]:
    """One fix's position error under the sampling's noise model."""
    if sampling.position == "gauss":
        return rng.gauss(0.0, sampling.noise / 2), rng.gauss(0.0, sampling.noise / 2)
    if sampling.position == "disc":
        r, a = sampling.noise * math.sqrt(rng.random()), rng.uniform(0.0, 2 * math.pi)
        return r * math.cos(a), r * math.sin(a)
    return rng.uniform(-sampling.noise, sampling.noise), rng.uniform(-sampling.noise, sampling.noise)


def longest_gap(observations: list[Observation]) -> float:
    times = [o.t for o in observations if o.kind == "pose"]
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)

"""Ground truth to observations, as perfect devices and the controller would report it.

This is the short path used by scenario tests: no bytes, no serial ports. The
controller's real path (device twins over pseudo-terminals, drivers, the
observation builder) must give the same stream up to device latency and
rounding, which is what the end-to-end tests check.

Rates follow the devices: the GNSS receiver gives a pose at 10 Hz with an RTK
fixed solution, the signal board a full snapshot at 20 Hz, the course sensor
board a message on every change. Times are the scenario's own: ``t`` is
seconds from the first sample, ``utc`` is ``start_utc`` plus ``t``.
"""

from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta, timezone
from typing import Iterable, Iterator

from examroom.simulation.world import WorldState
from scoring.observations import (
    Command, CommandAction, CourseSensor, FixQuality, Gear, Observation, Pose, Signals,
)

DEFAULT_START_UTC = datetime(2024, 5, 6, 1, 30, tzinfo=timezone.utc)  # 09:30 Beijing time


def observations(samples: Iterable[WorldState], *, vehicle: str, vehicle_class: str,
                 vehicle_model: str, start_utc: datetime = DEFAULT_START_UTC,
                 pose_hz: float = 10.0, signals_hz: float = 20.0,
                 from_start: bool = True) -> Iterator[Observation]:
    """The observation stream of one attempt from its ground-truth samples.

    With ``from_start`` (the default) the stream is what the attempt's record
    holds: it begins with the ``start`` command (carrying the vehicle class and
    model) and everything before it, the candidate getting ready, is left out;
    ``t`` still counts from the scenario's first sample. Without it the whole
    scenario is reported, the start command in its place.
    """
    pose_due = signals_due = 0.0
    pose_period, signals_period = 1.0 / pose_hz, 1.0 / signals_hz
    sensors: dict[str, bool] = {}
    started = not from_start
    for state in samples:
        t = state.t
        utc = start_utc + timedelta(seconds=t)
        for action in state.commands:
            started = True
            yield Command(t=t, utc=utc, vehicle=vehicle, action=CommandAction(action),
                          vehicle_class=vehicle_class if action == "start" else None,
                          vehicle_model=vehicle_model if action == "start" else None)
        # Course sensors report changes only; the board's first message says what is active.
        changes = [(element, active) for element, active in sorted(state.course_sensors.items())
                   if sensors.get(element, False) != active]
        sensors.update(state.course_sensors)
        for element in list(sensors):
            if element not in state.course_sensors and sensors[element]:
                sensors[element] = False
                changes.append((element, False))
        truth = state.vehicle
        if t + 1e-9 >= pose_due:
            while pose_due <= t + 1e-9:
                pose_due += pose_period
            if started:
                yield Pose(t=t, utc=utc, vehicle=vehicle, x=round(truth.x, 4), y=round(truth.y, 4),
                           heading=round(truth.heading % 360.0, 3), speed=round(truth.speed, 3),
                           fix=FixQuality.RTK_FIXED, satellites=24, hdop=0.6, correction_age=1.0)
        if t + 1e-9 >= signals_due:
            while signals_due <= t + 1e-9:
                signals_due += signals_period
            if started:
                yield Signals(t=t, utc=utc, vehicle=vehicle, ignition=truth.ignition,
                              engine=truth.engine, starter=truth.starter, gear=Gear(truth.gear),
                              seatbelt=truth.seatbelt, helmet=truth.helmet,
                              parking_brake=truth.parking_brake, left_footpeg=truth.left_footpeg,
                              right_footpeg=truth.right_footpeg, left_turn=truth.left_turn,
                              right_turn=truth.right_turn, roll=truth.roll)
        if started:
            for element, active in changes:
                yield CourseSensor(t=t, utc=utc, element=element, active=active, vehicle=vehicle)


def device_observations(samples: Iterable[WorldState], *, seed: int, vehicle: str, vehicle_class: str,
                        vehicle_model: str, start_utc: datetime = DEFAULT_START_UTC, step: float = 0.05,
                        pose_hz: float = 10.0, signals_hz: float = 20.0, board_hz: float = 20.0,
                        max_lag: float = 0.1, latency: float = 0.03) -> list[Observation]:
    """The attempt's observation stream as the demo's devices and controller give it: imperfect timing, seeded.

    The demo's scenario driver shows the world to the device twins every ``step`` seconds, and
    on a loaded host it runs late; each twin reports the state it was last shown. So:

    * the driver shows each sample up to ``max_lag`` seconds late (drawn per sample, never before
      the sample before it), and every reading shows the last sample shown by the moment it is
      stamped with;
    * the receiver stamps its fixes on its own ``pose_hz`` grid, the signal board sends at
      ``signals_hz`` and the course board is polled at ``board_hz``, each grid at a random phase;
      a course-sensor change is stamped at the first poll that sees it;
    * readings reach the judge in the order they arrive: each is delayed by up to ``latency``
      seconds on its way, so the devices' readings interleave out of time order now and then
      (each device's own stay in order).

    The same seed gives the same stream. :func:`observations` is the perfect-device stream.
    """
    rng = random.Random(seed)
    states = list(samples)
    if not states:
        return []
    end = states[-1].t

    # When the driver showed each sample: on time, or up to max_lag late, never before the one before.
    shown_at: list[float] = []
    for state in states:
        shown_at.append(max(shown_at[-1] if shown_at else float("-inf"), state.t + rng.uniform(0.0, max_lag)))

    def shown(at: float) -> WorldState:
        """The last sample the driver had shown the twins by ``at`` (the first one before any)."""
        return states[max(bisect.bisect_right(shown_at, at) - 1, 0)]

    def grid(hz: float) -> list[float]:
        period = 1.0 / hz
        t, out = rng.uniform(0.0, period), []
        while t <= end:
            out.append(t)
            t += period
        return out

    start_at = next((s.t for s in states if "start" in s.commands), 0.0)
    stream: list[tuple[float, int, Observation]] = []  # (arrival, order, observation)

    def add(stamp: float, obs: Observation, delay: float | None = None) -> None:
        if stamp >= start_at:
            stream.append((stamp + (rng.uniform(0.0, latency) if delay is None else delay), len(stream), obs))

    def utc_at(t: float) -> datetime:
        return start_utc + timedelta(seconds=t)

    for state in states:
        for action in state.commands:
            add(state.t, Command(t=state.t, utc=utc_at(state.t), vehicle=vehicle, action=CommandAction(action),
                                 vehicle_class=vehicle_class if action == "start" else None,
                                 vehicle_model=vehicle_model if action == "start" else None), delay=0.0)
    last_arrival = float("-inf")
    for t in grid(pose_hz):
        truth = shown(t).vehicle
        obs = Pose(t=round(t, 4), utc=utc_at(t), vehicle=vehicle, x=round(truth.x, 4), y=round(truth.y, 4),
                   heading=round(truth.heading % 360.0, 3), speed=round(truth.speed, 3), fix=FixQuality.RTK_FIXED,
                   satellites=24, hdop=0.6, correction_age=1.0)
        last_arrival = max(last_arrival, t + rng.uniform(0.0, latency))  # one serial line: in order
        add(t, obs, delay=last_arrival - t)
    last_arrival = float("-inf")
    for t in grid(signals_hz):
        truth = shown(t).vehicle
        obs = Signals(t=round(t, 4), utc=utc_at(t), vehicle=vehicle, ignition=truth.ignition, engine=truth.engine,
                      starter=truth.starter, gear=Gear(truth.gear), seatbelt=truth.seatbelt, helmet=truth.helmet,
                      parking_brake=truth.parking_brake, left_footpeg=truth.left_footpeg,
                      right_footpeg=truth.right_footpeg, left_turn=truth.left_turn, right_turn=truth.right_turn,
                      roll=truth.roll)
        last_arrival = max(last_arrival, t + rng.uniform(0.0, latency))
        add(t, obs, delay=last_arrival - t)
    sensors: dict[str, bool] = {}
    last_arrival = float("-inf")
    for t in grid(board_hz):
        state = shown(t).course_sensors
        changes = [(e, a) for e, a in sorted(state.items()) if sensors.get(e, False) != a]
        changes += [(e, False) for e, a in sensors.items() if a and e not in state]
        sensors = {**sensors, **state, **{e: False for e, _ in changes if e not in state}}
        if changes:
            last_arrival = max(last_arrival, t + rng.uniform(0.0, latency))
        for element, active in changes:
            add(t, CourseSensor(t=round(t, 4), utc=utc_at(t), element=element, active=active, vehicle=vehicle),
                delay=last_arrival - t)
    stream.sort(key=lambda item: (item[0], item[1]))
    return [obs for _, _, obs in stream]

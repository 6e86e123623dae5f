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

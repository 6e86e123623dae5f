"""Turn device readings into observations in the course frame.

This is the one place where the devices' view (WGS 84, bit flags, register
inputs) meets the judge's view (course metres, named signals, course
elements). It keeps no state beyond what a change detector needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymap3d

from devices.gnss.motion_bounds import course_is_direction
from devices.readings import CourseInputs, GnssFix, SignalFrame
from scoring.observations import CourseSensor, FixQuality, Gear, Pose, Signals

# GGA quality indicator (NMEA 0183 v4.11) to the judge's fix quality.
_GGA_QUALITY = {
    0: FixQuality.NONE,
    1: FixQuality.SINGLE,
    2: FixQuality.DGPS,
    3: FixQuality.SINGLE,  # PPS: a precise-time fix, not a precise position
    4: FixQuality.RTK_FIXED,
    5: FixQuality.RTK_FLOAT,
    6: FixQuality.DEAD_RECKONING,
}
_OPTIONAL_SIGNALS = ("seatbelt", "helmet", "parking_brake", "left_footpeg", "right_footpeg",
                     "left_turn", "right_turn")


@dataclass(frozen=True)
class CourseOrigin:
    latitude: float
    longitude: float
    altitude: float = 0.0


def course_xy(fix: GnssFix, origin: CourseOrigin) -> tuple[float, float]:
    """The fix's antenna position in course metres (east, north)."""
    east, north, _up = pymap3d.geodetic2enu(
        fix.latitude, fix.longitude, fix.altitude if fix.altitude is not None else origin.altitude,
        origin.latitude, origin.longitude, origin.altitude)
    return float(east), float(north)


def pose_from_fix(fix: GnssFix, vehicle: str, origin: CourseOrigin) -> Pose | None:
    """The judge's pose, or None for a fix without a speed.

    A missing speed (an epoch without RMC or VTG) is not 0: a judge that saw 0
    would take a moving vehicle for a stopped one. Such a fix is not judged;
    device health counts it (``speed_missing_streak``) and a receiver that
    keeps sending none is a device fault.

    The heading is the receiver's true heading (HDT); without one, its course over ground
    stands in, but only while the vehicle travels faster than the receiver's speed noise
    (``course_is_direction``): a course standing still is noise, or damage nothing can check,
    and the pose's heading is null, which the judge holds from before the standstill.
    """
    if fix.speed is None:
        return None
    x, y = course_xy(fix, origin)
    heading = fix.heading
    if heading is None and course_is_direction(fix.speed):
        heading = fix.course
    return Pose(t=fix.mono, utc=fix.utc, vehicle=vehicle, x=x, y=y,
                heading=heading, speed=fix.speed,
                fix=_GGA_QUALITY.get(fix.quality, FixQuality.NONE), satellites=fix.satellites,
                hdop=fix.hdop, correction_age=fix.correction_age)


def signals_from_frame(frame: SignalFrame, vehicle: str) -> Signals:
    def wired(name: str) -> bool | None:
        return (name in frame.flags) if name in frame.present else None

    try:
        gear = Gear(frame.gear)
    except ValueError:
        gear = Gear.UNKNOWN
    return Signals(t=frame.mono, utc=frame.utc, vehicle=vehicle,
                   ignition="ignition" in frame.flags, engine="engine" in frame.flags,
                   starter="starter" in frame.flags, gear=gear, roll=frame.roll,
                   **{name: wired(name) for name in _OPTIONAL_SIGNALS})


class CourseInputTracker:
    """Reports course-sensor changes of one board; the first poll reports every input."""

    def __init__(self, elements: list[str | None]) -> None:
        self._elements = elements  # input index -> course element id (None: unused input)
        self._last: tuple[bool, ...] | None = None

    def changes(self, reading: CourseInputs) -> list[CourseSensor]:
        out = []
        for index, element in enumerate(self._elements):
            if element is None or index >= len(reading.inputs):
                continue
            value = reading.inputs[index]
            if self._last is None or index >= len(self._last) or self._last[index] != value:
                out.append(CourseSensor(t=reading.mono, utc=reading.utc, element=element, active=value))
        self._last = reading.inputs
        return out

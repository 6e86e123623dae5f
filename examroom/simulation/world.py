"""Ground truth of the simulated course: what really happens, moment by moment.

A scenario (a scripted attempt) yields :class:`WorldState` samples. The device
twins turn each sample into the bytes real hardware would send (NMEA for the
pose, signal-board frames for the signals, Modbus inputs for the course
sensors); the scenario tests also turn them straight into observations to check
the judge without any I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VehicleTruth:
    """The true state of one simulated vehicle at one moment."""

    x: float  # antenna position, course frame metres (x east, y north)
    y: float
    heading: float  # degrees clockwise from north
    speed: float  # m/s, >= 0 (direction of travel is in ``reversing``)
    ignition: bool = True
    engine: bool = True
    starter: bool = False
    gear: str = "1"
    helmet: bool | None = None
    seatbelt: bool | None = None
    parking_brake: bool | None = None
    left_footpeg: bool | None = None
    right_footpeg: bool | None = None
    left_turn: bool | None = None
    right_turn: bool | None = None
    roll: float | None = None
    reversing: bool = False  # moving backwards (rollback on the hill)


@dataclass(frozen=True)
class WorldState:
    """One sample of the simulated world at scenario time ``t`` (seconds from its start)."""

    t: float
    vehicle: VehicleTruth
    course_sensors: dict[str, bool] = field(default_factory=dict)  # element id -> active
    # Supervisor/system commands issued at this sample (e.g. "start"); a scenario issues the
    # start command once the candidate has started the engine.
    commands: tuple[str, ...] = ()

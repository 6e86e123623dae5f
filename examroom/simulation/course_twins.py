"""The simulated course's hardware: device twins on null-modem cables.

Each exam vehicle gets a GNSS receiver twin and a signal-board twin, and the
course gets one Modbus RTU sensor board twin, each on its own pseudo-terminal
pair. The twins speak the real bytes; the controller's real drivers read the
other end of each cable through ordinary site settings, so the demo runs the
same code path as a real course.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pymap3d

from devices.courseboard import CourseBoardSimulator
from devices.gnss import GnssSimulator
from devices.gnss.simulator import GnssTruth
from devices.nullmodem import NullModem
from devices.readings import Clock
from devices.signalboard import MOTORCYCLE, THREE_WHEELER, SignalBoardSimulator, SignalState
from examroom.site.settings import CourseBoardSettings, SerialSettings, SiteSettings, VehicleSettings
from examroom.simulation.world import VehicleTruth, WorldState
from scoring.course import Course
from scoring.item_geometry import BridgeItem, PileItem

# Classes whose riders wear a helmet: their boards carry the motorcycle inputs.
_HELMET_CLASSES = {"D", "E", "F"}
_SIGNAL_NAMES = ("ignition", "engine", "starter", "helmet", "seatbelt", "parking_brake",
                 "left_footpeg", "right_footpeg", "left_turn", "right_turn")
BOARD_ID = "course-board-1"
BOARD_UNIT = 1


def scenario_time(mono: float, origin: float, end: float) -> float:
    """The followed scenario's time at clock time ``mono``: from 0 at ``origin``, held at ``end``."""
    return min(max(mono - origin, 0.0), end)


def sensor_elements(items) -> list[str]:
    """The elements a course board senses in these items: pole and bridge-deck switches."""
    elements: list[str] = []
    for item in items:
        if isinstance(item, PileItem):
            elements += [pole.element for pole in item.poles]
        elif isinstance(item, BridgeItem) and item.deck_sensors:
            elements += [deck.element for deck in item.decks.values()]
    return elements


@dataclass(frozen=True)
class SimVehicle:
    id: str
    plate: str
    model: str


class _VehicleTwins:
    def __init__(self, vehicle: SimVehicle, vehicle_class: str, course: Course, clock: Clock,
                 cable: Callable[[], Any] = NullModem) -> None:
        self.vehicle = vehicle
        self.origin = course.origin
        self.clock = clock
        self.gnss_cable = cable()
        self.signal_cable = cable()
        self._lock = threading.Lock()
        self._truth: VehicleTruth | None = None
        # The scenario the twins follow (see follow), and what the GNSS twin last reported of it.
        self._motion: tuple[Callable[[float], VehicleTruth], float, float] | None = None
        self._followed: VehicleTruth | None = None
        self.gnss_quality = 4  # GGA quality the receiver reports (tests drop it to 5: RTK float)
        present = MOTORCYCLE if vehicle_class in _HELMET_CLASSES else THREE_WHEELER
        self.gnss = GnssSimulator(self.gnss_cable.a, self._gnss_truth, clock=clock, at_epoch=True)
        self.signals = SignalBoardSimulator(self.signal_cable.a, self._signal_state, present=present,
                                            clock=clock)

    def show(self, truth: VehicleTruth) -> None:
        with self._lock:
            self._truth = truth
            if self._motion is None:
                self._followed = None  # shown still: the GNSS reports this
        self.signals.wake()  # a signal change goes out at once, as the real board does

    def follow(self, motion: Callable[[float], VehicleTruth], origin: float, end: float) -> None:
        """From now the twins report ``motion(mono - origin)`` (up to ``end``, scenario seconds)
        at their own times: the GNSS at each epoch's time, as a receiver's solution is for its
        epoch, and the signal board (and the cameras, through :meth:`truth`) when they sample.
        Not the last sample shown, which may be up to a step old, and more when the host starves
        the thread that shows them: a receiver reporting where the vehicle is while the board
        still sends the gear and footpegs of a second ago is a vehicle no course has (a clean
        attempt read as coasting in neutral, or a foot put down), and a heading jitter no
        vehicle has (devices/gnss/neighbours.py's second-order check would see it)."""
        with self._lock:
            self._motion = (motion, origin, end)

    def hold(self) -> None:
        """The scenario stopped: the GNSS twin keeps reporting where it last was."""
        with self._lock:
            self._motion = None

    def truth(self, mono: float | None = None) -> VehicleTruth | None:
        """What the vehicle is doing at clock time ``mono`` (None: now): the followed scenario at that
        time, else the last shown."""
        if mono is None:
            mono, _ = self.clock.now()
        with self._lock:
            if self._motion is not None:
                motion, origin, end = self._motion
                return motion(scenario_time(mono, origin, end))
            return self._truth

    def _gnss_truth(self, mono: float) -> GnssTruth | None:
        """What the receiver reports for its epoch at clock time ``mono``."""
        with self._lock:
            if self._motion is not None:
                motion, origin, end = self._motion
                self._followed = motion(scenario_time(mono, origin, end))
            truth = self._followed or self._truth
        if truth is None:
            return None
        lat, lon, alt = pymap3d.enu2geodetic(truth.x, truth.y, 0.0, self.origin.latitude,
                                             self.origin.longitude, self.origin.altitude)
        course = (truth.heading + 180.0) % 360.0 if truth.reversing else truth.heading
        return GnssTruth(latitude=float(lat), longitude=float(lon), altitude=float(alt), speed=truth.speed,
                         course=course, heading=truth.heading, quality=self.gnss_quality)

    def _signal_state(self) -> SignalState:
        truth = self.truth()
        if truth is None:
            return SignalState(gear="N")
        flags = frozenset(name for name in _SIGNAL_NAMES if getattr(truth, name))
        return SignalState(flags=flags, gear=truth.gear, roll=truth.roll if truth.roll is not None else 0.0)

    def start(self) -> None:
        self.gnss.start()
        self.signals.start()

    def stop(self) -> None:
        self.gnss.stop()
        self.signals.stop()
        self.gnss_cable.close()
        self.signal_cable.close()


class SimulatedCourse:
    """Twins for every vehicle and the course board; ``show`` moves the world on."""

    def __init__(self, course: Course, vehicles: list[SimVehicle], clock: Clock,
                 cable: Callable[[], Any] = NullModem) -> None:
        """``cable`` makes each cable: a null modem on ptys, or an in-process link
        (:class:`devices.links.LinkCable`) for a lockstep run."""
        self.course = course
        self.clock = clock
        self.vehicles = {v.id: _VehicleTwins(v, course.vehicle(v.model).vehicle_class, course, clock, cable)
                         for v in vehicles}
        self.elements = sensor_elements(course.items.values())
        self._index = {element: i for i, element in enumerate(self.elements)}
        self.board_cable = cable()
        # The course sensors of each followed scenario (see follow), read when the board is polled.
        self._sensing: dict[str, tuple[Callable[[float], dict[str, bool]], float, float]] = {}
        self._sensing_lock = threading.Lock()
        self.board = CourseBoardSimulator(self.board_cable.a, unit=BOARD_UNIT, count=max(1, len(self.elements)),
                                          refresh=self._sense)

    def settings(self, database_url: str, course_file: Path, rule_set_file: Path,
                 web_port: int = 8080) -> SiteSettings:
        """Site settings whose device ports are the drivers' ends of the twins' cables."""
        vehicles = [VehicleSettings(id=v.vehicle.id, plate=v.vehicle.plate, model=v.vehicle.model,
                                    gnss=SerialSettings(v.gnss_cable.b, baudrate=38400),
                                    signals=SerialSettings(v.signal_cable.b, baudrate=115200))
                    for v in self.vehicles.values()]
        board = CourseBoardSettings(id=BOARD_ID, serial=SerialSettings(self.board_cable.b, baudrate=19200),
                                    # A pty has no USB latency timer: 5 ms of silence is plenty,
                                    # and the demo's faster clock needs the shorter poll. The twin
                                    # (an asyncio pymodbus server sharing the CPU with the whole
                                    # demo) may be starved for longer than a real board takes.
                                    unit=BOARD_UNIT, inputs=list(self.elements), quiet=0.005,
                                    timeout=0.5)
        return SiteSettings(database_url=database_url, course_file=course_file, rule_set_file=rule_set_file,
                            vehicles=vehicles, course_boards=[board], web_port=web_port)

    def show(self, vehicle_id: str, state: WorldState) -> None:
        self.vehicles[vehicle_id].show(state.vehicle)
        for element, active in state.course_sensors.items():
            index = self._index.get(element)
            if index is not None:
                self.board.set_input(index, active)

    def follow(self, vehicle_id: str, motion: Callable[[float], VehicleTruth], origin: float, end: float,
               sensors: Callable[[float], dict[str, bool]] | None = None) -> None:
        """The vehicle's twins report ``motion`` at their own times (``_VehicleTwins.follow``), and
        the course board answers each poll with ``sensors`` (the course sensors at a scenario
        time) at the poll's time, for the same reason: no sensor lags the vehicle that presses it."""
        self.vehicles[vehicle_id].follow(motion, origin, end)
        with self._sensing_lock:
            if sensors is None:
                self._sensing.pop(vehicle_id, None)
            else:
                self._sensing[vehicle_id] = (sensors, origin, end)

    def hold(self, vehicle_id: str) -> None:
        self.vehicles[vehicle_id].hold()
        with self._sensing_lock:
            self._sensing.pop(vehicle_id, None)

    def _sense(self) -> None:
        """Set the board's inputs to the followed scenarios' sensors now (before it answers a poll)."""
        with self._sensing_lock:
            followed = list(self._sensing.values())
        if not followed:
            return
        mono, _ = self.clock.now()
        for sensors, origin, end in followed:
            for element, active in sensors(scenario_time(mono, origin, end)).items():
                index = self._index.get(element)
                if index is not None:
                    self.board.set_input(index, active)

    def truth(self, vehicle_id: str, mono: float | None = None) -> VehicleTruth | None:
        """What the vehicle is really doing at clock time ``mono``, None: now (the simulated cameras
        film it, each frame at its own time)."""
        return self.vehicles[vehicle_id].truth(mono)

    def elements_of(self, vehicle_id: str) -> list[str]:
        """The sensed elements of the items this vehicle's class drives."""
        vehicle_class = self.course.vehicle(self.vehicles[vehicle_id].vehicle.model).vehicle_class
        return sensor_elements(self.course.items_for(vehicle_class))

    def release_sensors(self, elements) -> None:
        for element in elements:
            if element in self._index:
                self.board.set_input(self._index[element], False)

    def start(self) -> None:
        self.board.start()
        for twins in self.vehicles.values():
            twins.start()

    def stop(self) -> None:
        for twins in self.vehicles.values():
            twins.stop()
        self.board.stop()
        self.board_cable.close()

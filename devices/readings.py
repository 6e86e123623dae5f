"""Typed readings the drivers produce, and the clock that stamps them.

A reading is what one device said, decoded, with the two clocks of its
arrival: ``mono`` (monotonic seconds) and ``utc``. A GNSS fix is the
exception: it carries the local time of the receiver's measurement epoch
(:mod:`devices.gnss.epoch_clock`), which a reader thread that waited for the
CPU does not move. Readings know nothing of courses, attempts or rules;
``examroom`` turns them into observations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol


class Clock(Protocol):
    """Gives (monotonic seconds, UTC now). Injected so a simulation can run faster."""

    def now(self) -> tuple[float, datetime]: ...


class SystemClock:
    def now(self) -> tuple[float, datetime]:
        return time.monotonic(), datetime.now(timezone.utc)


class ScaledClock:
    """A clock that runs ``factor`` times faster than real time from its creation.

    The demo and the end-to-end tests share one ScaledClock between the
    simulated world and the controller, so a scripted 5 s stop is 5 s on every
    timestamp even when it takes 0.5 s of wall time.
    """

    def __init__(self, factor: float = 1.0, start_utc: datetime | None = None,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if factor <= 0:
            raise ValueError("clock factor must be positive")
        self.factor = factor
        self._monotonic = monotonic
        self._origin = monotonic()
        self._start_utc = start_utc or datetime.now(timezone.utc)

    def now(self) -> tuple[float, datetime]:
        elapsed = (self._monotonic() - self._origin) * self.factor
        return elapsed, self._start_utc + timedelta(seconds=elapsed)

    def sleep(self, seconds: float) -> None:
        """Sleep for ``seconds`` of this clock's time."""
        time.sleep(max(0.0, seconds) / self.factor)


class ManualClock:
    """A clock that moves only when told (:meth:`advance`): a lockstep run owns its time.

    Nothing waits on it: a lockstep harness advances it and then runs every
    device and the controller up to the new time in the caller's thread
    (``examroom.simulation.lockstep``). ``sleep`` advances it, so code that
    paces itself with ``clock.sleep`` runs at once.
    """

    factor = 1.0  # clock seconds per clock second: allowances sized for a faster clock stay as on a course

    def __init__(self, start_utc: datetime | None = None, start_mono: float = 0.0) -> None:
        self._mono = float(start_mono)
        self._origin = float(start_mono)
        self._start_utc = start_utc or datetime(2026, 11, 28, 1, 0, tzinfo=timezone.utc)

    def now(self) -> tuple[float, datetime]:
        return self._mono, self._start_utc + timedelta(seconds=self._mono - self._origin)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock does not go back")
        self._mono += seconds

    def advance_to(self, mono: float) -> None:
        self._mono = max(self._mono, mono)

    def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))


@dataclass(frozen=True)
class GnssFix:
    """One GNSS epoch: position in WGS 84 with quality and velocity."""

    mono: float
    utc: datetime
    device: str
    latitude: float  # degrees, north positive
    longitude: float  # degrees, east positive
    altitude: float | None  # metres above mean sea level
    quality: int  # GGA quality indicator 0..8 (4 = RTK fixed, 5 = RTK float)
    satellites: int | None
    hdop: float | None
    correction_age: float | None  # seconds, GGA field 13
    speed: float | None  # metres per second, from RMC / VTG
    course: float | None  # course over ground, degrees true
    heading: float | None  # true heading from a dual-antenna receiver (HDT), degrees
    receiver_time: str | None = None  # hhmmss.ss from the sentence: the epoch (devices.gnss.epoch_clock)
    receiver_date: str | None = None  # ddmmyy from the epoch's RMC, when it had one
    talker: str | None = None  # GP, GN, BD, GB, GL, ...


@dataclass(frozen=True)
class SignalFrame:
    """One decoded vehicle-signal-board frame (see docs/signal-board.md)."""

    mono: float
    utc: datetime
    device: str
    sequence: int
    flags: frozenset[str]  # names of the bits that are set, e.g. {"ignition", "engine"}
    present: frozenset[str]  # names of the inputs this board has wired
    gear: str  # "N", "R", "P", "1".."6" or "?"
    roll: float | None  # degrees, right side down positive


@dataclass(frozen=True)
class CourseInputs:
    """The discrete inputs of one course sensor board, read in one poll."""

    mono: float
    utc: datetime
    device: str
    unit: int  # Modbus unit (device) id
    inputs: tuple[bool, ...]  # input 0 first


@dataclass
class DeviceHealth:
    """Health of one device, kept by its driver; plain data the controller shows."""

    device: str
    kind: str
    expected_rate: float  # readings per second the device should give
    alive: bool = False
    readings: int = 0
    frames_dropped: int = 0  # corrupt frames, bad checksums or CRCs: counted, never judged
    reconnects: int = 0
    last_reading_mono: float | None = None
    last_error: str | None = None
    rate: float = 0.0  # measured readings per second
    extra: dict = field(default_factory=dict)  # kind-specific: fix quality, satellites, ...

    def as_dict(self) -> dict:
        return {
            "device": self.device,
            "kind": self.kind,
            "expected_rate": self.expected_rate,
            "alive": self.alive,
            "readings": self.readings,
            "frames_dropped": self.frames_dropped,
            "reconnects": self.reconnects,
            "last_reading_mono": self.last_reading_mono,
            "last_error": self.last_error,
            "rate": round(self.rate, 2),
            **self.extra,
        }

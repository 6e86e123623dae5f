"""Scripted attempts: steps in, a timeline of ground truth out.

A :class:`Script` is written as the candidate would drive::

    script = Script(x=0, y=-5, heading=0, signals=dict(helmet=True, gear="N", engine=False))
    script.start_engine(hold=0.7).command("start").set(gear="1")
    script.drive(path, speed=2.0, events=[(12.0, Set(left_footpeg=False))])
    script.wait(3.0).rollback(0.4).drive(path2, speed=1.5)

:meth:`Script.compile` turns the steps into a :class:`Timeline`, a pure
function of time: ``timeline.state(t)`` gives the :class:`VehicleTruth` at any
moment and :meth:`Timeline.samples` yields them at a fixed step. Nothing is
random, so the same script always gives the same samples.

The script checks what a real vehicle could not do (jump to another place,
turn on the spot, wait while moving, drive with the engine off) and raises,
so a mistake in a scenario shows up where it is written, not as a strange
deduction later.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from dataclasses import dataclass
from typing import Iterator, Sequence

from examroom.coursetools.path import Path, direction, heading_of
from examroom.simulation.profile import SpeedProfile
from examroom.simulation.world import VehicleTruth

GRAVITY = 9.81
SIGNAL_FIELDS = (
    "ignition", "engine", "starter", "gear", "helmet", "seatbelt", "parking_brake",
    "left_footpeg", "right_footpeg", "left_turn", "right_turn", "roll",
)
_POSITION_TOLERANCE = 0.02  # m: a drive must begin where the vehicle is
_HEADING_TOLERANCE = 5.0  # degrees: a vehicle cannot turn on the spot


# --------------------------------------------------------------------------- steps


@dataclass(frozen=True)
class Set:
    """Change signal-board values at once (gear, helmet, footpegs, parking brake …)."""

    values: dict

    def __init__(self, **values) -> None:
        unknown = set(values) - set(SIGNAL_FIELDS)
        if unknown:
            raise ValueError(f"unknown signal(s) {sorted(unknown)}")
        object.__setattr__(self, "values", dict(values))


@dataclass(frozen=True)
class Pulse:
    """A course sensor reads active for ``seconds`` from now (a pole touched)."""

    element: str
    seconds: float = 0.3


@dataclass(frozen=True)
class CommandStep:
    """A supervisor/system command issued now (``start`` begins the attempt)."""

    action: str


InstantStep = Set | Pulse | CommandStep


@dataclass(frozen=True)
class Drive:
    """Follow ``path`` (antenna track) forward at up to ``speed`` m/s, ending at ``end_speed``.

    ``events`` are instantaneous steps fired when the vehicle reaches an arc
    length along the path, so a foot can leave its peg or a pole be touched
    mid-run without splitting the path.
    """

    path: Path
    speed: float
    end_speed: float = 0.0
    accel: float = 0.8
    decel: float = 0.8
    events: tuple[tuple[float, InstantStep], ...] = ()


@dataclass(frozen=True)
class Rollback:
    """Roll backwards ``distance`` metres along the current heading and stop (hill rollback)."""

    distance: float
    speed: float = 0.3
    accel: float = 0.5


@dataclass(frozen=True)
class Wait:
    """Stay where the vehicle is for ``seconds``."""

    seconds: float


@dataclass(frozen=True)
class StartEngine:
    """Turn the starter: held ``hold`` s in all, the engine fires after ``crank`` s."""

    hold: float = 0.7
    crank: float = 0.4


Step = Drive | Rollback | Wait | StartEngine | Set | Pulse | CommandStep


# ------------------------------------------------------------------------ timeline


@dataclass(frozen=True)
class _Still:
    t0: float
    t1: float
    x: float
    y: float
    heading: float


@dataclass(frozen=True)
class _Travel:
    t0: float
    t1: float
    path: Path
    profile: SpeedProfile
    reversing: bool
    heading: float | None = None  # fixed heading (a rollback keeps facing up the hill)


@dataclass(frozen=True)
class Timeline:
    """The compiled script: motion pieces, signal changes, sensor pulses and commands."""

    duration: float
    motion: tuple
    changes: tuple[tuple[float, dict], ...]  # (t, values) in time order
    pulses: tuple[tuple[float, float, str], ...]  # (from, until, element)
    commands: tuple[tuple[float, str], ...]  # (t, action)
    initial: dict
    lean: bool  # two-wheelers lean into turns: fill ``roll``
    track: tuple[float, float] = (0.0, 0.0)  # tracked point, vehicle frame (forward, left) from the antenna

    def pose(self, t: float) -> tuple[float, float, float, float, bool, float]:
        """(x, y, heading, speed, reversing, curvature) at ``t``."""
        starts = [p.t0 for p in self.motion]
        i = max(0, bisect.bisect_right(starts, t) - 1)
        piece = self.motion[i]
        if isinstance(piece, _Still):
            return piece.x, piece.y, piece.heading, 0.0, False, 0.0
        s, v = piece.profile.at(t - piece.t0)
        x, y = piece.path.point_at(s)
        if piece.heading is not None:
            return x, y, piece.heading, v, piece.reversing, 0.0
        return x, y, piece.path.heading_at(s), v, piece.reversing, piece.path.curvature_at(s)

    def signals(self, t: float) -> dict:
        values = dict(self.initial)
        for when, change in self.changes:
            if when > t + 1e-9:
                break
            values.update(change)
        return values

    def active_pulses(self, t: float) -> set[str]:
        return {element for start, until, element in self.pulses if start - 1e-9 <= t < until - 1e-9}

    def commands_at(self, t: float, step: float) -> tuple[str, ...]:
        """Commands issued in the sample interval [t, t + step)."""
        return tuple(action for when, action in self.commands if t - 1e-9 <= when < t + step - 1e-9)

    def antenna(self, t: float) -> tuple[float, float, float, float, bool, float]:
        """Like :meth:`pose` but for the GNSS antenna rather than the tracked point."""
        x, y, heading, speed, reversing, curvature = self.pose(t)
        ax, ay = antenna_from_track(x, y, heading, self.track)
        return ax, ay, heading, speed, reversing, curvature

    def state(self, t: float) -> VehicleTruth:
        x, y, heading, speed, reversing, curvature = self.antenna(t)
        values = self.signals(t)
        if self.lean:
            # Steady-turn lean angle; right turns (positive curvature) lean right-side down.
            values["roll"] = round(math.degrees(math.atan(speed**2 * curvature / GRAVITY)), 2)
        return VehicleTruth(x=x, y=y, heading=heading, speed=speed, reversing=reversing, **values)

    def times(self, step: float = 0.05) -> Iterator[float]:
        """Sample times 0, step, 2·step … up to and including the end."""
        n = int(math.floor(self.duration / step + 1e-9))
        for k in range(n + 1):
            yield round(k * step, 9)


# -------------------------------------------------------------------------- script


def antenna_from_track(x: float, y: float, heading: float, track: tuple[float, float]) -> tuple[float, float]:
    """Antenna position when the tracked point (``track`` from the antenna, vehicle frame) is at (x, y)."""
    fx, fy = direction(heading)
    lx, ly = -fy, fx  # left of the heading
    return x - track[0] * fx - track[1] * lx, y - track[0] * fy - track[1] * ly


class Script:
    """A scripted attempt under construction; see the module docstring.

    Paths are followed by a *tracked point* of the vehicle, ``track`` metres
    (forward, left) from the antenna. Track a point on the rear axle: a real
    vehicle's rear axle moves along its heading, so taking the heading from
    the tangent of that path gives the true swing of the body in a turn (the
    front sweeps outward), which the pile item judges. With the default (0, 0)
    the antenna itself follows the path.
    """

    def __init__(self, x: float, y: float, heading: float, signals: dict | None = None,
                 lean: bool = False, track: tuple[float, float] = (0.0, 0.0)) -> None:
        initial = dataclasses.asdict(VehicleTruth(x=x, y=y, heading=heading, speed=0.0))
        initial = {k: initial[k] for k in SIGNAL_FIELDS}
        initial.update(signals or {})
        unknown = set(initial) - set(SIGNAL_FIELDS)
        if unknown:
            raise ValueError(f"unknown signal(s) {sorted(unknown)}")
        self.origin = (x, y, heading % 360.0)
        self.initial = initial
        self.lean = lean
        self.track = (float(track[0]), float(track[1]))
        self.steps: list[Step] = []

    # Builder shortcuts, each returning the script so steps read in order.
    def add(self, step: Step) -> "Script":
        self.steps.append(step)
        return self

    def drive(self, path: Path, speed: float, end_speed: float = 0.0, accel: float = 0.8,
              decel: float = 0.8, events: Sequence[tuple[float, InstantStep]] = ()) -> "Script":
        return self.add(Drive(path, speed, end_speed, accel, decel, tuple(events)))

    def rollback(self, distance: float, speed: float = 0.3, accel: float = 0.5) -> "Script":
        return self.add(Rollback(distance, speed, accel))

    def wait(self, seconds: float) -> "Script":
        return self.add(Wait(seconds))

    def start_engine(self, hold: float = 0.7, crank: float = 0.4) -> "Script":
        return self.add(StartEngine(hold, crank))

    def set(self, **values) -> "Script":
        return self.add(Set(**values))

    def stall(self) -> "Script":
        """The engine dies with the ignition still on (a stall, not a switch-off)."""
        return self.add(Set(engine=False))

    def pulse(self, element: str, seconds: float = 0.3) -> "Script":
        return self.add(Pulse(element, seconds))

    def command(self, action: str) -> "Script":
        return self.add(CommandStep(action))

    @property
    def position(self) -> tuple[float, float, float]:
        """Where the vehicle ends up after the steps so far: (x, y, heading)."""
        x, y, heading = self.origin
        for step in self.steps:
            if isinstance(step, Drive):
                x, y = step.path.end
                heading = step.path.heading_at(step.path.length)
            elif isinstance(step, Rollback):
                dx, dy = direction(heading)
                x, y = x - dx * step.distance, y - dy * step.distance
        return x, y, heading

    def compile(self) -> Timeline:
        x, y, heading = self.origin
        t = 0.0
        speed = 0.0
        signals = dict(self.initial)
        motion: list = []
        changes: list[tuple[float, dict]] = []
        pulses: list[tuple[float, float, str]] = []
        commands: list[tuple[float, str]] = []

        def instant(step: InstantStep, when: float) -> None:
            if isinstance(step, Set):
                changes.append((when, dict(step.values)))
                signals.update(step.values)
            elif isinstance(step, Pulse):
                pulses.append((when, when + step.seconds, step.element))
            elif isinstance(step, CommandStep):
                commands.append((when, step.action))

        def still(seconds: float) -> None:
            nonlocal t
            if speed > 1e-9:
                raise ValueError(f"t={t:.2f}: cannot stand still while moving at {speed} m/s")
            motion.append(_Still(t, t + seconds, x, y, heading))
            t += seconds

        for step in self.steps:
            if isinstance(step, (Set, Pulse, CommandStep)):
                instant(step, t)
            elif isinstance(step, Wait):
                still(step.seconds)
            elif isinstance(step, StartEngine):
                if step.crank >= step.hold:
                    raise ValueError("the starter must be held until the engine fires")
                changes.append((t, {"starter": True, "ignition": True}))
                changes.append((t + step.crank, {"engine": True}))
                changes.append((t + step.hold, {"starter": False}))
                signals.update(starter=False, ignition=True, engine=True)
                still(step.hold)
            elif isinstance(step, Drive):
                path = step.path
                gap = math.hypot(path.start[0] - x, path.start[1] - y)
                if gap > _POSITION_TOLERANCE:
                    raise ValueError(f"t={t:.2f}: drive starts {gap:.3f} m away from the vehicle")
                turn = abs((path.heading_at(0.0) - heading + 180.0) % 360.0 - 180.0)
                if turn > _HEADING_TOLERANCE:
                    raise ValueError(f"t={t:.2f}: drive starts {turn:.1f}° off the vehicle heading")
                if not signals.get("engine"):
                    raise ValueError(f"t={t:.2f}: cannot drive with the engine off")
                profile = SpeedProfile.plan(path.length, step.speed, speed, step.end_speed,
                                            step.accel, step.decel)
                for s_at, event in sorted(step.events, key=lambda e: e[0]):
                    instant(event, t + _time_at(profile, s_at))
                motion.append(_Travel(t, t + profile.duration, path, profile, reversing=False))
                t += profile.duration
                x, y = path.end
                heading = path.heading_at(path.length)
                speed = step.end_speed
            elif isinstance(step, Rollback):
                if speed > 1e-9:
                    raise ValueError(f"t={t:.2f}: a rollback starts from standstill")
                dx, dy = direction(heading)
                back = Path([(x, y), (x - dx * step.distance, y - dy * step.distance)])
                profile = SpeedProfile.plan(back.length, step.speed, 0.0, 0.0, step.accel, step.accel)
                motion.append(_Travel(t, t + profile.duration, back, profile, reversing=True,
                                      heading=heading))
                t += profile.duration
                x, y = back.end
            else:  # pragma: no cover - the Step union is closed
                raise TypeError(f"unknown step {step!r}")
        if speed > 1e-9:
            raise ValueError("a script must end at standstill")
        changes.sort(key=lambda c: c[0])  # stable: same-time changes keep their written order
        if not motion:
            motion.append(_Still(0.0, 0.0, x, y, heading))
        return Timeline(duration=t, motion=tuple(motion), changes=tuple(changes),
                        pulses=tuple(pulses), commands=tuple(sorted(commands)),
                        initial=dict(self.initial), lean=self.lean, track=self.track)


def _time_at(profile: SpeedProfile, s: float) -> float:
    """Time at which ``profile`` has covered ``s`` metres (bisection: distance is monotonic)."""
    if not 0.0 <= s <= profile.length + 1e-9:
        raise ValueError(f"event at {s:.2f} m lies outside a {profile.length:.2f} m run")
    lo, hi = 0.0, profile.duration
    for _ in range(60):
        mid = (lo + hi) / 2.0
        if profile.at(mid)[0] < s:
            lo = mid
        else:
            hi = mid
    return hi


__all__ = [
    "Script", "Timeline", "Drive", "Rollback", "Wait", "StartEngine", "Set", "Pulse",
    "CommandStep", "heading_of",
]

"""The observation stream: everything the judge sees, typed and timestamped.

Every observation carries two clocks: ``t`` is monotonic seconds (ordering and
intervals; its origin is arbitrary but fixed for one attempt) and ``utc`` is the
wall-clock time used to join with video and to show people. The judge uses only
``t``; ``utc`` is carried through to deductions.

Positions are in the course frame: local metres, x east, y north, from the
course origin. Headings are degrees clockwise from north (the GNSS convention).

The JSON Lines form (one object per line, ``kind`` first) is documented in
``docs/observations.md``; it is what the journal stores and what
``examroom judge`` reads back, so :func:`to_json` / :func:`from_json` must stay
lossless for every field.
"""

from __future__ import annotations

import dataclasses
import enum
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable, Iterator, Union


class FixQuality(str, enum.Enum):
    """GNSS fix quality, from the GGA quality indicator."""

    NONE = "none"
    SINGLE = "single"
    DGPS = "dgps"
    RTK_FLOAT = "rtk_float"
    RTK_FIXED = "rtk_fixed"
    DEAD_RECKONING = "dead_reckoning"


class Gear(str, enum.Enum):
    NEUTRAL = "N"
    REVERSE = "R"
    PARK = "P"
    G1 = "1"
    G2 = "2"
    G3 = "3"
    G4 = "4"
    G5 = "5"
    G6 = "6"
    UNKNOWN = "?"


@dataclass(frozen=True)
class Pose:
    """Vehicle pose from the GNSS receiver (antenna position, course frame)."""

    t: float
    utc: datetime
    vehicle: str
    x: float
    y: float
    heading: float | None  # degrees clockwise from north; None when unknown
    speed: float  # metres per second, never negative
    fix: FixQuality
    satellites: int | None = None
    hdop: float | None = None
    correction_age: float | None = None  # seconds since the last RTK correction
    kind: str = field(default="pose", init=False)


@dataclass(frozen=True)
class Signals:
    """A full snapshot of the vehicle signal board.

    A field is ``None`` when the vehicle has no such sensor (a motorcycle has
    no seat belt, a two-wheeler no parking brake); the judge then does not
    apply rules that need it.
    """

    t: float
    utc: datetime
    vehicle: str
    ignition: bool
    engine: bool  # engine running
    starter: bool  # starter switch held
    gear: Gear
    seatbelt: bool | None = None
    helmet: bool | None = None
    parking_brake: bool | None = None
    left_footpeg: bool | None = None  # True: foot on the peg
    right_footpeg: bool | None = None
    left_turn: bool | None = None
    right_turn: bool | None = None
    roll: float | None = None  # degrees, right side down positive
    kind: str = field(default="signals", init=False)


@dataclass(frozen=True)
class CourseSensor:
    """A course sensor changed state (pole touched, wheel on a bridge deck).

    ``element`` is the id the course file gives the sensed element, for example
    ``pile.pole3`` or ``bridge.A``. ``vehicle`` is the vehicle the controller
    routed the event to (the one inside that item), or None if unrouted.
    """

    t: float
    utc: datetime
    element: str
    active: bool
    vehicle: str | None = None
    kind: str = field(default="course", init=False)


class CommandAction(str, enum.Enum):
    START = "start"  # the attempt begins: judging starts
    STOP = "stop"  # supervisor stops the attempt (aborted, no verdict)
    MANUAL_FAIL = "manual_fail"  # 人工评判: rule given in ``rule``
    DEVICE_FAULT = "device_fault"  # 设备故障: suspends, never a deduction
    RESUME = "resume"


@dataclass(frozen=True)
class Command:
    """A supervisor or system command, journaled with who and why."""

    t: float
    utc: datetime
    vehicle: str
    action: CommandAction
    actor: str = "system"
    reason: str = ""
    rule: str | None = None  # for manual_fail: the rule id applied
    # For start: what is examined. The model id names a vehicle in the course file,
    # so a journal is judged again with the same outline and antenna offset.
    vehicle_class: str | None = None
    vehicle_model: str | None = None
    kind: str = field(default="command", init=False)


Observation = Union[Pose, Signals, CourseSensor, Command]

_KINDS: dict[str, type] = {"pose": Pose, "signals": Signals, "course": CourseSensor, "command": Command}
_ENUM_FIELDS = {"fix": FixQuality, "gear": Gear, "action": CommandAction}


class ObservationFormatError(ValueError):
    """A journal line that is not a valid observation; names the line and field."""


def utc_text(moment: datetime) -> str:
    """ISO 8601 with microseconds and a Z suffix (always UTC)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"UTC time without a zone: {text!r}")
    return moment.astimezone(timezone.utc)


def to_dict(obs: Observation) -> dict:
    out: dict = {"kind": obs.kind}
    for f in dataclasses.fields(obs):
        if f.name == "kind":
            continue
        value = getattr(obs, f.name)
        if isinstance(value, datetime):
            value = utc_text(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        out[f.name] = value
    return out


def from_dict(data: dict) -> Observation:
    kind = data.get("kind")
    cls = _KINDS.get(kind)
    if cls is None:
        raise ObservationFormatError(f"unknown kind {kind!r}")
    names = {f.name: f for f in dataclasses.fields(cls) if f.name != "kind"}
    unknown = set(data) - set(names) - {"kind"}
    if unknown:
        raise ObservationFormatError(f"{kind}: unknown field(s) {sorted(unknown)}")
    args = {}
    for name, f in names.items():
        if name not in data:
            if f.default is dataclasses.MISSING:
                raise ObservationFormatError(f"{kind}: missing field {name!r}")
            continue
        value = data[name]
        try:
            if name == "utc":
                value = parse_utc(value)
            elif name in _ENUM_FIELDS:
                value = _ENUM_FIELDS[name](value)
        except (ValueError, TypeError) as exc:
            raise ObservationFormatError(f"{kind}: field {name!r}: {exc}") from exc
        args[name] = value
    return cls(**args)


def to_json(obs: Observation) -> str:
    return json.dumps(to_dict(obs), ensure_ascii=False, separators=(",", ":"))


def from_json(line: str) -> Observation:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ObservationFormatError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ObservationFormatError("a line must be a JSON object")
    return from_dict(data)


def read_jsonl(lines: Iterable[str], source: str = "<stream>") -> Iterator[Observation]:
    """Parse JSON Lines; blank lines are skipped, a bad line raises with its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield from_json(line)
        except ObservationFormatError as exc:
            raise ObservationFormatError(f"{source}:{number}: {exc}") from exc


def write_jsonl(observations: Iterable[Observation]) -> Iterator[str]:
    for obs in observations:
        yield to_json(obs) + "\n"

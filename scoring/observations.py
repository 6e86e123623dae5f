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
import math
import re
import typing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Annotated, Iterable, Iterator, Union

import msgspec
from msgspec import Meta

# --- the schema's field types ---------------------------------------------------------------
# One schema for every journal line, read back or live: these types annotate the dataclasses
# below, and the reader (msgspec, one C pass per line) enforces them — JSON types exactly (a
# string is never a boolean or a number, a float is never an int), ranges, enums, required
# fields, no unknown field. The bounds are plausibility limits of the data, not judging
# thresholds: a value outside them is a broken device or a broken file, never a reading.
# Non-finite numbers fail every bound (NaN compares false), so no field takes NaN or ±inf.
Seconds = Annotated[float, Meta(ge=-1e9, le=1e9)]  # monotonic clock: ±31 years from its origin
Utc = Annotated[datetime, Meta(tz=True)]
Metres = Annotated[float, Meta(ge=-1e5, le=1e5)]  # course frame: 100 km either way of the origin
Degrees = Annotated[float, Meta(ge=0.0, le=360.0)]  # heading, clockwise from north
Speed = Annotated[float, Meta(ge=0.0, le=100.0)]  # m/s: 360 km/h is no exam vehicle
Roll = Annotated[float, Meta(ge=-90.0, le=90.0)]  # degrees: lying on its side
Satellites = Annotated[int, Meta(ge=0, le=255)]
Dilution = Annotated[float, Meta(ge=0.0, le=100.0)]  # HDOP (99.9 is a receiver's "unknown")
Age = Annotated[float, Meta(ge=0.0, le=86400.0)]  # seconds since the last RTK correction
Ident = Annotated[str, Meta(min_length=1, max_length=100)]  # vehicle, element, rule, model ids
Words = Annotated[str, Meta(max_length=2000)]  # who and why, in a supervisor's words


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

    t: Seconds
    utc: Utc
    vehicle: Ident
    x: Metres
    y: Metres
    heading: Degrees | None  # degrees clockwise from north; None when unknown
    speed: Speed  # metres per second, never negative
    fix: FixQuality
    satellites: Satellites | None = None
    hdop: Dilution | None = None
    correction_age: Age | None = None  # seconds since the last RTK correction
    kind: str = field(default="pose", init=False)


@dataclass(frozen=True)
class Signals:
    """A full snapshot of the vehicle signal board.

    A field is ``None`` when the vehicle has no such sensor (a motorcycle has
    no seat belt, a two-wheeler no parking brake); the judge then does not
    apply rules that need it.
    """

    t: Seconds
    utc: Utc
    vehicle: Ident
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
    roll: Roll | None = None  # degrees, right side down positive
    kind: str = field(default="signals", init=False)


@dataclass(frozen=True)
class CourseSensor:
    """A course sensor changed state (pole touched, wheel on a bridge deck).

    ``element`` is the id the course file gives the sensed element, for example
    ``pile.pole3`` or ``bridge.A``. ``vehicle`` is the vehicle the controller
    routed the event to (the one inside that item), or None if unrouted.
    """

    t: Seconds
    utc: Utc
    element: Ident
    active: bool
    vehicle: Ident | None = None
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

    t: Seconds
    utc: Utc
    vehicle: Ident
    action: CommandAction
    actor: Words = "system"
    reason: Words = ""
    rule: Ident | None = None  # for manual_fail: the rule id applied
    # For start: what is examined. The model id names a vehicle in the course file,
    # so a journal is judged again with the same outline and antenna offset.
    vehicle_class: Ident | None = None
    vehicle_model: Ident | None = None
    kind: str = field(default="command", init=False)


Observation = Union[Pose, Signals, CourseSensor, Command]

_KINDS: dict[str, type] = {"pose": Pose, "signals": Signals, "course": CourseSensor, "command": Command}


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
            if value.tzinfo is None:  # local or UTC? A journal never guesses.
                raise ObservationFormatError(f"{obs.kind}: field {f.name!r}: a time without a zone")
            value = utc_text(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        out[f.name] = value
    return out


def to_json(obs: Observation) -> str:
    return json.dumps(to_dict(obs), ensure_ascii=False, separators=(",", ":"))


# --- reading lines: the schema above, compiled once ------------------------------------------

def _line_type(cls: type) -> type:
    """The msgspec form of an observation class: its fields and their annotated types, tagged by kind."""
    hints = typing.get_type_hints(cls, include_extras=True)
    fields = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        fields.append((f.name, hints[f.name]) if f.default is dataclasses.MISSING
                      else (f.name, hints[f.name], f.default))
    return msgspec.defstruct(f"{cls.__name__}Line", fields, tag_field="kind", tag=cls.__dataclass_fields__["kind"].default,
                             forbid_unknown_fields=True)


_LINE_TYPES: dict[type, type] = {_line_type(cls): cls for cls in _KINDS.values()}
_DECODER = msgspec.json.Decoder(Union[tuple(_LINE_TYPES)])  # type: ignore[valid-type]
_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"`([^`]*)`")


def from_json(line: str | bytes) -> Observation:
    """One journal line as an observation; a line the schema refuses raises, naming the field."""
    try:
        decoded = _DECODER.decode(line)
    except msgspec.ValidationError as exc:
        raise ObservationFormatError(_explain(line, str(exc))) from None
    except msgspec.DecodeError as exc:
        if isinstance(line, bytes):  # msgspec ≥ 0.23 reports bad UTF-8 as a DecodeError, not a UnicodeError
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as bad:
                raise ObservationFormatError(f"not UTF-8 text: {bad.reason}") from None
        raise ObservationFormatError(_malformed(line, exc)) from None
    except RecursionError:
        raise ObservationFormatError("not JSON: nested too deeply") from None
    except UnicodeError as exc:
        raise ObservationFormatError(f"not UTF-8 text: {exc.reason}") from None
    values = msgspec.structs.astuple(decoded)
    utc = values[1]
    if utc.tzinfo is not timezone.utc:  # an offset other than Z: the same instant, kept in UTC
        values = (values[0], utc.astimezone(timezone.utc), *values[2:])
    return _LINE_TYPES[type(decoded)](*values)


def from_dict(data: dict) -> Observation:
    """An observation from its JSON-ready form, checked as a journal line is."""
    try:
        line = json.dumps(data, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ObservationFormatError(f"not JSON data: {exc}") from None
    return from_json(line)


def checked_line(obs: Observation) -> str:
    """The journal line of ``obs``, refused (ObservationFormatError) exactly as the reader would refuse it.

    The live path calls this before it journals or judges an observation, so a reading that
    ``examroom judge`` would refuse on the way back is refused on the way in.
    """
    try:
        line = to_json(obs)
    except ObservationFormatError:
        raise
    except (TypeError, ValueError) as exc:
        raise ObservationFormatError(f"{getattr(obs, 'kind', '?')}: not JSON data: {exc}") from None
    from_json(line)
    return line


_KIND_FIELD = re.compile(r'"kind"\s*:\s*"([^"\\]*)"')


def _kind_of(line: str | bytes) -> str | None:
    """The kind a line names, if it is a known one (for messages only: the slow path)."""
    text = line.decode("utf-8", "replace") if isinstance(line, bytes) else line
    match = _KIND_FIELD.search(text)
    return match.group(1) if match and match.group(1) in _KINDS else None


def _explain(line: str | bytes, message: str) -> str:
    """msgspec's validation message as one line naming the kind and the field."""
    match = _AT.match(message)
    what, path = match.group("what"), (match.group("path") or "").lstrip(".")
    name = re.split(r"[.\[]", path, maxsplit=1)[0]
    named = _NAMED.search(what)
    kind = _kind_of(line)
    prefix = f"{kind}: " if kind else ""
    if what.startswith("Object missing required field") and named:
        return f"{prefix}missing field {named.group(1)!r}"
    if what.startswith("Object contains unknown field") and named:
        return f"{prefix}unknown field {named.group(1)!r}"
    if name == "kind" or (not kind and "kind" in what):
        return f"unknown kind ({what}); expected one of {', '.join(_KINDS)}"
    if what.startswith("Expected `object`"):
        return "a line must be a JSON object"
    if name:
        return f"{prefix}field {name!r}: {what[:1].lower()}{what[1:]}"
    return f"{prefix}{what}"


def _malformed(line: str | bytes, exc: Exception) -> str:
    """Not JSON to the schema's reader; a non-finite number is named by its field."""
    try:
        data = json.loads(line)  # Python's reader takes NaN and Infinity: only to name the field
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        kind = _kind_of(line)
        prefix = f"{kind}: " if kind else ""
        for name, value in data.items():
            if isinstance(value, float) and not math.isfinite(value):
                return f"{prefix}field {name!r}: {value} is not a number (NaN and infinities are refused)"
    return f"not JSON: {exc}"


class TimeOrder:
    """Time never goes backwards within one source of a journal.

    A source is a vehicle's poses, its signal-board snapshots, its commands, or one course
    element's changes. Different sources may interleave out of ``t`` order by a little: a
    GNSS fix is timed by its receiver epoch (earlier than its arrival) while a signal-board
    frame is timed on arrival, and the journal holds them in arrival order.
    """

    def __init__(self) -> None:
        self._last: dict[tuple[str, str | None], float] = {}

    def check(self, obs: Observation) -> None:
        source = obs.element if isinstance(obs, CourseSensor) else obs.vehicle
        key = (obs.kind, source)
        last = self._last.get(key)
        if last is not None and obs.t < last:
            raise ObservationFormatError(f"{obs.kind}: field 't': {obs.t} is before {last}, the previous "
                                         f"{obs.kind} of {source} (time goes backwards)")
        self._last[key] = obs.t


def read_jsonl(lines: Iterable[str | bytes], source: str = "<stream>") -> Iterator[Observation]:
    """Parse JSON Lines; blank lines are skipped, a bad line raises with its number.

    Each line is checked against the schema (:func:`from_json`) and against the lines before
    it (:class:`TimeOrder`), as the live path checks each observation before it journals it.
    """
    order = TimeOrder()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obs = from_json(line)
            order.check(obs)
        except ObservationFormatError as exc:
            raise ObservationFormatError(f"{source}:{number}: {exc}") from None
        yield obs


def write_jsonl(observations: Iterable[Observation]) -> Iterator[str]:
    for obs in observations:
        yield to_json(obs) + "\n"

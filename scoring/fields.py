"""The one strict reader of configuration files: TOML in, typed errors naming file, field and range.

Every configuration file (the course file with its vehicles, the rule set, a province or
course override, the site file with its camera section) is read by :func:`load_file` and
its tables through :class:`Fields`, so a broken file always fails the same way, with a
:class:`ConfigError` (each loader's own subclass: ``CourseError``, ``RuleSetError``,
``SettingsError``) whose message reads ``course.toml: items[2].piles: need at least 2
piles, got 1`` and whose ``file``, ``field`` and ``allowed`` say the same to a program. Unknown keys are errors too (a misspelt key silently falling
back to a default is how a course ends up judged with the wrong geometry).

Every number read here is finite and within a range that the message names
(:func:`number_problem`): NaN and infinities are refused (they compare false
with every limit, so a NaN time-out would silently switch a check off), and a
number with no range of its own is still refused beyond :data:`MAGNITUDE`. The
site settings and the video settings check their numbers with the same
function.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any, Callable, TypeVar

from .geometry import Vec

_MISSING = object()
MISSING = _MISSING  # "no default": the field is required (for readers built on Fields)

# Any number in a configuration file is within this magnitude unless its field says less: past it,
# a number is a typing slip or a hostile file (a 1e9 m course would make drawings of terabytes).
MAGNITUDE = 1e6
# Course-frame coordinates (m), either way of the course origin: a county course is under 1 km.
COURSE_EXTENT = 10_000.0


T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration file that cannot be used. ``str()`` is the whole message for people.

    ``file``: the file as the message names it (None until the loader adds it); ``field``: the
    field path (``items[2].piles``; None for the file as a whole); ``reason``: what is wrong;
    ``allowed``: the allowed range in words, when a number was out of it.
    """

    def __init__(self, message: str, *, file: str | None = None, field: str | None = None,
                 reason: str | None = None, allowed: str | None = None) -> None:
        super().__init__(message)
        self.file, self.field, self.allowed = file, field, allowed
        self.reason = message if reason is None else reason


def read_table(path: Path, error: type[ConfigError], shown: str | None = None,
               missing: str | None = None) -> dict[str, Any]:
    """``path`` read as TOML; a file that is not UTF-8 text or not TOML raises ``error`` naming it.

    ``shown``: how messages name the file (default: its name). ``missing``: the reason given when
    the file does not exist (default: FileNotFoundError passes through).
    """
    shown = path.name if shown is None else shown
    try:
        return read_toml(path)
    except FileNotFoundError:
        if missing is None:
            raise
        raise error(f"{shown}: {missing}", file=shown, reason=missing) from None
    except ValueError as exc:
        raise error(f"{shown}: {exc}", file=shown, reason=str(exc)) from None


def parse_table(data: dict[str, Any], shown: str, error: type[ConfigError], parse: Callable[[dict[str, Any]], T]) -> T:
    """``parse(data)``, an ``error`` it raises now naming the file ``shown`` too."""
    try:
        return parse(data)
    except error as exc:
        raise error(f"{shown}: {exc}", file=shown, field=exc.field, reason=exc.reason,
                    allowed=exc.allowed) from exc


def load_file(path: Path, error: type[ConfigError], parse: Callable[[dict[str, Any]], T], shown: str | None = None,
              missing: str | None = None) -> T:
    """Read a configuration file and parse it strictly: the one way every loader reads its file."""
    shown = path.name if shown is None else shown
    return parse_table(read_table(path, error, shown, missing), shown, error, parse)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a table; ValueError "not UTF-8 text" or "not valid TOML" (:func:`read_table` adds the file).

    FileNotFoundError passes through.
    """
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ValueError("not valid TOML: nested too deeply") from None


def _text(number: float) -> str:
    return f"{number:g}"


def allowed_range(minimum: float | None = None, maximum: float | None = None, positive: bool = False) -> str:
    """The allowed range in words, as messages give it."""
    low = -MAGNITUDE if minimum is None and not positive else minimum
    high = MAGNITUDE if maximum is None else maximum
    if positive and (low is None or low <= 0):
        return f"greater than 0 and at most {_text(high)}"
    return f"between {_text(low)} and {_text(high)}"


def number_problem(value: Any, minimum: float | None = None, maximum: float | None = None,
                   positive: bool = False) -> str | None:
    """What is wrong with ``value`` as a number in range (None: nothing); the words name the range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"expected a number, got {_type_name(value)}"
    low = -MAGNITUDE if minimum is None and not positive else minimum
    high = MAGNITUDE if maximum is None else maximum
    finite = isinstance(value, int) or math.isfinite(value)
    in_range = finite and (low is None or value >= low) and value <= high and (not positive or value > 0)
    if in_range:
        return None
    if not finite:
        return f"must be a finite number {allowed_range(minimum, maximum, positive)}, got {value}"
    shown = str(value)
    if len(shown) > 24:
        shown = f"{shown[:12]}… ({len(shown)} digits)"
    return f"must be {allowed_range(minimum, maximum, positive)}, got {shown}"



def _type_name(value: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "table"}.get(
        type(value), type(value).__name__
    )


class Fields:
    """One TOML table being read. Call :meth:`done` to reject keys nobody asked for."""

    def __init__(self, data: Any, path: str, error: Callable[[str], Exception]) -> None:
        self.path = path
        self._error = error
        if not isinstance(data, dict):
            raise self.fail(f"expected a table, got {_type_name(data)}")
        self.data = data
        self._used: set[str] = set()

    def sub(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, message: str, key: str | int | None = None, allowed: str | None = None) -> Exception:
        where = self.path if key is None else self.sub(key)
        exc = self._error(f"{where}: {message}" if where else message)
        if isinstance(exc, ConfigError):
            exc.field, exc.reason, exc.allowed = where or None, message, allowed
        return exc

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        self._used.add(key)
        if key not in self.data:
            if default is _MISSING:
                raise self.fail("missing field", key)
            return default
        return self.data[key]

    def string(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return value
        if not isinstance(value, str):
            raise self.fail(f"expected a string, got {_type_name(value)}", key)
        if choices is not None and value not in choices:
            raise self.fail(f"unknown value {value!r} (expected one of: {', '.join(choices)})", key)
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        """A string that is not blank (a default is given back as it is)."""
        value = self.string(key) if default is _MISSING else self.string(key, default)
        if value is default:
            return value
        if not value.strip():
            raise self.fail("must not be empty", key)
        return value

    def optional_text(self, key: str) -> str | None:
        """A string that is not blank, or None when the key is absent."""
        return self.text(key) if key in self.data else self.string(key, None)

    def array(self, key: str, default: Any = _MISSING) -> list:
        """An array whose entries the caller checks."""
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.fail(f"expected an array, got {_type_name(value)}", key)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"expected true or false, got {_type_name(value)}", key)
        return value

    def number(self, key: str, default: Any = _MISSING, minimum: float | None = None,
               positive: bool = False, maximum: float | None = None) -> float:
        value = self.raw(key, default)
        if value is default and default is not _MISSING and default is None:
            return value
        return self.check_number(value, key, minimum, positive, maximum)

    def check_number(self, value: Any, key: str | int, minimum: float | None = None,
                     positive: bool = False, maximum: float | None = None) -> float:
        problem = number_problem(value, minimum, maximum, positive)
        if problem is not None:
            raise self.fail(problem, key, allowed_range(minimum, maximum, positive))
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, minimum: int | None = None,
                maximum: int | None = None) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(f"expected an integer, got {_type_name(value)}", key)
        problem = number_problem(value, minimum, maximum)
        if problem is not None:
            raise self.fail(problem.replace("a finite number", "an integer"), key, allowed_range(minimum, maximum))
        return value

    def strings(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.fail(f"expected an array of strings, got {_type_name(value)}", key)
        for i, entry in enumerate(value):
            if not isinstance(entry, str):
                raise self.fail(f"expected a string, got {_type_name(entry)}", f"{key}[{i}]")
            if choices is not None and entry not in choices:
                raise self.fail(f"unknown value {entry!r} (expected one of: {', '.join(choices)})", f"{key}[{i}]")
        return tuple(value)

    def point(self, key: str, default: Any = _MISSING, extent: float = COURSE_EXTENT) -> Vec:
        value = self.raw(key, default)
        return self.check_point(value, key, extent)

    def check_point(self, value: Any, key: str, extent: float = COURSE_EXTENT) -> Vec:
        """A point [x, y]; each coordinate within ±``extent`` (course-frame metres by default)."""
        if not isinstance(value, list) or len(value) != 2:
            raise self.fail("expected a point [x, y]", key)
        return (self.check_number(value[0], f"{key}[0]", minimum=-extent, maximum=extent),
                self.check_number(value[1], f"{key}[1]", minimum=-extent, maximum=extent))

    def points(self, key: str, minimum: int, what: str = "points", extent: float = COURSE_EXTENT) -> tuple[Vec, ...]:
        value = self.raw(key)
        if not isinstance(value, list):
            raise self.fail(f"expected an array of points, got {_type_name(value)}", key)
        if len(value) < minimum:
            raise self.fail(f"need at least {minimum} {what}, got {len(value)}", key)
        return tuple(self.check_point(p, f"{key}[{i}]", extent) for i, p in enumerate(value))

    def table(self, key: str, default: Any = _MISSING) -> "Fields":
        value = self.raw(key, {} if default is not _MISSING else _MISSING)
        return Fields(value, self.sub(key), self._error)

    def tables(self, key: str, default: Any = _MISSING) -> list["Fields"]:
        value = self.raw(key, default)
        if not isinstance(value, list):
            raise self.fail(f"expected an array of tables, got {_type_name(value)}", key)
        return [Fields(entry, f"{self.sub(key)}[{i}]", self._error) for i, entry in enumerate(value)]

    def keys(self) -> list[str]:
        """All keys, marked used (for tables keyed by free names)."""
        self._used.update(self.data)
        return list(self.data)

    def done(self) -> None:
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise self.fail(f"unknown key(s): {', '.join(unknown)}")

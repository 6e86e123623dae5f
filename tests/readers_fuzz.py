"""Fuzz harnesses for the file readers: the journal reader and the site, course and rule loaders.

Each target takes one generated input and returns normally or raises the project's own clear
error (``ObservationFormatError``, ``CourseError``, ``RuleSetError``, ``SettingsError``); any
other exception is a finding. The inputs are hypothesis strategies built from the shipped files:

- the **journal** reader gets lines of random bytes, valid lines with bytes damaged, and valid
  lines with one field's JSON value replaced by something hostile (a string for a boolean,
  NaN, 1e999, nulls, deep nesting, huge integers), fields dropped or added, times reordered;
  a line it accepts must read back to itself and hold only finite numbers (no false reading);
- the **course**, **rule set**, **province override** and **site** loaders get the shipped
  file parsed, with up to three values replaced by hostile ones (NaN, ±inf, 1e9, negatives,
  wrong types, tables for numbers), keys dropped or added, written back as TOML; and the
  shipped file's text with bytes damaged (not TOML, not UTF-8).

``tests/test_fuzz_readers.py`` runs every target at a size that keeps the suite quick;
``bench/fuzz_readers.py`` runs the same targets long and prints the figures.
"""

from __future__ import annotations

import copy
import math
import tempfile
import tomllib
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import tomli_w
from hypothesis import strategies as st

from examroom.site.settings import SettingsError, load_settings
from scoring.course import CourseError, load_course
from scoring.observations import (
    Command, CommandAction, CourseSensor, FixQuality, Gear, ObservationFormatError, Pose, Signals, from_json,
    read_jsonl, to_json,
)
from scoring.overrides import load_override_file
from scoring.rules import RuleSetError, load_ruleset

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "config" / "courses" / "demo.toml"
RULES = ROOT / "config" / "rules" / "ga1026-2022.toml"
PROVINCE = ROOT / "config" / "rules" / "provinces" / "example.toml"
SITE = ROOT / "config" / "sites" / "example-county.toml"

# The clear errors each target may raise; anything else is a finding.
CLEAR = {"journal": (ObservationFormatError,), "course": (CourseError,), "rules": (RuleSetError,),
         "province": (RuleSetError,), "site": (SettingsError,)}

# --- hostile values ------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
HOSTILE_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, 1e9, -1e9, 1e300, -1.0, 0.0, -0.0, 1e-300,
                                   10 ** 30, -(10 ** 30), 2 ** 63 - 1, -(2 ** 63)])
SCALARS = st.one_of(HOSTILE_NUMBERS, st.floats(), st.integers(), st.booleans(), _TEXT,
                    st.sampled_from(["", "nan", "true", "false", "no", "1e999", "-1"]))
TOML_VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(_TEXT, inner, max_size=3)),
                           max_leaves=6)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a parsed TOML document: table keys and array indexes, depth first."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append(prefix + (key,))
            out += _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append(prefix + (i,))
            out += _paths(value, prefix + (i,))
    return out


@st.composite
def mutated_document(draw, base: dict) -> dict:
    """``base`` with one to three values replaced, keys dropped or unknown keys added."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add"]))
        if op == "replace":
            parent[path[-1]] = draw(TOML_VALUES)
        elif op == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(_TEXT)] = draw(TOML_VALUES)
        else:
            parent.append(draw(TOML_VALUES))
    return data


@st.composite
def damaged_bytes(draw, base: bytes) -> bytes:
    """``base`` with bytes substituted, inserted or deleted, or cut short."""
    out = bytearray(base)
    for _ in range(draw(st.integers(1, 8))):
        if not out:
            break
        i = draw(st.integers(0, len(out) - 1))
        op = draw(st.integers(0, 3))
        if op == 0:
            out[i] = draw(st.integers(0, 255))
        elif op == 1:
            out.insert(i, draw(st.sampled_from(b"\x00\xff\"'[]{}=#\n\\,.-+e")))
        elif op == 2:
            del out[i]
        else:
            del out[i:]
    return bytes(out)


def toml_inputs(path: Path) -> st.SearchStrategy[bytes]:
    """The shipped file's text, damaged, or its document mutated and written back as TOML."""
    text = path.read_bytes()
    document = tomllib.loads(text.decode("utf-8"))
    return st.one_of(damaged_bytes(text), mutated_document(document).map(lambda d: tomli_w.dumps(d).encode()))


# --- the journal -----------------------------------------------------------------------------

def _journal_lines() -> list[str]:
    """Two seconds of an attempt as the controller journals it: every kind, every optional field."""
    t0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
    out = [Command(t=0.0, utc=t0, vehicle="V1", action=CommandAction.START, vehicle_class="E",
                   vehicle_model="E-01")]
    for k in range(1, 41):
        t = k / 20
        utc = t0 + timedelta(seconds=t)
        if k % 2 == 0:
            out.append(Pose(t=t, utc=utc, vehicle="V1", x=1.0 + t, y=2.0, heading=None if k % 8 == 0 else 90.0,
                            speed=1.5, fix=FixQuality.RTK_FIXED, satellites=20, hdop=0.6, correction_age=1.0))
        out.append(Signals(t=t, utc=utc, vehicle="V1", ignition=True, engine=True, starter=False, gear=Gear.G1,
                           helmet=True, left_footpeg=True, right_footpeg=True, left_turn=False, right_turn=None,
                           roll=-1.5))
        if k % 10 == 0:
            out.append(CourseSensor(t=t, utc=utc, element="e_pile.pole3", active=k % 20 == 0, vehicle="V1"))
    out.append(Command(t=2.1, utc=t0 + timedelta(seconds=2.1), vehicle="V1", action=CommandAction.MANUAL_FAIL,
                       actor="考试员", reason="未按指令", rule="general.instruction"))
    return [to_json(o) for o in out]


JOURNAL = _journal_lines()


@st.composite
def journal_inputs(draw) -> list[bytes]:
    """A few journal lines: random bytes, damaged valid lines, or valid lines with a hostile field."""
    start = draw(st.integers(0, len(JOURNAL) - 8))
    lines = [line.encode() for line in JOURNAL[start:start + draw(st.integers(1, 8))]]
    i = draw(st.integers(0, len(lines) - 1))
    how = draw(st.sampled_from(["bytes", "damage", "field", "field", "swap", "nest"]))
    if how == "bytes":
        lines[i] = draw(st.binary(max_size=200))
    elif how == "damage":
        lines[i] = draw(damaged_bytes(lines[i]))
    elif how == "field":
        import json

        data = json.loads(lines[i])
        key = draw(st.sampled_from(sorted(data) + ["extra"]))
        value = draw(st.one_of(TOML_VALUES, st.none()))
        if draw(st.booleans()) and key in data:
            del data[key]
        else:
            data[key] = value
        lines[i] = json.dumps(data, ensure_ascii=draw(st.booleans())).encode()  # writes NaN and Infinity
    elif how == "swap" and len(lines) > 1:
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    else:
        depth = draw(st.integers(1, 100_000))
        lines[i] = lines[i][:-1] + b',"deep":' + b"[" * depth + b"]" * draw(st.integers(0, depth)) + b"}"
    return lines


def journal_target(lines: list[bytes]) -> None:
    """Read the lines; what is accepted reads back to itself and holds finite numbers only."""
    for obs in read_jsonl(lines, "fuzz"):
        for f in dataclass_fields(obs):
            value = getattr(obs, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise AssertionError(f"false reading: {f.name} = {value} accepted")
        if from_json(to_json(obs)) != obs:
            raise AssertionError(f"false reading: {obs} does not read back to itself")


# --- the TOML loaders -------------------------------------------------------------------------

class _Scratch:
    """One temporary file per loader, rewritten for each input (the loaders read files)."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="fuzz-readers-")
        self.folder = Path(self._folder.name)

    def write(self, name: str, data: bytes) -> Path:
        path = self.folder / name
        path.write_bytes(data)
        return path


_SCRATCH = _Scratch()


def course_target(data: bytes) -> None:
    load_course(_SCRATCH.write("course.toml", data))


def rules_target(data: bytes) -> None:
    load_ruleset(_SCRATCH.write("rules.toml", data))


def province_target(data: bytes) -> None:
    load_override_file(_SCRATCH.write("province.toml", data))


def site_target(data: bytes) -> None:
    load_settings(_SCRATCH.write("site.toml", data))


TARGETS: dict[str, tuple[Callable[[Any], None], Callable[[], st.SearchStrategy]]] = {
    "journal": (journal_target, journal_inputs),
    "course": (course_target, lambda: toml_inputs(COURSE)),
    "rules": (rules_target, lambda: toml_inputs(RULES)),
    "province": (province_target, lambda: toml_inputs(PROVINCE)),
    "site": (site_target, lambda: toml_inputs(SITE)),
}


def run_one(name: str, value: Any) -> str | None:
    """Feed one input; None when it was read or refused clearly, else the finding's description."""
    target, _ = TARGETS[name]
    try:
        target(value)
    except CLEAR[name]:
        return None
    except Exception as exc:  # a finding: reported, not raised, so a long run counts them all
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None

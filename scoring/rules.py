"""Rule sets: the deductions, their thresholds and the measurement settings, as data.

One TOML file per standard version (``config/rules/ga1026-2022.toml``). Item
judges name rules by id and ask the rule set for points and thresholds; they
hold none of their own. A course may override thresholds, enable optional
rules and change measurement settings (:meth:`RuleSet.with_overrides`).

Threshold comparators follow the Chinese legal convention (domain/README.md):
超出/超过/大于 exclude the limit (``>``), 以上/以下/以内 include it (``>=``, ``<=``).
"""

from __future__ import annotations

import dataclasses
import operator
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fields import Fields
from .vehicle import VEHICLE_CLASSES

ITEMS = ("general", "pile", "hill", "bridge")
DETECTORS = ("auto", "manual")
UNITS = ("m", "s", "m/s", "deg")
COMPARATORS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_LOWER = (">", ">=")
_UPPER = ("<", "<=")
REFERENCE_POINT_NAMES = ("front_axle", "front_bumper")

# Measurement settings the judges read; each must be in every rule set.
MEASUREMENTS: dict[str, str] = {
    "stop_speed": "m/s",
    "moving_speed": "m/s",
    "stop_settle": "s",
    "walking_pace": "m/s",
    "footpeg_debounce": "s",
    "weave_window": "s",
    "weave_amplitude": "deg",
    "belt_debounce": "s",
    "coasting_debounce": "s",
    "rollback_floor": "m",
    "hill_on_line_tolerance": "m",
    "deck_margin": "m",
}


class RuleSetError(ValueError):
    """A rule set that cannot be used; the message names the field path and the reason."""


@dataclass(frozen=True)
class Threshold:
    """One threshold of a rule: ``measured <comparator> value``."""

    name: str
    value: float | None  # None: the course must set it before the rule can be enabled
    unit: str
    comparator: str

    def holds(self, measured: float) -> bool:
        if self.value is None:
            return False
        return COMPARATORS[self.comparator](measured, self.value)


@dataclass(frozen=True)
class Rule:
    """One deduction rule with a stable id."""

    id: str
    item: str
    title: str
    title_en: str
    points: int | None
    disqualify: bool
    each_time: bool
    code: str
    code_local: bool
    source: str
    classes: tuple[str, ...]
    detector: str
    params: dict[str, Threshold] = field(hash=False)
    covers: tuple[str, ...] = ()
    major: str | None = None
    layouts: tuple[str, ...] = ()
    enabled: bool = True
    note: str = ""

    @property
    def deducted(self) -> int:
        """Points taken off: 100 for 不合格."""
        return 100 if self.disqualify else int(self.points or 0)

    def applies_to(self, vehicle_class: str) -> bool:
        return self.enabled and vehicle_class in self.classes

    def triggered_by(self, measured: float) -> bool:
        """True when the measured value satisfies every threshold of the rule."""
        return bool(self.params) and all(p.holds(measured) for p in self.params.values())


@dataclass(frozen=True)
class Measure:
    """A measurement setting (not a rule threshold), with its unit and rationale."""

    name: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class RuleSet:
    id: str
    standard: str
    title: str
    start_score: int
    pass_mark: int
    source: str
    rules: dict[str, Rule] = field(hash=False)
    measurement: dict[str, Measure] = field(hash=False)
    hill_reference_point: dict[str, str] = field(hash=False)

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"rule set {self.id}: no rule {rule_id!r}") from None

    def measure(self, name: str) -> float:
        return self.measurement[name].value

    def with_overrides(self, overrides: "Overrides", label: str) -> "RuleSet":
        """A copy with a course's or province's overrides applied, validated again.

        Applying the same label twice is a no-op, so a caller may pass either the plain or the
        already-overridden rule set to the judge.
        """
        if overrides.empty or self.id.endswith(f"+{label}"):
            return self
        rules = dict(self.rules)
        for rule_id, change in overrides.rules.items():
            if rule_id not in rules:
                raise RuleSetError(f"overrides.rules.{rule_id}: no such rule in {self.id}")
            rule = rules[rule_id]
            params = dict(rule.params)
            for name, value in change.params.items():
                if name not in params:
                    raise RuleSetError(f"overrides.rules.{rule_id}.{name}: rule has no threshold {name!r}")
                params[name] = dataclasses.replace(params[name], value=value)
            enabled = rule.enabled if change.enabled is None else change.enabled
            rules[rule_id] = dataclasses.replace(rule, params=params, enabled=enabled)
        measurement = dict(self.measurement)
        for name, value in overrides.measurement.items():
            if name not in measurement:
                raise RuleSetError(f"overrides.measurement.{name}: no such measurement setting")
            measurement[name] = dataclasses.replace(measurement[name], value=value, source=f"override: {label}")
        result = dataclasses.replace(self, id=f"{self.id}+{label}", rules=rules, measurement=measurement)
        _check_rules(result.rules, "overrides")
        return result


@dataclass(frozen=True)
class RuleChange:
    params: dict[str, float] = field(default_factory=dict)
    enabled: bool | None = None


@dataclass(frozen=True)
class Overrides:
    """Threshold and measurement overrides (from a course file, later a province file)."""

    rules: dict[str, RuleChange] = field(default_factory=dict)
    measurement: dict[str, float] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rules and not self.measurement


def read_overrides(table: Fields) -> Overrides:
    """Read an ``[overrides]`` table: ``rules.<id> = {enabled, <threshold> = value}``, ``measurement``."""
    rules: dict[str, RuleChange] = {}
    rule_tables = table.table("rules", default={})
    for rule_id in rule_tables.keys():
        entry = rule_tables.table(rule_id)
        enabled = entry.boolean("enabled", default=None) if entry.has("enabled") else None
        params = {name: entry.number(name) for name in entry.keys() if name != "enabled"}
        rules[rule_id] = RuleChange(params=params, enabled=enabled)
    measurement_table = table.table("measurement", default={})
    measurement = {name: measurement_table.number(name) for name in measurement_table.keys()}
    table.done()
    return Overrides(rules=rules, measurement=measurement)


def _error(message: str) -> RuleSetError:
    return RuleSetError(message)


def _read_threshold(table: Fields, name: str) -> Threshold:
    entry = table.table(name)
    value = entry.number("value", default=None)
    threshold = Threshold(
        name=name,
        value=value,
        unit=entry.string("unit", choices=UNITS),
        comparator=entry.string("comparator", choices=tuple(COMPARATORS)),
    )
    entry.done()
    return threshold


def _read_rule(table: Fields) -> Rule:
    rule_id = table.string("id")
    if not re.fullmatch(r"[a-z]+\.[a-z0-9_]+", rule_id):
        raise table.fail(f"id {rule_id!r} must look like 'item.name' (lower case)", "id")
    item = table.string("item", choices=ITEMS)
    if not rule_id.startswith(item + "."):
        raise table.fail(f"id {rule_id!r} must start with its item {item!r}", "id")
    disqualify = table.boolean("disqualify", default=False)
    points = table.integer("points", default=None) if table.has("points") else None
    if disqualify == (points is not None):
        raise table.fail("give either points or disqualify = true, not both or neither")
    if points is not None and not 0 < points < 100:
        raise table.fail(f"points must be between 1 and 99, got {points}", "points")
    code = table.string("code")
    if not re.fullmatch(r"\d{5}", code):
        raise table.fail(f"code must be 5 digits, got {code!r}", "code")
    params_table = table.table("params", default={})
    params = {name: _read_threshold(params_table, name) for name in params_table.keys()}
    rule = Rule(
        id=rule_id,
        item=item,
        title=table.string("title"),
        title_en=table.string("title_en"),
        points=points,
        disqualify=disqualify,
        each_time=table.boolean("each_time", default=False),
        code=code,
        code_local=table.boolean("code_local", default=False),
        source=table.string("source"),
        classes=table.strings("classes", choices=VEHICLE_CLASSES),
        detector=table.string("detector", choices=DETECTORS),
        params=params,
        covers=table.strings("covers", default=[]),
        major=table.string("major", default=None),
        layouts=table.strings("layouts", default=[]),
        enabled=table.boolean("enabled", default=True),
        note=table.string("note", default=""),
    )
    table.done()
    for what in ("title", "title_en", "source"):
        if not getattr(rule, what).strip():
            raise table.fail("must not be empty", what)
    if not rule.classes:
        raise table.fail("need at least 1 class", "classes")
    return rule


def _check_minor(rule: Rule, major: Rule, where: str) -> None:
    """A minor rule's upper bound must not exceed the lower bound of its 不合格 rule."""
    if not major.disqualify:
        raise RuleSetError(f"{where}.major: {major.id} is not a 不合格 rule")
    if rule.item != major.item:
        raise RuleSetError(f"{where}.major: {major.id} belongs to item {major.item}, not {rule.item}")
    uppers = [p for p in rule.params.values() if p.comparator in _UPPER and p.value is not None]
    lowers = [p for p in major.params.values() if p.comparator in _LOWER and p.value is not None]
    if not uppers or not lowers:
        raise RuleSetError(f"{where}.major: need an upper bound here and a lower bound on {major.id}")
    for up in uppers:
        for low in lowers:
            if up.unit != low.unit:
                raise RuleSetError(f"{where}.params.{up.name}: unit {up.unit} differs from {major.id} ({low.unit})")
            if up.value > low.value:
                raise RuleSetError(
                    f"{where}.params.{up.name}: minor threshold {up.value} {up.unit} is above "
                    f"the 不合格 threshold {low.value} {low.unit} of {major.id}"
                )


def _check_rules(rules: dict[str, Rule], where: str) -> None:
    for index, rule in enumerate(rules.values()):
        here = f"{where}[{index}]" if where == "rules" else f"{where}.rules.{rule.id}"
        if rule.major is not None:
            if rule.major not in rules:
                raise RuleSetError(f"{here}.major: no rule {rule.major!r}")
            _check_minor(rule, rules[rule.major], here)
        lowers = [p.value for p in rule.params.values() if p.comparator in _LOWER and p.value is not None]
        uppers = [p.value for p in rule.params.values() if p.comparator in _UPPER and p.value is not None]
        if lowers and uppers and max(lowers) >= min(uppers):
            raise RuleSetError(f"{here}.params: empty range ({max(lowers)} .. {min(uppers)})")
        if rule.enabled and rule.detector == "auto":
            unset = [p.name for p in rule.params.values() if p.value is None]
            if unset:
                raise RuleSetError(f"{here}.params.{unset[0]}: an enabled rule needs a value")


def _read_measure(table: Fields, name: str) -> Measure:
    entry = table.table(name)
    unit = entry.string("unit", choices=UNITS)
    measure = Measure(name=name, value=entry.number("value", minimum=0), unit=unit, source=entry.string("source"))
    entry.done()
    expected = MEASUREMENTS.get(name)
    if expected is None:
        raise table.fail(f"unknown measurement setting (known: {', '.join(MEASUREMENTS)})", name)
    if unit != expected:
        raise table.fail(f"unit must be {expected}, got {unit}", f"{name}.unit")
    return measure


def parse_ruleset(data: dict[str, Any], source_name: str = "<rule set>") -> RuleSet:
    """Build a rule set from parsed TOML; raises RuleSetError naming the field."""
    root = Fields(data, "", _error)
    head = root.table("ruleset")
    rules: dict[str, Rule] = {}
    for entry in root.tables("rules"):
        rule = _read_rule(entry)
        if rule.id in rules:
            raise entry.fail(f"duplicate rule id {rule.id!r}", "id")
        rules[rule.id] = rule
    measurement_table = root.table("measurement")
    measurement = {name: _read_measure(measurement_table, name) for name in measurement_table.keys()}
    missing = sorted(set(MEASUREMENTS) - set(measurement))
    if missing:
        raise measurement_table.fail(f"missing setting(s): {', '.join(missing)}")
    references = head.table("hill_reference_point")
    hill_reference = {cls: references.string(cls, choices=REFERENCE_POINT_NAMES) for cls in references.keys()}
    unknown_classes = sorted(set(hill_reference) - set(VEHICLE_CLASSES))
    if unknown_classes:
        raise references.fail(f"unknown class(es) {', '.join(unknown_classes)}")
    start_score = head.integer("start_score", minimum=1)
    pass_mark = head.integer("pass_mark", minimum=1)
    if pass_mark > start_score:
        raise head.fail(f"pass mark {pass_mark} is above the start score {start_score}", "pass_mark")
    ruleset = RuleSet(
        id=head.string("id"),
        standard=head.string("standard"),
        title=head.string("title"),
        start_score=start_score,
        pass_mark=pass_mark,
        source=head.string("source"),
        rules=rules,
        measurement=measurement,
        hill_reference_point=hill_reference,
    )
    head.done()
    root.done()
    _check_rules(rules, "rules")
    return ruleset


def load_ruleset(path: str | Path) -> RuleSet:
    """Load and validate a rule set TOML file."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise RuleSetError(f"{path.name}: not valid TOML: {exc}") from exc
    try:
        return parse_ruleset(data, path.name)
    except RuleSetError as exc:
        raise RuleSetError(f"{path.name}: {exc}") from exc


def default_ruleset_path() -> Path:
    """The shipped GA 1026-2022 rule set (``config/rules/ga1026-2022.toml``)."""
    return Path(__file__).resolve().parent.parent / "config" / "rules" / "ga1026-2022.toml"


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "item": rule.item,
        "title": rule.title,
        "title_en": rule.title_en,
        "points": rule.deducted,
        "disqualify": rule.disqualify,
        "each_time": rule.each_time,
        "code": rule.code,
        "code_local": rule.code_local,
        "source": rule.source,
        "classes": list(rule.classes),
        "detector": rule.detector,
        "enabled": rule.enabled,
        "covers": list(rule.covers),
        "major": rule.major,
        "layouts": list(rule.layouts),
        "note": rule.note,
        "params": {
            name: {"value": p.value, "unit": p.unit, "comparator": p.comparator} for name, p in rule.params.items()
        },
    }


def ruleset_to_dict(ruleset: RuleSet, vehicle_class: str | None = None) -> dict[str, Any]:
    """The rule set as plain data (for ``examroom rules --json``); only one class's rules if given."""
    rules = [r for r in ruleset.rules.values() if vehicle_class is None or vehicle_class in r.classes]
    return {
        "id": ruleset.id,
        "standard": ruleset.standard,
        "title": ruleset.title,
        "start_score": ruleset.start_score,
        "pass_mark": ruleset.pass_mark,
        "source": ruleset.source,
        "hill_reference_point": dict(ruleset.hill_reference_point),
        "vehicle_class": vehicle_class,
        "rules": [rule_to_dict(rule) for rule in rules],
        "measurement": {
            m.name: {"value": m.value, "unit": m.unit, "source": m.source} for m in ruleset.measurement.values()
        },
    }

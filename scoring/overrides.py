"""Province and course overrides of a rule set: read, validated, applied and recorded.

A province file (``config/rules/provinces/*.toml``) and a course file's
``[overrides]`` table have the same body (documented in
``docs/course-file.md``)::

    source = "甘公交管〔2024〕1号 (the notice that sets these values)"
    [rules."pile.time_limit"]            # change a rule
    enabled = true
    limit = { value = 480, unit = "s" }  # a threshold: value AND unit
    [rules."general.gear_clash"]
    enabled = false                      # switch a rule off
    [rules."bridge.wheel_not_mounted"]
    points = 20                          # new points (not for 不合格 rules)
    [[add]]                              # a local rule, written like a rule-set rule
    id = "general.local_xxx" ...
    [measurement]
    walking_pace = { value = 1.2, unit = "m/s" }

Every change is checked against the rule set it is applied to (no unknown ids,
units equal to the threshold's unit, minor thresholds at or below their
不合格 ones, points between 1 and 99) and recorded in the rule's ``history``
with the layer's name and source, and the layer is listed in the rule set's
``layers``. Order: standard version, then province, then course.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from .fields import Fields, load_file
from .rules import (
    UNITS,
    Change,
    Layer,
    Overrides,
    QUANTITY_RANGES,
    RuleChange,
    RuleSet,
    RuleSetError,
    _check_rules,
    _read_rule,
)

SCOPES = ("province", "course")
_RULE_KEYS = ("enabled", "points", "source")


def _error(message: str) -> RuleSetError:
    return RuleSetError(message)


def _quantity(table: Fields, name: str) -> tuple[float, str]:
    entry = table.table(name)
    unit = entry.string("unit", choices=UNITS)
    low, high = QUANTITY_RANGES[unit]
    value = entry.number("value", minimum=low, maximum=high)
    entry.done()
    return value, unit


def read_overrides(table: Fields) -> Overrides:
    """Read an override body (a course file's ``[overrides]`` or a province file)."""
    rules: dict[str, RuleChange] = {}
    rule_tables = table.table("rules", default={})
    for rule_id in rule_tables.keys():
        entry = rule_tables.table(rule_id)
        enabled = entry.boolean("enabled") if entry.has("enabled") else None
        points = entry.integer("points") if entry.has("points") else None
        params, units = {}, {}
        for name in entry.keys():
            if name in _RULE_KEYS:
                continue
            if not isinstance(entry.data[name], dict):
                raise entry.fail("a threshold is written { value = <number>, unit = \"<unit>\" }", name)
            params[name], units[name] = _quantity(entry, name)
        rules[rule_id] = RuleChange(params=params, enabled=enabled, points=points, units=units,
                                    source=entry.string("source", default=""))
    added = tuple(_read_rule(entry) for entry in table.tables("add", default=[]))
    measurement_table = table.table("measurement", default={})
    measurement, measurement_units = {}, {}
    for name in measurement_table.keys():
        measurement[name], measurement_units[name] = _quantity(measurement_table, name)
    source = table.string("source", default="")
    table.done()
    overrides = Overrides(rules=rules, measurement=measurement, added=added, source=source,
                          measurement_units=measurement_units)
    if not overrides.empty and not source.strip():
        raise table.fail("overrides need a source (the notice or decision that sets them)", "source")
    return overrides


@dataclass(frozen=True)
class OverrideFile:
    """A province (or course) override file: who issued it and what it changes."""

    scope: str
    name: str
    overrides: Overrides
    path: str

    @property
    def label(self) -> str:
        return f"{self.scope}:{self.name}"


def load_override_file(path: str | Path) -> OverrideFile:
    """Read and check the form of an override file (its ids are checked when applied)."""
    path = Path(path)

    def parse(data: dict) -> OverrideFile:
        root = Fields(data, "", _error)
        scope = root.string("scope", choices=SCOPES)
        name = root.string("name")
        if not name.strip():
            raise root.fail("must not be empty", "name")
        overrides = read_overrides(root)
        root.done()
        return OverrideFile(scope=scope, name=name, overrides=overrides, path=str(path))

    return load_file(path, RuleSetError, parse)


def apply_overrides(ruleset: RuleSet, overrides: Overrides, label: str) -> RuleSet:
    """``ruleset`` with ``overrides`` applied as layer ``label``; raises RuleSetError naming the field."""
    if overrides.empty or any(layer.name == label for layer in ruleset.layers):
        return ruleset
    where = f"{label}"
    rules = dict(ruleset.rules)
    for rule_id, change in overrides.rules.items():
        if rule_id not in rules:
            raise RuleSetError(f"{where}: rules.{rule_id}: no such rule in {ruleset.id}")
        rules[rule_id] = _change_rule(rules[rule_id], change, label, overrides.source, f"{where}: rules.{rule_id}")
    for rule in overrides.added:
        if rule.id in rules:
            raise RuleSetError(f"{where}: add.{rule.id}: {ruleset.id} already has this rule; change it under rules")
        history = (Change(label, "added", None, rule.id, rule.source),)
        rules[rule.id] = dataclasses.replace(rule, history=history)
    measurement = dict(ruleset.measurement)
    for name, value in overrides.measurement.items():
        if name not in measurement:
            raise RuleSetError(f"{where}: measurement.{name}: no such measurement setting")
        old = measurement[name]
        unit = overrides.measurement_units.get(name, old.unit)
        if unit != old.unit:
            raise RuleSetError(f"{where}: measurement.{name}.unit: must be {old.unit}, got {unit}")
        if value < 0:
            raise RuleSetError(f"{where}: measurement.{name}.value: must not be negative, got {value}")
        measurement[name] = dataclasses.replace(old, value=value,
                                                source=f"{label}: {overrides.source} (was {old.value} {old.unit})")
    kind = label.split(":", 1)[0]
    layer = Layer(kind, label, overrides.source, _summary(overrides))
    result = dataclasses.replace(ruleset, id=f"{ruleset.id}+{label}", rules=rules, measurement=measurement,
                                 layers=ruleset.layers + (layer,))
    try:
        _check_rules(result.rules, "overrides")
    except RuleSetError as exc:
        raise RuleSetError(f"{where}: {exc}") from exc
    return result


def _change_rule(rule, change: RuleChange, label: str, layer_source: str, where: str):
    source = change.source or layer_source
    history = list(rule.history)
    params = dict(rule.params)
    for name, value in change.params.items():
        if name not in params:
            known = ", ".join(params) or "none"
            raise RuleSetError(f"{where}.{name}: rule has no threshold {name!r} (thresholds: {known})")
        old = params[name]
        unit = change.units.get(name, old.unit)
        if unit != old.unit:
            raise RuleSetError(f"{where}.{name}.unit: must be {old.unit}, got {unit}")
        params[name] = dataclasses.replace(old, value=value)
        history.append(Change(label, f"params.{name}", old.value, value, source))
    points = rule.points
    if change.points is not None:
        if rule.disqualify:
            raise RuleSetError(f"{where}.points: {rule.id} is a 不合格 rule; it has no points to change")
        if not 0 < change.points < 100:
            raise RuleSetError(f"{where}.points: must be between 1 and 99, got {change.points}")
        history.append(Change(label, "points", rule.points, change.points, source))
        points = change.points
    enabled = rule.enabled
    if change.enabled is not None and change.enabled != rule.enabled:
        history.append(Change(label, "enabled", rule.enabled, change.enabled, source))
        enabled = change.enabled
    return dataclasses.replace(rule, params=params, points=points, enabled=enabled, history=tuple(history))


def _summary(overrides: Overrides) -> str:
    parts = []
    if overrides.rules:
        parts.append(f"changes {', '.join(overrides.rules)}")
    if overrides.added:
        parts.append(f"adds {', '.join(r.id for r in overrides.added)}")
    if overrides.measurement:
        parts.append(f"measurement {', '.join(overrides.measurement)}")
    return "; ".join(parts)


def effective_ruleset(version: RuleSet, provinces: tuple[OverrideFile, ...] = (),
                      course_overrides: Overrides | None = None, course_name: str = "") -> RuleSet:
    """The rule set a judge uses: the standard version, then province files, then the course's."""
    ruleset = version
    for province in provinces:
        ruleset = apply_overrides(ruleset, province.overrides, province.label)
    if course_overrides is not None:
        ruleset = apply_overrides(ruleset, course_overrides, f"course:{course_name}")
    return ruleset

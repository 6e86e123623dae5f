"""Rule sets: the deductions, their thresholds and the measurement settings, as data.

One TOML file per standard version (``config/rules/ga1026-2022.toml``). Item
judges name rules by id and ask the rule set for points and thresholds; they
hold none of their own. A course may override thresholds, enable optional
rules and change measurement settings (:meth:`RuleSet.with_overrides`).

Threshold comparators follow the Chinese legal convention (domain/README.md):
超出/超过/大于 exclude the limit (``>``), 以上/以下/以内 include it (``>=``, ``<=``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from . import limits
from .fields import ConfigError, Fields, parse_table, read_table
from .vehicle import VEHICLE_CLASSES

ITEMS = ("general", "pile", "hill", "bridge", "reverse", "parallel", "angle", "curve", "field")
DETECTORS = ("auto", "manual")
UNITS = ("m", "s", "m/s", "deg", "count")
# What a threshold or measurement setting of each unit may be: never negative (a negative duration
# or distance is a slip), never absurd. The longest limit in the tables is 480 s.
QUANTITY_RANGES = {"m": (0.0, 1000.0), "s": (0.0, 3600.0), "m/s": (0.0, 100.0), "deg": (0.0, 360.0),
                   "count": (0.0, 1000.0)}
COMPARATORS = limits.COMPARATORS
_LOWER = (">", ">=")
_UPPER = ("<", "<=")
REFERENCE_POINT_NAMES = ("front_axle", "front_bumper")

# Measurement settings the judges read; each must be in every rule set.
MEASUREMENTS: dict[str, str] = {
    "stop_speed": "m/s",
    "standstill_radius": "m",
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
    "gear_debounce": "s",
    "field_stop_minimum": "s",
    "direction_speed": "m/s",
    "line_margin": "m",
    "heading_noise": "deg",
    "line_confirm_fixes": "count",
    "speed_noise": "m/s",
    "max_fix_gap": "s",
    "max_correction_age": "s",
    "fix_loss_allowance": "s",
    "standstill_fixes": "count",
    "track_direction_distance": "m",
    "deck_switch_skew": "s",
}


class RuleSetError(ConfigError):
    """A rule set that cannot be used; the message names the field path and the reason."""


@dataclass(frozen=True)
class Threshold:
    """One threshold of a rule: ``measured <comparator> value``, compared exactly (:mod:`scoring.limits`).

    ``wording`` is how the rule text words the limit (超过, 以上, 不超出 …); the rule table
    states it and the loader checks the comparator is the one it means (limits.WORDINGS).
    """

    name: str
    value: float | None  # None: the course must set it before the rule can be enabled
    unit: str
    comparator: str
    wording: str | None = None  # None only in snapshots stored before wordings were recorded

    def holds(self, measured: float) -> bool:
        if self.value is None:
            return False
        return self._limit.holds(measured)

    @cached_property
    def _limit(self) -> limits.Limit:
        # frozen, but cached_property writes the instance dict directly: worked out once per threshold
        return limits.Limit(self.comparator, self.value, self.unit)


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
    history: tuple["Change", ...] = field(default=(), hash=False)  # overrides applied to this rule

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
class Change:
    """One override applied to a rule or a measurement setting, with where it came from."""

    layer: str  # "province:甘肃省", "course:陇南演示考场"
    what: str  # "params.limit", "points", "enabled", "added", "value"
    before: Any
    after: Any
    source: str


@dataclass(frozen=True)
class Layer:
    """One layer of an effective rule set: the standard version, then province, then course."""

    kind: str  # "standard", "province" or "course"
    name: str
    source: str
    detail: str = ""


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
    layers: tuple[Layer, ...] = field(default=(), hash=False)

    def rule(self, rule_id: str) -> Rule:
        try:
            return self.rules[rule_id]
        except KeyError:
            raise KeyError(f"rule set {self.id}: no rule {rule_id!r}") from None

    def measure(self, name: str) -> float:
        return self.measurement[name].value

    def with_overrides(self, overrides: "Overrides", label: str) -> "RuleSet":
        """A copy with a province's or course's overrides applied, validated and recorded.

        ``label`` is ``"<scope>:<name>"`` (``province:甘肃省``, ``course:陇南演示考场``). Applying
        the same label twice is a no-op, so a caller may pass either the plain or the
        already-overridden rule set to the judge.
        """
        from .overrides import apply_overrides  # overrides builds on this module

        return apply_overrides(self, overrides, label)


@dataclass(frozen=True)
class RuleChange:
    """What an override changes in one rule. ``units`` (by threshold name) are checked when given."""

    params: dict[str, float] = field(default_factory=dict)
    enabled: bool | None = None
    points: int | None = None
    units: dict[str, str] = field(default_factory=dict)
    source: str = ""


@dataclass(frozen=True)
class Overrides:
    """A province's or course's changes to a rule set (read by :mod:`scoring.overrides`)."""

    rules: dict[str, RuleChange] = field(default_factory=dict)
    measurement: dict[str, float] = field(default_factory=dict)
    added: tuple[Rule, ...] = ()
    source: str = ""
    measurement_units: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rules and not self.measurement and not self.added


def _error(message: str) -> RuleSetError:
    return RuleSetError(message)


def _read_threshold(table: Fields, name: str) -> Threshold:
    entry = table.table(name)
    unit = entry.string("unit", choices=UNITS)
    low, high = QUANTITY_RANGES[unit]
    value = entry.number("value", default=None, minimum=low, maximum=high)
    threshold = Threshold(
        name=name,
        value=value,
        unit=unit,
        comparator=entry.string("comparator", choices=tuple(COMPARATORS)),
        wording=entry.string("wording", choices=tuple(limits.WORDINGS)),
    )
    entry.done()
    meant = limits.WORDINGS[threshold.wording]
    if threshold.comparator != meant:
        raise entry.fail(f"{threshold.wording} means {meant!r} (domain/README.md), "
                         f"not {threshold.comparator!r}", "comparator")
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
        for p in rule.params.values():
            if p.value is not None and not limits.whole_steps(p.value, p.unit):
                raise RuleSetError(f"{here}.params.{p.name}: {p.value} {p.unit} is not a whole number of "
                                   f"{'counts' if p.unit == 'count' else 'mm / ms'} (limits are compared exactly)")
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
    low, high = QUANTITY_RANGES[unit]
    measure = Measure(name=name, value=entry.number("value", minimum=low, maximum=high), unit=unit,
                      source=entry.string("source"))
    entry.done()
    expected = MEASUREMENTS.get(name)
    if expected is None:
        raise table.fail(f"unknown measurement setting (known: {', '.join(MEASUREMENTS)})", name)
    if unit != expected:
        raise table.fail(f"unit must be {expected}, got {unit}", f"{name}.unit")
    return measure


def parse_ruleset(data: dict[str, Any], source_name: str = "<rule set>", base: RuleSet | None = None) -> RuleSet:
    """Build a rule set from parsed TOML; raises RuleSetError naming the field.

    A file whose ``[ruleset]`` has ``extends = "<file>"`` states only what differs from that
    base version: each of its rules replaces the base rule with the same id (or is new),
    its measurement settings and hill reference points replace the base ones, and the rest
    is inherited. :func:`load_ruleset` reads the base; here it comes as ``base``.
    """
    root = Fields(data, "", _error)
    head = root.table("ruleset")
    extends = head.string("extends", default=None)
    if extends is not None and base is None:
        raise head.fail("a rule set that extends another must be loaded from a file (load_ruleset)", "extends")
    rules: dict[str, Rule] = dict(base.rules) if extends is not None and base else {}
    restated: list[str] = []
    seen: set[str] = set()
    for entry in (root.tables("rules", default=[]) if extends else root.tables("rules")):
        rule = _read_rule(entry)
        if rule.id in seen:
            raise entry.fail(f"duplicate rule id {rule.id!r}", "id")
        seen.add(rule.id)
        restated.append(rule.id)
        rules[rule.id] = rule
    measurement_table = root.table("measurement", default={}) if extends else root.table("measurement")
    measurement = dict(base.measurement) if extends and base else {}
    measurement.update({name: _read_measure(measurement_table, name) for name in measurement_table.keys()})
    missing = sorted(set(MEASUREMENTS) - set(measurement))
    if missing:
        raise measurement_table.fail(f"missing setting(s): {', '.join(missing)}")
    references = head.table("hill_reference_point", default={}) if extends else head.table("hill_reference_point")
    hill_reference = dict(base.hill_reference_point) if extends and base else {}
    hill_reference.update({cls: references.string(cls, choices=REFERENCE_POINT_NAMES) for cls in references.keys()})
    unknown_classes = sorted(set(hill_reference) - set(VEHICLE_CLASSES))
    if unknown_classes:
        raise references.fail(f"unknown class(es) {', '.join(unknown_classes)}")
    start_score = head.integer("start_score", minimum=1)
    pass_mark = head.integer("pass_mark", minimum=1)
    if pass_mark > start_score:
        raise head.fail(f"pass mark {pass_mark} is above the start score {start_score}", "pass_mark")
    ruleset_id = head.string("id")
    source = head.string("source")
    detail = f"extends {base.id}; restates {len(restated)} rule(s): {', '.join(restated)}" if extends and base else ""
    ruleset = RuleSet(
        id=ruleset_id,
        standard=head.string("standard"),
        title=head.string("title"),
        start_score=start_score,
        pass_mark=pass_mark,
        source=source,
        rules=rules,
        measurement=measurement,
        hill_reference_point=hill_reference,
        layers=(Layer("standard", ruleset_id, source, detail),),
    )
    head.done()
    root.done()
    _check_rules(rules, "rules")
    return ruleset


def load_ruleset(path: str | Path, _chain: tuple[Path, ...] = ()) -> RuleSet:
    """Load and validate a rule set TOML file (and the file it extends, if any)."""
    path = Path(path)
    data = read_table(path, RuleSetError)
    base = None
    extends = data.get("ruleset", {}).get("extends") if isinstance(data.get("ruleset"), dict) else None
    if isinstance(extends, str):
        base_path = (path.parent / extends).resolve()
        if base_path in _chain or base_path == path.resolve():
            reason = f"{extends} extends itself (directly or not)"
            raise RuleSetError(f"{path.name}: ruleset.extends: {reason}", file=path.name, field="ruleset.extends",
                               reason=reason)
        if not base_path.is_file():
            reason = f"no rule set file {extends} beside it"
            raise RuleSetError(f"{path.name}: ruleset.extends: {reason}", file=path.name, field="ruleset.extends",
                               reason=reason)
        base = load_ruleset(base_path, _chain + (path.resolve(),))
    return parse_table(data, path.name, RuleSetError, lambda table: parse_ruleset(table, path.name, base))


def default_ruleset_path() -> Path:
    """The shipped GA 1026-2022 rule set (``config/rules/ga1026-2022.toml``)."""
    from .config_files import rule_set_file

    return rule_set_file()


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
        "params": {name: _threshold_dict(p) for name, p in rule.params.items()},
        "history": [change_to_dict(c) for c in rule.history],
    }


def _threshold_dict(threshold: Threshold) -> dict[str, Any]:
    data: dict[str, Any] = {"value": threshold.value, "unit": threshold.unit, "comparator": threshold.comparator}
    if threshold.wording is not None:  # absent from snapshots stored before wordings: their hash stays valid
        data["wording"] = threshold.wording
    return data


def change_to_dict(change: Change) -> dict[str, Any]:
    return {"layer": change.layer, "what": change.what, "before": change.before, "after": change.after,
            "source": change.source}


def ruleset_to_dict(ruleset: RuleSet, vehicle_class: str | None = None) -> dict[str, Any]:
    """The rule set as plain data (for ``examroom rules --json`` and the attempt's snapshot).

    Only one class's rules if ``vehicle_class`` is given. ``hash`` is the SHA-256 of the whole
    set (every class), so two snapshots with the same hash judged by the same rules.
    """
    data = _full_dict(ruleset)
    data["hash"] = ruleset_hash(ruleset)
    data["vehicle_class"] = vehicle_class
    if vehicle_class is not None:
        data["rules"] = [r for r in data["rules"] if vehicle_class in r["classes"]]
    return data


def _full_dict(ruleset: RuleSet) -> dict[str, Any]:
    return {
        "id": ruleset.id,
        "standard": ruleset.standard,
        "title": ruleset.title,
        "start_score": ruleset.start_score,
        "pass_mark": ruleset.pass_mark,
        "source": ruleset.source,
        "layers": [
            {"kind": layer.kind, "name": layer.name, "source": layer.source, "detail": layer.detail}
            for layer in ruleset.layers
        ],
        "hill_reference_point": dict(ruleset.hill_reference_point),
        "rules": [rule_to_dict(rule) for rule in ruleset.rules.values()],
        "measurement": {
            m.name: {"value": m.value, "unit": m.unit, "source": m.source} for m in ruleset.measurement.values()
        },
    }


def ruleset_hash(ruleset: RuleSet) -> str:
    """SHA-256 (hex) of the rule set's canonical JSON: every rule, threshold, setting and layer."""
    text = json.dumps(_full_dict(ruleset), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

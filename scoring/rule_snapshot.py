"""A stored effective rule set back into a :class:`RuleSet`, checked against its hash.

Every attempt stores the rule set that judged it (``ruleset_to_dict``, with its
SHA-256). A re-judge rebuilds it here; a snapshot whose content no longer
matches its hash is refused, so a record altered after the fact cannot be
re-judged as if it were the original.
"""

from __future__ import annotations

from typing import Any

from .rules import (
    MEASUREMENTS, Change, Layer, Measure, Rule, RuleSet, RuleSetError, Threshold, _check_rules, ruleset_hash,
)


def _rule(data: dict[str, Any]) -> Rule:
    disqualify = bool(data["disqualify"])
    return Rule(
        id=data["id"],
        item=data["item"],
        title=data["title"],
        title_en=data["title_en"],
        points=None if disqualify else int(data["points"]),
        disqualify=disqualify,
        each_time=bool(data["each_time"]),
        code=data["code"],
        code_local=bool(data["code_local"]),
        source=data["source"],
        classes=tuple(data["classes"]),
        detector=data["detector"],
        params={name: Threshold(name, None if p["value"] is None else float(p["value"]), p["unit"], p["comparator"],
                                p.get("wording"))
                for name, p in data["params"].items()},
        covers=tuple(data["covers"]),
        major=data["major"],
        layouts=tuple(data["layouts"]),
        enabled=bool(data["enabled"]),
        note=data["note"],
        history=tuple(Change(c["layer"], c["what"], c["before"], c["after"], c["source"])
                      for c in data.get("history", [])),
    )


def ruleset_from_dict(data: dict[str, Any]) -> RuleSet:
    """Rebuild a rule set from ``ruleset_to_dict(ruleset)`` (all classes); checks the hash."""
    if data.get("vehicle_class") is not None:
        raise RuleSetError("snapshot holds one class's rules only; store ruleset_to_dict(ruleset) of every class")
    try:
        rules = {r["id"]: _rule(r) for r in data["rules"]}
        ruleset = RuleSet(
            id=data["id"],
            standard=data["standard"],
            title=data["title"],
            start_score=int(data["start_score"]),
            pass_mark=int(data["pass_mark"]),
            source=data["source"],
            rules=rules,
            measurement={name: Measure(name, float(m["value"]), m["unit"], m["source"])
                         for name, m in data["measurement"].items()},
            hill_reference_point=dict(data["hill_reference_point"]),
            layers=tuple(Layer(la["kind"], la["name"], la["source"], la.get("detail", ""))
                         for la in data.get("layers", [])),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RuleSetError(f"rule set snapshot is incomplete or malformed: {exc!r}") from exc
    missing = sorted(set(MEASUREMENTS) - set(ruleset.measurement))
    if missing:
        # e.g. standstill_radius, added when the standstill got a displacement bound (issue 11)
        raise RuleSetError(f"rule set snapshot {data['id']} was stored before the measurement setting(s) "
                           f"{', '.join(missing)} existed: this judge cannot re-judge it under its own rules; "
                           f"compare under a current rule set file (--rules)")
    stored = data.get("hash")
    actual = ruleset_hash(ruleset)
    if stored is not None and stored != actual:
        raise RuleSetError(f"rule set snapshot {data['id']}: content does not match its hash "
                           f"(stored {stored[:12]}…, computed {actual[:12]}…)")
    _check_rules(ruleset.rules, "snapshot")
    return ruleset

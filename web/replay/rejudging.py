"""Judge a stored attempt again from its journal and say what differs from the stored result."""

from __future__ import annotations

from typing import Any

from scoring.course import Course
from scoring.judge import judge_stream
from scoring.observations import read_jsonl
from scoring.report import result_to_dict
from scoring.rules import RuleSet


def rejudge(lines: list[str], course: Course, ruleset: RuleSet, stored: dict[str, Any] | None) -> dict[str, Any]:
    again = result_to_dict(judge_stream(read_jsonl(lines, "journal"), course, ruleset))
    stored = stored or {}
    differences = []
    for key in ("status", "score", "passed"):
        if stored.get(key) != again.get(key):
            differences.append(f"{key}: {stored.get(key)} → {again.get(key)}")
    before = [(d["rule"], round(d["t"], 3)) for d in stored.get("deductions", [])]
    after = [(d["rule"], round(d["t"], 3)) for d in again["deductions"]]
    differences += [f"deduction no longer given: {r} at {t} s" for r, t in before if (r, t) not in after]
    differences += [f"deduction now given: {r} at {t} s" for r, t in after if (r, t) not in before]
    return {"rule_set": ruleset.id, "rejudged": again, "differences": differences}

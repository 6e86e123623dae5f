"""The one comparison of two attempt results (``scoring.report.result_to_dict`` form).

The re-judge (stored result against the journal judged again, and own rule set against
another), the raw-bytes replay (stored result against the bytes played back) and the
auditor's page all ask the same question: what changes from result ``a`` to result ``b``?
A deduction is the same deduction when its rule and its time to the millisecond agree;
then its points are compared.
"""

from __future__ import annotations

from typing import Any

VERDICT_FIELDS = ("status", "score", "passed")


def _deduction_key(d: dict[str, Any]) -> tuple[str, float]:
    return d["rule"], round(d["t"], 3)


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """What changes from result ``a`` to result ``b``: verdict, score and deductions (None/[]: no change)."""
    a_ded = {_deduction_key(d): d for d in a.get("deductions", [])}
    b_ded = {_deduction_key(d): d for d in b.get("deductions", [])}
    changed = [
        {"rule": key[0], "t": key[1], "points": [a_ded[key]["points"], b_ded[key]["points"]]}
        for key in a_ded.keys() & b_ded.keys() if a_ded[key]["points"] != b_ded[key]["points"]
    ]
    return {
        "status": None if a.get("status") == b.get("status") else [a.get("status"), b.get("status")],
        "passed": None if a.get("passed") == b.get("passed") else [a.get("passed"), b.get("passed")],
        "score": None if a.get("score") == b.get("score") else [a.get("score"), b.get("score")],
        "only_before": [a_ded[k] for k in sorted(a_ded.keys() - b_ded.keys(), key=lambda k: k[1])],
        "only_after": [b_ded[k] for k in sorted(b_ded.keys() - a_ded.keys(), key=lambda k: k[1])],
        "points_changed": sorted(changed, key=lambda c: c["t"]),
    }


def same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Do ``a`` and ``b`` give the same verdict, score and deductions (with their points)?"""
    return not any(compare(a, b).values())


def difference_lines(a: dict[str, Any] | None, b: dict[str, Any]) -> list[str]:
    """:func:`compare` for people, one line per change: ``score: 100 → 90``, ``deduction now given: …``."""
    diff = compare(a or {}, b)
    lines = [f"{key}: {diff[key][0]} → {diff[key][1]}" for key in VERDICT_FIELDS if diff[key] is not None]
    lines += [f"deduction no longer given: {d['rule']} at {round(d['t'], 3)} s" for d in diff["only_before"]]
    lines += [f"deduction now given: {d['rule']} at {round(d['t'], 3)} s" for d in diff["only_after"]]
    lines += [f"points changed: {c['rule']} at {c['t']} s: {c['points'][0]} → {c['points'][1]}"
              for c in diff["points_changed"]]
    return lines

"""Plain-data views of judge results (for the command line, JSON and the web)."""

from __future__ import annotations

from typing import Any

from .events import AttemptResult, Deduction, ItemRecord, Snapshot
from .observations import utc_text


def deduction_to_dict(d: Deduction) -> dict[str, Any]:
    return {
        "rule": d.rule,
        "code": d.code,
        "title": d.title,
        "points": d.points,
        "disqualify": d.disqualify,
        "item": d.item,
        "t": d.t,
        "utc": utc_text(d.utc),
        "value": d.value,
        "unit": d.unit,
        "detail": d.detail,
    }


def item_to_dict(item: ItemRecord) -> dict[str, Any]:
    return {"id": item.id, "type": item.type, "started_t": item.started_t, "finished_t": item.finished_t}


def result_to_dict(result: AttemptResult) -> dict[str, Any]:
    """The result as JSON-ready data: score, verdict, deductions and items."""
    return {
        "score": result.score,
        "passed": result.passed,
        "status": result.status.value,
        "vehicle_class": result.vehicle_class,
        "rule_set": result.rule_set,
        "deductions": [deduction_to_dict(d) for d in result.deductions],
        "items": [item_to_dict(i) for i in result.items],
        "insufficient_data": [{"item": g.item, "from_t": g.t_from, "to_t": g.t_to} for g in result.data_gaps],
    }


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """The live state as JSON-ready data."""
    return {
        "status": snapshot.status.value,
        "vehicle": snapshot.vehicle,
        "vehicle_class": snapshot.vehicle_class,
        "current_item": snapshot.current_item,
        "score": snapshot.score,
        "t": snapshot.t,
        "deductions": [deduction_to_dict(d) for d in snapshot.deductions],
        "items": [item_to_dict(i) for i in snapshot.items],
    }

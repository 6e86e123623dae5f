"""A course as plain drawing data: the lines, poles, decks and zones of every item.

For pages that draw the course (the auditor's replay, the live course map): what
a person sees on the ground, in course metres, with each line's width so it is
drawn to scale, and each sensed pole and deck named by its sensor element id.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import Polygon

from scoring.course import Course
from scoring.geometry import Line
from scoring.item_geometry import BridgeItem, HillItem, Item, PileItem


def _polygon(p: Polygon) -> list[list[float]]:
    return [[round(x, 3), round(y, 3)] for x, y in p.exterior.coords]


def _line(line: Line, kind: str) -> dict[str, Any]:
    return {"kind": kind, "name": line.name, "width": line.width,
            "points": [[round(x, 3), round(y, 3)] for x, y in line.points]}


def _item(item: Item) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item.id, "type": item.type, "classes": list(item.classes),
                           "zone": _polygon(item.zone),
                           "lines": [_line(item.entry, "entry"), _line(item.exit, "exit")], "poles": [], "decks": []}
    if isinstance(item, PileItem):
        out["lines"] += [_line(item.left_line, "boundary"), _line(item.right_line, "boundary")]
        out["poles"] = [{"number": p.number, "x": p.position[0], "y": p.position[1], "r": p.radius,
                         "element": p.element}
                        for p in item.poles]
    elif isinstance(item, HillItem):
        out["lines"] += [_line(item.stake_line, "stake"), _line(item.edge_line, "edge")]
        out["slope"] = _polygon(item.slope_zone)
    elif isinstance(item, BridgeItem):
        out["decks"] = [{"name": d.name, "polygon": _polygon(d.polygon),
                         "element": d.element if item.deck_sensors else None} for d in item.decks.values()]
    return out


def plan_of(course: Course) -> dict[str, Any]:
    items = [_item(item) for item in course.items.values()]
    xs = [x for item in items for x, _ in item["zone"]]
    ys = [y for item in items for _, y in item["zone"]]
    return {"name": course.name, "items": items,
            "bounds": [min(xs), min(ys), max(xs), max(ys)] if xs else [0, 0, 1, 1]}

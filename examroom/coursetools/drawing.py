"""Draw a course file as a PNG: lines, piles, bridges, bays, entry and exit lines, with dimensions.

``examroom course show FILE -o course.png``. Geometry is drawn with OpenCV on a
white canvas, north up, at ``scale`` pixels per metre; labels (item names in
Chinese and their main dimensions) are drawn with Pillow in the WenQuanYi
Micro Hei font, since OpenCV's fonts have no CJK glyphs (stack-notes.md §5).
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from shapely.geometry.base import BaseGeometry

from scoring.course import Course
from scoring.geometry import Line
from scoring.item_geometry import (
    AngleItem, AreaItem, BayShiftItem, BridgeItem, CurveItem, HillItem, Item, ParallelItem, PileItem, ReverseItem,
)

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
ITEM_NAMES = {"pile": "桩考", "hill": "坡道定点停车和起步", "bridge": "通过单边桥", "reverse": "倒车入库",
              "parallel": "侧方停车", "curve": "曲线行驶", "angle": "直角转弯", "field": "场地驾驶（移库）"}
WHITE, LINE, ZONE, POLE, DECK, BAY, ENTRY, EXIT, TEXT = (
    (255, 255, 255), (40, 40, 40), (205, 205, 205), (30, 30, 200), (60, 120, 200), (200, 235, 200),
    (40, 160, 40), (40, 40, 200), (20, 20, 20))  # BGR
MARGIN_M = 4.0
# The largest drawing made (pixels a side): 20 000 px is 60 MB of image at 3 bytes a pixel per row
# of 1000; a larger request is a scale or a course file gone wrong, refused before allocating.
MAX_SIDE_PX = 20_000
MAX_SCALE = 1000.0  # px per metre


class DrawingError(ValueError):
    """The drawing cannot be made (no font, empty course); the message says what is missing."""


class _Canvas:
    def __init__(self, course: Course, scale: float) -> None:
        xs, ys = [], []
        for item in course.items.values():
            x0, y0, x1, y1 = item.zone.bounds
            xs += [x0, x1]
            ys += [y0, y1]
        if not xs:
            raise DrawingError(f"course {course.name} has no items to draw")
        self.x0, self.y1 = min(xs) - MARGIN_M, max(ys) + MARGIN_M
        self.scale = scale
        span_x, span_y = max(xs) - min(xs) + 2 * MARGIN_M, max(ys) - min(ys) + 2 * MARGIN_M
        if max(span_x, span_y) * scale > MAX_SIDE_PX:
            raise DrawingError(f"course {course.name} spans {span_x:.0f} × {span_y:.0f} m: at {scale:g} px/m the "
                               f"drawing would exceed {MAX_SIDE_PX} px a side; give a smaller --scale")
        width = int(math.ceil(span_x * scale))
        height = int(math.ceil(span_y * scale)) + 40
        self.image = np.full((height, width, 3), WHITE, dtype=np.uint8)
        self.labels: list[tuple[tuple[int, int], str, int]] = []

    def px(self, p) -> tuple[int, int]:
        return int(round((p[0] - self.x0) * self.scale)), int(round((self.y1 - p[1]) * self.scale))

    def polyline(self, points, colour, metres: float = 0.0, closed: bool = False) -> None:
        pts = np.array([self.px(p) for p in points], dtype=np.int32)
        thickness = max(1, int(round(metres * self.scale)))
        cv2.polylines(self.image, [pts], closed, colour, thickness, cv2.LINE_AA)

    def fill(self, geom: BaseGeometry, colour) -> None:
        for part in getattr(geom, "geoms", [geom]):
            pts = np.array([self.px(p) for p in part.exterior.coords], dtype=np.int32)
            cv2.fillPoly(self.image, [pts], colour, cv2.LINE_AA)

    def outline(self, geom: BaseGeometry, colour) -> None:
        for part in getattr(geom, "geoms", [geom]):
            self.polyline(list(part.exterior.coords), colour, closed=True)

    def line(self, line: Line, colour=LINE) -> None:
        self.polyline(line.points, colour, line.width)

    def dashed(self, line: Line, colour) -> None:
        (x0, y0), (x1, y1) = line.points[0], line.points[-1]
        n = 8
        for i in range(0, n, 2):
            a = (x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n)
            b = (x0 + (x1 - x0) * (i + 1) / n, y0 + (y1 - y0) * (i + 1) / n)
            self.polyline([a, b], colour, 0.08)

    def circle(self, centre, radius_m: float, colour) -> None:
        cv2.circle(self.image, self.px(centre), max(3, int(round(radius_m * self.scale))), colour, -1, cv2.LINE_AA)

    def label(self, at, text: str, size: int = 16) -> None:
        self.labels.append((self.px(at), text, size))

    def save(self, path: Path) -> None:
        if not CJK_FONT.is_file():
            raise DrawingError(f"no CJK font at {CJK_FONT} (install fonts-wqy-microhei: make deps)")
        image = Image.fromarray(cv2.cvtColor(self.image, cv2.COLOR_BGR2RGB))
        draw = ImageDraw.Draw(image)
        for (x, y), text, size in self.labels:
            font = ImageFont.truetype(str(CJK_FONT), size)
            _, top, _, bottom = draw.multiline_textbbox((x, y), text, font=font, spacing=2)
            draw.multiline_text((x, y - (bottom - top)), text, font=font, fill=TEXT, spacing=2)  # above the anchor
        image.save(path, format="PNG")


def _u_distance(item: Item, a, b) -> float:
    return abs(item.to_item(a)[0] - item.to_item(b)[0])


def _v_distance(item: Item, a, b) -> float:
    return abs(item.to_item(a)[1] - item.to_item(b)[1])


def _size(polygon) -> tuple[float, float]:
    """(length, width) of a rotated rectangle."""
    rect = polygon.minimum_rotated_rectangle
    xs = list(rect.exterior.coords)
    sides = sorted(math.dist(xs[i], xs[i + 1]) for i in range(2))
    return sides[1], sides[0]


def dimensions(item: Item) -> list[str]:
    """The main dimensions of an item, as the course builder set them (metres)."""
    if isinstance(item, PileItem):
        spacing = _u_distance(item, item.poles[0].position, item.poles[1].position)
        edge = _v_distance(item, item.poles[0].position, item.left_line.points[0])
        return [f"桩数 {len(item.poles)}，桩距 {spacing:.2f} m", f"桩至边线 {edge:.2f} m"]
    if isinstance(item, HillItem):
        lane = math.dist(item.entry.points[0], item.entry.points[-1])
        slope, _ = _size(item.slope_zone)
        stake = _u_distance(item, item.stake_line.points[0], item.slope_zone.exterior.coords[0])
        return [f"坡长 {slope:.2f} m，车道宽 {lane:.2f} m", f"桩杆线距坡底 {stake:.2f} m"]
    if isinstance(item, BridgeItem):
        out = []
        for deck in item.decks.values():
            length, width = _size(deck.polygon)
            out.append(f"桥{'甲' if deck.name == 'A' else '乙'} {length:.2f} × {width:.2f} m")
        if len(item.decks) == 2:
            gap = item.decks["B"].start - item.decks["A"].end
            out.append(f"甲乙纵向间距 {gap:.2f} m")
        return out
    if isinstance(item, ReverseItem):
        length, width = _size(item.bay)
        return [f"库 {width:.2f} × {length:.2f} m", f"控制线距库 {_u_distance(item, item.control_a.points[0], item.bay.bounds[:2]):.2f} m"]
    if isinstance(item, ParallelItem):
        length, width = _size(item.slot)
        return [f"库位 {length:.2f} × {width:.2f} m"]
    if isinstance(item, CurveItem):
        return [f"半径 {item.radius:.2f} m，路宽 {item.road_width:.2f} m"]
    if isinstance(item, AngleItem):
        return [f"路宽 {item.road_width:.2f} m，{'左' if item.turn == 'left' else '右'}转"]
    if isinstance(item, BayShiftItem):
        length, width = _size(item.bays["A"])
        return [f"库 {width:.2f} × {length:.2f} m（甲、乙）", "路线 " + " → ".join(
            f"{'倒' if d == 'reverse' else '进'}{'' if b == '-' else ('甲' if b == 'A' else '乙')}" for b, d in item.legs)]
    return []


def _draw_item(canvas: _Canvas, item: Item) -> None:
    canvas.outline(item.zone, ZONE)
    if isinstance(item, BayShiftItem):
        for bay in item.bays.values():
            canvas.fill(bay, BAY)
    if isinstance(item, (ParallelItem,)):
        canvas.fill(item.slot, BAY)
    if isinstance(item, ReverseItem):
        canvas.fill(item.bay, BAY)
    if isinstance(item, HillItem):
        canvas.fill(item.slope_zone, (230, 230, 245))
        for line in (item.stake_line, item.edge_line, *item.control_lines):
            canvas.line(line)
    if isinstance(item, PileItem):
        canvas.line(item.left_line)
        canvas.line(item.right_line)
    if isinstance(item, BridgeItem):
        for deck in item.decks.values():
            canvas.fill(deck.polygon, DECK)
    if isinstance(item, AreaItem):
        for line in item.lines:
            canvas.line(line)
    for pole in getattr(item, "poles", ()):
        canvas.circle(pole.position, pole.radius, POLE)
    canvas.dashed(item.entry, ENTRY)
    canvas.dashed(item.exit, EXIT)
    x0, _, _, y1 = item.zone.bounds
    name = ITEM_NAMES[item.type] + ("（移库）" if item.type == "pile" and isinstance(item, BayShiftItem) else "")
    canvas.label((x0, y1 + 0.2), f"{name}  {item.id}  [{'/'.join(item.classes)}]\n" + "\n".join(dimensions(item)))


def draw_course(course: Course, path: str | Path, scale: float = 30.0) -> Path:
    """Write the course as a PNG; returns the path."""
    if not 0 < scale <= MAX_SCALE:  # NaN fails this too
        raise DrawingError(f"--scale: must be greater than 0 and at most {MAX_SCALE:g} px/m, got {scale}")
    canvas = _Canvas(course, scale)
    for item in course.items.values():
        _draw_item(canvas, item)
    height = canvas.image.shape[0]
    bar = (canvas.x0 + 1.0, canvas.y1 - (height - 20) / scale)
    canvas.polyline([bar, (bar[0] + 5.0, bar[1])], LINE, 0.1)
    canvas.label((bar[0] + 5.4, bar[1] + 0.3), "5 m", 14)
    canvas.label((canvas.x0 + 0.5, canvas.y1 - 0.8), f"{course.name}（北向上，绿虚线：入口，红虚线：出口）", 18)
    path = Path(path)
    canvas.save(path)
    return path

"""侧方停车 judge (C3, M): reverse into the slot on the right, stop, leave forward to the left.

Rules (research.md §2.6): parallel.body_out (S1), parallel.time_limit (S2),
parallel.lane_line (S3), parallel.slot_line (S4), parallel.exit_signal (S5),
parallel.stop (S6).

Phases: ``approach`` (forward along the lane past the slot), ``reversing``
(from the turn into the reverse, found from the travel along the heading,
motion.Turns: the item timer starts at the fix where the vehicle turned, so
the timer never runs short), ``leaving`` (from the turn forward after
reversing: where the vehicle turned is where it parked, and its body must have
been wholly inside the slot [INF: a halt halfway in is a 中途停车, not the
parking]; the item ends when the tail passes the front slot line). The stop
alongside or past the slot before reversing and the stop wholly in the slot
are the route's, however long; a stop before the slot, halfway in or leaving
is 中途停车 (parallel.stop).
"""

from __future__ import annotations

from datetime import datetime

from shapely.geometry import Point

from ..item_geometry import ParallelItem
from ..motion import StopCounter, Turns
from .areas import Confirmation, Episodes, WheelLines, body_outside, signed_depth, with_margin
from .base import Context, Frame, ItemJudge

APPROACH, REVERSING, LEAVING = "approach", "reversing", "leaving"


class ParallelJudge(ItemJudge):
    item: ParallelItem
    reverses = True
    exit_point = "rear_bumper"

    def __init__(self, item: ParallelItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self.phase = APPROACH
        self.timer_start: float | None = None
        self._last: Frame | None = None
        self._turns = Turns(ctx.measure("standstill_radius"), direction=1)  # noise-proof turns (motion.Turns)
        self._timed_out = False
        self._episodes = Episodes()
        margin = ctx.body_margin()  # the outline's (its furthest corner's lever arm, areas.py)
        self._slot = with_margin(item.slot, margin)
        self._lane_lines = WheelLines.of(ctx, self._lane_depth)
        self._margin = margin
        self._slot_lines: Confirmation[tuple[float, datetime, str]] = Confirmation(ctx.confirm_fixes())
        self._slot_line_set = tuple(line for line in item.lines if line.name.startswith("slot_")) or item.lines
        self._stops = StopCounter(ctx.rule("parallel.stop"), prescribed=self._route_stop)
        self._slot_start = min(item.to_item(p)[0] for p in item.slot.exterior.coords)

    def on_pose(self, frame: Frame) -> None:
        turned = self._turns.update(frame.placement.point("rear_axle"), frame.placement.heading, frame)
        direction = self._turns.direction if turned is not None else 0
        stops = self.ctx.stops
        if self.phase == APPROACH and direction < 0:
            self.phase = REVERSING
            self.timer_start = turned.t  # where the vehicle turned: the timer never runs short
        elif self.phase == REVERSING and direction > 0:
            self.phase = LEAVING
            self._park(turned, frame)
            self._check_exit_signal(frame)
        if not stops.stopped:
            self._check_lines(frame)
        self._last = frame

    def _park(self, parked: Frame, frame: Frame) -> None:
        out = body_outside(parked, self._slot)
        if out is not None:
            depth, where = out
            line = self.item.nearest_line((where.x, where.y)).name
            self.ctx.deduct("parallel.body_out", frame.t, frame.utc, value=depth, unit="m", detail=f"over {line}")

    def _check_exit_signal(self, frame: Frame) -> None:
        signals = self.ctx.signals
        if signals is None or signals.left_turn is None or signals.right_turn is None:
            return  # the vehicle does not report its turn signals
        if signals.right_turn or not signals.left_turn:
            detail = "wrong turn signal" if signals.right_turn else "no turn signal"
            self.ctx.deduct("parallel.exit_signal", frame.t, frame.utc, detail=f"{detail} leaving the slot")

    def _lane_depth(self, p) -> float:
        """How far a wheel is past a lane line (a wheel beside the slot is judged by the slot lines)."""
        if self.item.beside_slot.covers(Point(p)):
            return -self._margin
        return signed_depth(self.item.area, p)

    def _check_lines(self, frame: Frame) -> None:
        touched = self._lane_lines.update(frame)
        if self._episodes.update("lane", self._lane_lines.any_over()) and touched:
            wheel, depth, t, utc = touched[0]
            line = self.item.nearest_line(frame.placement.point(wheel)).name
            self.ctx.deduct("parallel.lane_line", t, utc, value=depth, unit="m", detail=f"{wheel} wheel on {line}")
        outline = frame.placement.outline.buffer(-self._margin, join_style="mitre")

        def event() -> tuple[float, datetime, str]:
            # named among the slot's own lines: where the slot's front (or back) line meets the lane's
            # near line the nearest of all lines may be the lane's, which is not the line crossed
            where = outline.intersection(self.item.slot_lines).representative_point()
            line = min(self._slot_line_set, key=lambda li: li.geometry.distance(where))
            return frame.t, frame.utc, line.name

        first = self._slot_lines.update("slot", outline.intersects(self.item.slot_lines), event, frame.fixes)
        if self._episodes.update("slot", self._slot_lines.confirmed("slot")) and first is not None:
            t, utc, line = first
            self.ctx.deduct("parallel.slot_line", t, utc, detail=f"body on {line}")

    def exit_crossing(self, frame: Frame, previous: Frame | None):
        # driving past the slot before reversing crosses the exit line too: only leaving counts
        return super().exit_crossing(frame, previous) if self.phase == LEAVING else None

    def on_tick(self, t: float, utc: datetime) -> None:
        if not self._timed_out:
            self._timed_out = self.deduct_time_limit("parallel.time_limit", self.timer_start, t, utc)
        self.deduct_stop(self._stops, t, utc)

    def _route_stop(self) -> bool:
        """Stops the route has: alongside or past the slot before reversing in, wholly in the slot before leaving.

        Asked once per standstill, where the vehicle stands (motion.StopCounter): the stop before
        reversing stays the route's even when the standstill runs on into the reverse."""
        if self._last is None:
            return False
        if self.phase == APPROACH:
            return self.item.to_item(self._last.placement.point("front_bumper"))[0] > self._slot_start
        return self.phase == REVERSING and body_outside(self._last, self._slot) is None

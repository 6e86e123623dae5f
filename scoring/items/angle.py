"""直角转弯 judge (C3, M): wheels on the edge lines, the turn signal, stops.

Rules (research.md §2.6): angle.edge_line_touched (A1), angle.turn_signal (A2),
angle.stop (A3). The turn's signal must be on (and the other off) when the
front axle enters the corner square, and off when the item ends; vehicles that
do not report their turn signals are not judged on them.
"""

from __future__ import annotations

from datetime import datetime

from shapely.geometry import Point

from ..item_geometry import AngleItem
from ..motion import StopCounter
from .areas import WheelLines
from .base import Context, Frame, ItemJudge


class AngleJudge(ItemJudge):
    item: AngleItem

    def __init__(self, item: AngleItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self._touched = False
        self._wheels = WheelLines.outside(ctx, item.area)
        self._in_corner = False
        self._signal_judged = False
        self._stops = StopCounter(ctx.rule("angle.stop"))

    def _turn_signals(self) -> tuple[bool, bool] | None:
        """(this turn's signal on, the other one on), or None when the vehicle does not report them."""
        signals = self.ctx.signals
        if signals is None or signals.left_turn is None or signals.right_turn is None:
            return None
        if self.item.turn == "left":
            return signals.left_turn, signals.right_turn
        return signals.right_turn, signals.left_turn

    def on_pose(self, frame: Frame) -> None:
        touched = self._wheels.update(frame)
        if touched and not self._touched:
            wheel, depth, t, utc = touched[0]
            self._touched = True
            line = self.item.nearest_line(frame.placement.point(wheel)).name
            self.ctx.deduct("angle.edge_line_touched", t, utc, value=depth, unit="m", detail=f"{wheel} wheel on {line}")
        if not self._in_corner and self.item.corner.covers(Point(frame.placement.point("front_axle"))):
            self._in_corner = True
            state = self._turn_signals()
            if state is not None and not self._signal_judged:
                own, other = state
                if other or not own:
                    self._signal_judged = True
                    detail = "wrong turn signal" if other else "no turn signal"
                    self.ctx.deduct("angle.turn_signal", frame.t, frame.utc, detail=f"{detail} entering the turn")

    def on_tick(self, t: float, utc: datetime) -> None:
        self.deduct_stop(self._stops, t, utc)

    def finish(self, t: float, utc: datetime) -> None:
        state = self._turn_signals()
        if state is not None and not self._signal_judged and state[0]:
            self._signal_judged = True
            self.ctx.deduct("angle.turn_signal", t, utc, detail="turn signal left on after the turn")

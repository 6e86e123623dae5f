"""曲线行驶 judge (C3, M): wheels on the edge lines, stops, the gear.

Rules (research.md §2.6): curve.edge_line_touched (C1), curve.stop (C2),
curve.low_gear (C3, off unless a province switches it on).
"""

from __future__ import annotations

from datetime import datetime

from ..item_geometry import CurveItem
from ..motion import StopCounter
from ..observations import Gear
from .areas import WheelLines
from .base import Context, Frame, ItemJudge


class CurveJudge(ItemJudge):
    item: CurveItem

    def __init__(self, item: CurveItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self._touched = False
        self._wheels = WheelLines.outside(ctx, item.area)
        self._stops = StopCounter(ctx.rule("curve.stop"))
        self._first_gear_since: float | None = None
        self._gear_judged = False

    def on_pose(self, frame: Frame) -> None:
        touched = self._wheels.update(frame)
        if touched and not self._touched:
            wheel, depth, t, utc = touched[0]
            self._touched = True
            line = self.item.nearest_line(frame.placement.point(wheel)).name
            self.ctx.deduct("curve.edge_line_touched", t, utc, value=depth, unit="m", detail=f"{wheel} wheel on {line}")
        self._check_gear(frame)

    def _check_gear(self, frame: Frame) -> None:
        signals = self.ctx.signals
        first = signals is not None and signals.gear == Gear.G1 and not self.ctx.stops.stopped
        if not first:
            self._first_gear_since = None
            return
        if self._first_gear_since is None:
            self._first_gear_since = frame.t
        if not self._gear_judged and self.ctx.reached("gear_debounce", frame.t - self._first_gear_since):
            self._gear_judged = True
            self.ctx.deduct("curve.low_gear", frame.t, frame.utc, detail="gear 1")

    def on_tick(self, t: float, utc: datetime) -> None:
        self.deduct_stop(self._stops, t, utc)

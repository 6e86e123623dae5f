"""桩考 (slalom pile test) judge: route and sides, pole touches, lines, time, stops.

Rules (research.md §2.3): pile.wrong_route (P1), pile.pole_touched (P2),
pile.out_of_line (P3), pile.time_limit (P5, when the course enables it),
pile.stop (P6). Stalls and foot-down/weave are general rules.
"""

from __future__ import annotations

from datetime import datetime


from ..item_geometry import PileItem
from ..motion import StopCounter, passed_at
from ..observations import CourseSensor
from .areas import Confirmation, PoleTouches, WheelLines
from .base import Context, Frame, ItemJudge, at_time, line_event

ROUTE_POINT = "front_axle"  # the point whose path is checked against the poles


class PileJudge(ItemJudge):
    item: PileItem

    def __init__(self, item: PileItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self._pole_u = [item.to_item(pole.position) for pole in item.poles]
        self._next = 0  # index of the next pole on the route
        self._furthest: float | None = None  # furthest u the route point has reached
        self._out = False
        self._timed_out = False
        self._stops = StopCounter(ctx.rule("pile.stop"))
        self._margin = ctx.body_margin()  # the outline's (its furthest corner's lever arm, areas.py)
        self._poles = PoleTouches(item.poles, self._margin, ctx.confirm_fixes())
        lines = item.boundary_lines
        self._wheels = WheelLines.of(ctx, lambda p: max(line.over(p) for line in lines))
        self._body: Confirmation[tuple[float, datetime]] = Confirmation(ctx.confirm_fixes())

    def on_pose(self, frame: Frame) -> None:
        self._check_route(frame)
        self._check_poles(frame)
        self._check_lines(frame)

    def _check_route(self, frame: Frame) -> None:
        """Each pole line must be crossed in order, on the pole's set side."""
        before, now = frame.path(ROUTE_POINT)
        u1, v1 = self.item.to_item(now)
        if before is None or self._furthest is None:
            self._furthest = u1
            return
        u0, v0 = self.item.to_item(before)
        for index, (pole_u, pole_v) in enumerate(self._pole_u):
            if not (self._furthest < pole_u <= u1) or index < self._next:
                continue
            pole = self.item.poles[index]
            if index != self._next:
                missed = self.item.poles[self._next].number
                self.ctx.deduct("pile.wrong_route", frame.t, frame.utc, detail=f"pole {missed} not passed")
                self._next = index + 1
                continue
            k = (pole_u - u0) / (u1 - u0) if u1 != u0 else 1.0
            offset = (v0 + (v1 - v0) * k) - pole_v  # + when the route point passes left of the pole
            passed_left = offset > 0
            if passed_left != (pole.side == "left"):
                self.ctx.deduct("pile.wrong_route", frame.t, frame.utc, value=offset, unit="m",
                                detail=f"pole {pole.number} passed on the wrong side")
            self._next = index + 1
        self._furthest = max(self._furthest, u1)

    def _check_poles(self, frame: Frame) -> None:
        for pole, t, utc in self._poles.by_outline(frame):
            self.ctx.deduct("pile.pole_touched", t, utc, detail=f"pole {pole.number}: outline reaches the pole")

    def _check_lines(self, frame: Frame) -> None:
        """Two-wheelers: a wheel contact point past a boundary line; others: the outline.

        Past means more than the point's margin past the reference, at consecutive fixes
        (areas.py); the touch is placed at the interpolated moment the first of them got there.
        """
        touched = self._wheels.update(frame)
        if self._out:
            return
        if self.ctx.vehicle.kind == "two_wheeler":
            if touched:
                wheel, over, t, utc = touched[0]
                line = max(self.item.boundary_lines, key=lambda li: li.over(frame.placement.point(wheel)))
                self._out = True
                self.ctx.deduct("pile.out_of_line", t, utc, value=over, unit="m",
                                detail=f"{wheel} wheel over the {line.name} line")
            return
        points = frame.placement.corners
        for line in self.item.boundary_lines:
            over = max(line.over(p) for p in points)

            def event(line=line, over=over) -> tuple[float, datetime]:
                before = max(line.over(p) for p in frame.previous.corners) \
                    if frame.previous is not None else None
                return line_event(frame, before, over, self._margin)

            first = self._body.update(line.name, over > self._margin, event, frame.fixes)
            if first is not None:
                self._out = True
                self.ctx.deduct("pile.out_of_line", *first, value=over, unit="m", detail=f"over the {line.name} line")
                return

    def on_sensor(self, sensor: CourseSensor) -> None:
        pole = self._poles.by_sensor(sensor)
        if pole is not None:
            self.ctx.deduct("pile.pole_touched", sensor.t, sensor.utc, detail=f"pole {pole.number}: sensor {sensor.element}")

    def on_tick(self, t: float, utc: datetime) -> None:
        self.deduct_stop(self._stops, t, utc)
        limit = self.ctx.rule("pile.time_limit")
        elapsed = self.ctx.confirmed(t) - self.started_t
        if not self._timed_out and limit.triggered_by(elapsed):
            self._timed_out = True
            self.ctx.deduct(limit.id, *at_time(t, utc, passed_at(limit, self.started_t, t)), value=elapsed, unit="s")

    def finish(self, t: float, utc: datetime) -> None:
        if self._next < len(self.item.poles):
            missed = self.item.poles[self._next].number
            self.ctx.deduct("pile.wrong_route", t, utc, detail=f"left the item before passing pole {missed}")

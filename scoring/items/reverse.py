"""倒车入库 judge (C3, M): two reverses into the bay, from each side, between the control lines.

Rules (research.md §2.6): reverse.wrong_route (R1), reverse.body_out (R2),
reverse.not_in_bay (R3), reverse.front_wheels_short (R4), reverse.time_limit
(R5), reverse.stop (R6).

Legs [INF, docs/course-file.md]: ``in`` (forward until both front wheels are
past control line B), ``rev1`` (reverse into the bay), ``out_a`` (forward
until both front wheels are past line A), ``rev2`` (reverse into the bay),
``out_b`` (forward; the item ends when both front wheels are past line B, the
line the first reverse started from). A reverse leg ends when the vehicle moves
forward again: it must have stopped wholly inside the bay. Turns are found from
the travel along the heading (motion.Turns), and each leg is judged at the fix
where the vehicle turned; the item timer runs from the turn into the first
reverse to the end. Stops past the control line before a reverse and in the bay
are the route's, however long; other stops are 中途停车 (reverse.stop).
"""

from __future__ import annotations

from datetime import datetime

from ..geometry import Line
from ..item_geometry import ReverseItem
from ..motion import StopCounter, Turns
from .areas import BodyInArea, body_outside, with_margin
from .base import Context, Frame, ItemJudge

LEGS = ("in", "rev1", "out_a", "rev2", "out_b")
_TARGET = {"in": "b", "out_a": "a", "out_b": "b"}  # the control line a forward leg must pass
_WRONG = {"out_a": "b", "out_b": "a"}  # leaving the bay toward this line is the wrong way


class ReverseJudge(ItemJudge):
    item: ReverseItem
    reverses = True

    def __init__(self, item: ReverseItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self.leg = 0
        self.timer_start: float | None = None
        self._last: Frame | None = None
        self._turns = Turns(ctx.measure("standstill_radius"), direction=1)  # noise-proof turns (motion.Turns)
        self._wrong = False
        self._timed_out = False
        self._stops = StopCounter(ctx.rule("reverse.stop"), prescribed=self._route_stop)
        self._margin = ctx.body_margin()  # the outline's (its furthest corner's lever arm, areas.py)
        self._line_margin = ctx.measure("line_margin")  # the front wheels' passing of a control line
        self._body = BodyInArea(item.area, self._margin, ctx.confirm_fixes())
        self._bay = with_margin(item.bay, self._margin)
        self._front = tuple(w for w in ctx.vehicle.wheel_names if w.startswith("front")) or ("front_axle",)

    @property
    def leg_name(self) -> str:
        return LEGS[self.leg]

    def _line(self, which: str) -> Line:
        line = self.item.control_a if which == "a" else self.item.control_b
        assert line is not None
        return line

    def _front_past(self, frame: Frame, which: str) -> bool:
        line = self._line(which)
        return all(line.side(frame.placement.point(w)) > self._line_margin for w in self._front)

    def on_pose(self, frame: Frame) -> None:
        turned = self._turns.update(frame.placement.point("rear_axle"), frame.placement.heading, frame)
        direction = self._turns.direction if turned is not None else 0
        leg = self.leg_name
        if leg in _TARGET and direction < 0:
            self._start_reverse(frame, turned)
        elif leg.startswith("rev") and direction > 0:
            self._end_reverse(frame, turned)
        if self.leg_name in _WRONG and not self._wrong and self._front_past(frame, _WRONG[self.leg_name]):
            self._wrong = True
            self.ctx.deduct("reverse.wrong_route", frame.t, frame.utc,
                            detail=f"left the bay toward control line {_WRONG[self.leg_name].upper()}")
        self._check_body(frame)
        self._last = frame

    def _start_reverse(self, frame: Frame, last: Frame) -> None:
        """The vehicle has begun to reverse; ``last`` is where it turned (the end of the forward leg)."""
        target = _TARGET[self.leg_name]
        if self.leg_name == "out_b":  # the route has two reverses: a third is the route, not R4
            if not self._wrong:
                self._wrong = True
                self.ctx.deduct("reverse.wrong_route", frame.t, frame.utc, detail="a third reverse, leaving the bay")
            return
        if not self._front_past(last, target):
            self.ctx.deduct("reverse.front_wheels_short", frame.t, frame.utc,
                            detail=f"reversing before both front wheels passed control line {target.upper()}")
            return
        if self.timer_start is None:
            self.timer_start = last.t
        self.leg += 1

    def _end_reverse(self, frame: Frame, stop: Frame) -> None:
        """The vehicle moves forward again; ``stop`` is where the reverse ended."""
        out = body_outside(stop, self._bay)
        if out is not None:
            line = self.item.nearest_line((out[1].x, out[1].y)).name
            self.ctx.deduct("reverse.not_in_bay", frame.t, frame.utc, value=out[0], unit="m", detail=f"over {line}")
            return
        self.leg += 1

    def _check_body(self, frame: Frame) -> None:
        out = self._body.check(frame)
        if out is not None:
            line = self.item.nearest_line((out.where.x, out.where.y)).name
            self.ctx.deduct("reverse.body_out", out.t, out.utc, value=out.depth, unit="m", detail=f"over {line}")

    def exit_crossing(self, frame: Frame, previous: Frame | None):
        """Both front wheels past control line B on the last leg, at the later wheel's crossing."""
        if self.leg_name != "out_b" or previous is None or not self._front_past(frame, "b"):
            return None
        line = self._line("b")
        fractions = [line.crossed(previous.placement.point(w), frame.placement.point(w), self._line_margin)
                     for w in self._front]
        crossed = [k for k in fractions if k is not None]
        if not crossed:
            return None
        k = max(crossed)
        return previous.t + (frame.t - previous.t) * k, previous.utc + (frame.utc - previous.utc) * k

    def on_tick(self, t: float, utc: datetime) -> None:
        if not self._timed_out:
            self._timed_out = self.deduct_time_limit("reverse.time_limit", self.timer_start, t, utc)
        self.deduct_stop(self._stops, t, utc)

    def _route_stop(self) -> bool:
        """Stops that belong to the route: beyond the control line before a reverse, in the bay after one.

        Asked once per standstill, where the vehicle stands (motion.StopCounter): a prescribed stop
        stays prescribed however long it lasts and whatever leg the next movement starts."""
        if self._last is None:
            return False
        leg = self.leg_name
        if leg in _TARGET:
            return leg != "out_b" and self._front_past(self._last, _TARGET[leg])
        return body_outside(self._last, self._bay) is None

    def finish(self, t: float, utc: datetime) -> None:
        if self.leg_name != "out_b":
            self.ctx.deduct("reverse.wrong_route", t, utc, detail=f"left the item in leg {self.leg_name}")

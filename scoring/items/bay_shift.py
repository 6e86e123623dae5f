"""The bay-shift judge (移库): the C4 桩考 bay-shift option and the tractor field course.

The route is the item's ``legs``: one movement each, forward or backward; a
leg naming a bay must end (the vehicle moves the other way) with the body
wholly inside that bay. Rules, by item type:

- C4 桩考 (research.md §2.3): pile.wrong_route (P1), pile.pole_touched (P2),
  pile.out_of_line (P3), pile.bay_not_entered (P4), pile.time_limit (P5),
  pile.stop (P6).
- Tractors (research.md §2.7): field.wrong_route (T1), field.pole_touched
  (T2), field.body_out (T3), field.bay_not_entered (T4), field.stops (T5);
  the stall (T6) is general.tractor_stall.

A stop at a turn (the end of a leg, to change direction) is part of the route, whatever
its length within the item's time limit; a stop within a leg is a 中途停车 (C4: pile.stop
when longer than its limit) or a 停机 (tractors: counted when it lasts field_stop_minimum,
field.stops at the count). Each standstill is judged once. Where a stop cannot be a turn —
in the last leg, or short of the bay a leg must end in — it is judged when it passes the
limit; elsewhere only the next movement tells: turning round, it was the leg's end;
going on the same way (more than ``standstill_radius``), it was a stop within the leg,
judged then [INF]. Turns are found from the travel along the heading, noise-proof
(:class:`scoring.motion.Turns`), and a leg is judged where the vehicle turned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


from .. import limits
from ..item_geometry import BayShiftItem
from ..motion import Turns, passed_at
from ..observations import CourseSensor
from .areas import BodyInArea, PoleTouches, body_outside, with_margin
from .base import Context, Frame, ItemJudge, at_time


@dataclass
class _Halt:
    """One standstill in the item, until it is known whether it was a turn or a stop within a leg."""

    since: float
    at: float  # the travel (Turns.at) where the vehicle stood
    duration: float = 0.0
    judged: bool = False


RULES = {
    "pile": {"wrong_route": "pile.wrong_route", "pole": "pile.pole_touched", "out": "pile.out_of_line",
             "bay": "pile.bay_not_entered", "stop": "pile.stop", "time": "pile.time_limit"},
    "field": {"wrong_route": "field.wrong_route", "pole": "field.pole_touched", "out": "field.body_out",
              "bay": "field.bay_not_entered", "stop": "field.stops", "time": None},
}
_SIGN = {"forward": 1, "reverse": -1}


class BayShiftJudge(ItemJudge):
    item: BayShiftItem
    reverses = True

    def __init__(self, item: BayShiftItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self.rules = RULES[item.type]
        self.leg = -1  # before the first leg: driving in along the lane
        self._last: Frame | None = None
        self._radius = ctx.measure("standstill_radius")
        self._turns = Turns(self._radius, direction=1)
        self._halt: _Halt | None = None
        self._stops = 0
        self._wrong = self._timed_out = False
        self._margin = ctx.body_margin()  # the outline's (its furthest corner's lever arm, areas.py)
        self._poles = PoleTouches(item.poles, self._margin, ctx.confirm_fixes())
        self._body = BodyInArea(item.area, self._margin, ctx.confirm_fixes())
        self._bays = {name: with_margin(bay, self._margin) for name, bay in item.bays.items()}

    @property
    def moving(self) -> int:
        """The direction of the current movement: +1 forward, −1 backward."""
        return self._turns.direction

    def on_pose(self, frame: Frame) -> None:
        turned = self._turns.update(frame.placement.point("rear_axle"), frame.placement.heading, frame)
        self._follow_halt(frame)
        if turned is not None:
            if self._halt is not None:
                self._halt.judged = True  # the stop at the turn is the route's
            self._change(frame, turned)
        elif self._halt is not None and not self._halt.judged and not self.ctx.stops.stopped \
                and limits.exceeds((self._turns.at - self._halt.at) * self.moving, self._radius, "m"):
            self._mid_stop(frame, self._halt)  # went on the same way: a stop within the leg
        self._check_poles(frame)
        self._check_body(frame)
        self._last = frame

    def _follow_halt(self, frame: Frame) -> None:
        stops = self.ctx.stops
        if not stops.stopped or stops.since is None:
            return
        halt = self._halt
        same = halt is not None and not halt.judged and not limits.exceeds(
            abs(self._turns.at - halt.at), self._radius, "m")
        if halt is None or (halt.since != stops.since and not same):
            halt = self._halt = _Halt(since=stops.since, at=self._turns.at)
        halt.duration = stops.stopped_for(frame.t) + (stops.since - halt.since)
        if not halt.judged and not self._may_turn_here(frame):
            self._mid_stop(frame, halt, decided_only_if_over=True)

    def _may_turn_here(self, frame: Frame) -> bool:
        """Whether a stop here may be the end of the current leg (a turn the route has)."""
        if self.leg >= len(self.item.legs) - 1:
            return False  # the last leg ends over the exit line, not at a turn
        if self.leg < 0:
            return True  # driving in: the stop before reversing into the first bay
        target = self.item.legs[self.leg][0]
        return target == "-" or body_outside(frame, self._bays[target]) is None

    def _change(self, frame: Frame, turned: Frame) -> None:
        """The vehicle moves the other way: the current leg ended where it turned (``turned``)."""
        direction = self.moving
        if self.leg >= 0:
            target = self.item.legs[self.leg][0]
            if target != "-" and body_outside(turned, self._bays[target]) is not None:
                other = [name for name, bay in self._bays.items() if name != target and body_outside(turned, bay) is None]
                if other:  # wholly inside the wrong bay: the route, not 移库不入
                    self._wrong_route(frame, f"leg {self.leg + 1}: into bay {other[0]}, not bay {target}")
                else:
                    self.ctx.deduct(self.rules["bay"], frame.t, frame.utc,
                                    detail=f"leg {self.leg + 1}: not in bay {target}")
                return
        self.leg += 1
        if self.leg >= len(self.item.legs) or _SIGN[self.item.legs[self.leg][1]] != direction:
            self._wrong_route(frame, f"leg {self.leg + 1}: moving {'forward' if direction > 0 else 'backward'}")

    def _mid_stop(self, frame: Frame, halt: _Halt, decided_only_if_over: bool = False) -> None:
        """A stop within a leg: 停机 for tractors (counted from field_stop_minimum), pile.stop for C4.

        With ``decided_only_if_over`` the vehicle still stands: the stop is judged only once it
        has passed the limit (the halt stays open until then)."""
        rule = self.ctx.rule(self.rules["stop"])
        if self.item.type == "field":  # tractors count halts; 桩考 times each one
            if self.ctx.reached("field_stop_minimum", halt.duration):
                halt.judged = True
                self._stops += 1
                if rule.triggered_by(self._stops):
                    self.ctx.deduct(rule.id, frame.t, frame.utc, value=self._stops, unit="count")
            elif not decided_only_if_over:
                halt.judged = True
        elif rule.triggered_by(halt.duration):
            halt.judged = True
            self.ctx.deduct(rule.id, *at_time(frame.t, frame.utc, passed_at(rule, halt.since, frame.t)),
                            value=halt.duration, unit="s")
        elif not decided_only_if_over:
            halt.judged = True

    def _wrong_route(self, frame: Frame, detail: str) -> None:
        if not self._wrong:
            self._wrong = True
            self.ctx.deduct(self.rules["wrong_route"], frame.t, frame.utc, detail=detail)

    def _check_poles(self, frame: Frame) -> None:
        for pole, t, utc in self._poles.by_outline(frame):
            self.ctx.deduct(self.rules["pole"], t, utc, detail=f"pole {pole.number}: outline reaches the pole")

    def _check_body(self, frame: Frame) -> None:
        out = self._body.check(frame)
        if out is not None:
            line = self.item.nearest_line((out.where.x, out.where.y)).name
            self.ctx.deduct(self.rules["out"], out.t, out.utc, value=out.depth, unit="m", detail=f"over {line}")

    def on_sensor(self, sensor: CourseSensor) -> None:
        pole = self._poles.by_sensor(sensor)
        if pole is not None:
            self.ctx.deduct(self.rules["pole"], sensor.t, sensor.utc, detail=f"pole {pole.number}: sensor {sensor.element}")

    def on_tick(self, t: float, utc: datetime) -> None:
        rule_id = self.rules["time"]
        if rule_id is None or self._timed_out:
            return
        elapsed = self.ctx.confirmed(t) - self.started_t
        rule = self.ctx.rule(rule_id)
        if rule.triggered_by(elapsed):
            self._timed_out = True
            self.ctx.deduct(rule_id, *at_time(t, utc, passed_at(rule, self.started_t, t)), value=elapsed, unit="s")

    def exit_crossing(self, frame: Frame, previous: Frame | None):
        # driving in along the lane passes nothing that ends the item; only the last leg does
        return super().exit_crossing(frame, previous) if self.leg == len(self.item.legs) - 1 else None

    def finish(self, t: float, utc: datetime) -> None:
        if self.leg != len(self.item.legs) - 1 and not self._wrong:
            self._wrong = True
            self.ctx.deduct(self.rules["wrong_route"], t, utc, detail=f"left the item in leg {self.leg + 1}")

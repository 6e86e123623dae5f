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

A halt is only known to be a route stop (to change direction) when the
vehicle moves again: stops are judged then, a halt followed by movement the
same way being a 中途停车 [INF]. That makes these stop rules fire when the
vehicle moves off, not at the limit.
"""

from __future__ import annotations

from datetime import datetime

from shapely.geometry import Point

from ..item_geometry import BayShiftItem
from ..observations import CourseSensor
from .areas import body_event_time, body_outside, with_margin
from ..motion import passed_at
from .base import Context, Frame, ItemJudge, at_time, motion_direction

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
        self.moving = 1  # the direction of the current movement
        self._last: Frame | None = None
        self._halt: tuple[float, int] | None = None  # when the vehicle stopped, and which way it had moved
        self._stops = 0
        self._touched: set[int] = set()
        self._out = self._wrong = self._timed_out = False
        self._poles = {pole.element: pole for pole in item.poles}
        self._margin = ctx.measure("line_margin")
        self._area = with_margin(item.area, self._margin)
        self._bays = {name: with_margin(bay, self._margin) for name, bay in item.bays.items()}

    def on_pose(self, frame: Frame) -> None:
        direction = motion_direction(frame, self.ctx.measure("direction_speed"))
        stops = self.ctx.stops
        if stops.stopped and self._halt is None:
            self._halt = (stops.since if stops.since is not None else frame.t, self.moving)
        if direction != 0:
            self._moved(frame, direction)
        self._check_poles(frame)
        self._check_body(frame)
        self._last = frame

    def _moved(self, frame: Frame, direction: int) -> None:
        halt, self._halt = self._halt, None
        if direction != self.moving:
            self._change(frame, direction)
        elif halt is not None:
            self._mid_stop(frame, frame.t - halt[0])
        self.moving = direction

    def _change(self, frame: Frame, direction: int) -> None:
        """The vehicle moves the other way: the current leg has ended where it stood."""
        if self.leg >= 0:
            target = self.item.legs[self.leg][0]
            if target != "-" and body_outside(self._last or frame, self._bays[target]) is not None:
                self.ctx.deduct(self.rules["bay"], frame.t, frame.utc, detail=f"leg {self.leg + 1}: not in bay {target}")
                return
        self.leg += 1
        if self.leg >= len(self.item.legs) or _SIGN[self.item.legs[self.leg][1]] != direction:
            self._wrong_route(frame, f"leg {self.leg + 1}: moving {'forward' if direction > 0 else 'backward'}")

    def _mid_stop(self, frame: Frame, duration: float) -> None:
        rule = self.ctx.rule(self.rules["stop"])
        if self.item.type == "field":  # tractors count halts; 桩考 times each one
            if self.ctx.reached("field_stop_minimum", duration):
                self._stops += 1
                if rule.triggered_by(self._stops):
                    self.ctx.deduct(rule.id, frame.t, frame.utc, value=self._stops, unit="count")
        elif rule.triggered_by(duration):
            self.ctx.deduct(rule.id, frame.t, frame.utc, value=duration, unit="s")

    def _wrong_route(self, frame: Frame, detail: str) -> None:
        if not self._wrong:
            self._wrong = True
            self.ctx.deduct(self.rules["wrong_route"], frame.t, frame.utc, detail=detail)

    def _check_poles(self, frame: Frame) -> None:
        outline = frame.placement.outline
        for pole in self.item.poles:
            if pole.number not in self._touched and \
                    outline.distance(Point(pole.position)) < pole.radius - self._margin:
                self._touch(pole.number, frame.t, frame.utc, f"pole {pole.number}: outline reaches the pole")

    def _touch(self, number: int, t: float, utc: datetime, detail: str) -> None:
        self._touched.add(number)
        self.ctx.deduct(self.rules["pole"], t, utc, detail=detail)

    def _check_body(self, frame: Frame) -> None:
        if self._out:
            return
        out = body_outside(frame, self._area)
        if out is not None:
            self._out = True
            line = self.item.nearest_line((out[1].x, out[1].y)).name
            t, utc = body_event_time(frame, self.item.area, self._margin)
            self.ctx.deduct(self.rules["out"], t, utc, value=out[0] + self._margin, unit="m", detail=f"over {line}")

    def on_sensor(self, sensor: CourseSensor) -> None:
        pole = self._poles.get(sensor.element)
        if pole is not None and sensor.active and pole.number not in self._touched:
            self._touch(pole.number, sensor.t, sensor.utc, f"pole {pole.number}: sensor {sensor.element}")

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

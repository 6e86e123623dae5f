"""坡道定点停车和起步 judge: the fixed-point stop, the edge gap, the start, rollback.

Rules (research.md §2.4): hill.stop_offset_major/minor (H1/H2),
hill.edge_gap_major/minor (H3/H4), hill.start_timeout (H5),
hill.edge_line_touched (H6), hill.rollback_major/minor (H7/H8),
hill.parking_brake (H9). The stall (H10) is the general rule.

The first stop in the item is the fixed-point stop. Its position is measured
once the vehicle has been stopped for ``stop_settle``; rollback is measured
along the item's heading from the furthest point reached while stopped until
the vehicle has moved off.
"""

from __future__ import annotations

from datetime import datetime

from ..body_lines import body_beyond
from ..item_geometry import HillItem
from ..motion import Rollback, passed_at
from ..observations import Signals
from .areas import WheelLines
from .base import Context, Frame, ItemJudge, at_time

APPROACH, STOPPED, STARTED = "approach", "stopped", "started"


class HillJudge(ItemJudge):
    item: HillItem
    owns_rollback = True

    def __init__(self, item: HillItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self.reference = ctx.ruleset.hill_reference_point[ctx.vehicle_class]
        self.state = APPROACH
        self._stop_since: float | None = None
        self._measured = False
        self._rollback: Rollback | None = None
        self._rollback_failed = False
        self._brake_applied = False
        self._timed_out = False
        self._edge_touched = False
        edge = item.edge_line
        self._wheels = WheelLines.of(ctx, edge.over)

    def on_pose(self, frame: Frame) -> None:
        stops = self.ctx.stops
        # judged standing too: the fix that confirms a touch may be the standstill's first (areas.py)
        self._check_edge_line(self._wheels.update(frame))
        if self.state == APPROACH and stops.stopped:
            self.state = STOPPED
            self._stop_since = stops.since
            self._rollback = Rollback.begin(frame.position, self.item.heading, self.ctx.measure("rollback_floor"))
        if self.state == STOPPED:
            self._follow_stop(frame)

    def _follow_stop(self, frame: Frame) -> None:
        stops = self.ctx.stops
        if not self._measured and stops.stopped and self.ctx.reached("stop_settle", stops.stopped_for(frame.t)):
            self._measured = True
            self._judge_stop_position(frame)
        assert self._rollback is not None
        self._rollback.update(frame.position, stops.stopped)
        rollback = self._rollback.measured
        if not self._rollback_failed and self.ctx.rule("hill.rollback_major").triggered_by(rollback):
            self._rollback_failed = True
            self.ctx.deduct("hill.rollback_major", frame.t, frame.utc, value=rollback, unit="m")
        if self._rollback.ended:
            self._moved_off(frame, rollback)

    def _judge_stop_position(self, frame: Frame) -> None:
        offset = abs(self.item.stake_line.side(frame.placement.point(self.reference)))
        if self._hits("hill.stop_offset_major", offset):
            self.ctx.deduct("hill.stop_offset_major", frame.t, frame.utc, value=offset, unit="m",
                            detail=self.reference)
        elif self.ctx.over("hill_on_line_tolerance", offset) and self._hits("hill.stop_offset_minor", offset):
            self.ctx.deduct("hill.stop_offset_minor", frame.t, frame.utc, value=offset, unit="m",
                            detail=self.reference)
        edge = self.item.edge_line
        gap = -body_beyond(frame.placement, edge)
        if self._hits("hill.edge_gap_major", gap):
            self.ctx.deduct("hill.edge_gap_major", frame.t, frame.utc, value=gap, unit="m")
        elif self._hits("hill.edge_gap_minor", gap):
            self.ctx.deduct("hill.edge_gap_minor", frame.t, frame.utc, value=gap, unit="m")

    def _hits(self, rule_id: str, value: float) -> bool:
        """The rule applies to this class (and is switched on) and the value triggers it."""
        return self.ctx.applies(rule_id) and self.ctx.rule(rule_id).triggered_by(value)

    def _moved_off(self, frame: Frame, rollback: float) -> None:
        if not self._rollback_failed and self.ctx.rule("hill.rollback_minor").triggered_by(rollback):
            self.ctx.deduct("hill.rollback_minor", frame.t, frame.utc, value=rollback, unit="m")
        if not self._measured:
            self.state = APPROACH  # a halt shorter than stop_settle is not the fixed-point stop
            return
        self.state = STARTED
        signals = self.ctx.signals
        has_brake = signals is not None and signals.parking_brake is not None
        if has_brake and not self._brake_applied:
            self.ctx.deduct("hill.parking_brake", frame.t, frame.utc)

    def _check_edge_line(self, touched) -> None:
        """A wheel more than its margin past the edge line's reference (confirmed), at the interpolated moment."""
        if self._edge_touched or not touched:
            return
        wheel, over, t, utc = touched[0]
        self._edge_touched = True
        self.ctx.deduct("hill.edge_line_touched", t, utc, value=over, unit="m", detail=f"{wheel} wheel")

    def on_signals(self, signals: Signals) -> None:
        if self.state == STOPPED and signals.parking_brake:
            self._brake_applied = True

    def on_tick(self, t: float, utc: datetime) -> None:
        if self.state != STOPPED or self._timed_out or self._stop_since is None:
            return
        waited = self.ctx.stops.stopped_for(t)  # as far as fixes confirm the vehicle still stands
        rule = self.ctx.rule("hill.start_timeout")
        if rule.triggered_by(waited):
            self._timed_out = True
            self.ctx.deduct(rule.id, *at_time(t, utc, passed_at(rule, self._stop_since, t)), value=waited, unit="s")

    def finish(self, t: float, utc: datetime) -> None:
        if self.state == APPROACH:
            self.ctx.deduct("hill.stop_offset_major", t, utc, detail="no stop at the stake line")

"""General rules judged during the whole attempt (research.md §2.1, §2.2).

general.seatbelt / general.helmet (G1), general.start_not_neutral (G3),
general.starter_held (G4), general.stall (G5, also M8/P8/H10/B5),
general.rollback_major / general.rollback_minor (M1/M2, outside the hill),
general.coasting (M3), general.foot_down_or_weave (M5/P7, two-wheelers).
The manual rules (G2, G6, M4, M6, M7) come in as manual_fail commands.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from .items.base import Context, Frame
from .motion import Rollback
from .observations import Gear, Signals

_START_GEARS = (Gear.NEUTRAL, Gear.PARK)


class _Persisting:
    """How long a condition has held without a break."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.fired = False

    def update(self, t: float, holds: bool) -> float:
        """Update with the condition's state; returns how long it has held (0 when it does not)."""
        if not holds:
            self.since, self.fired = None, False
            return 0.0
        if self.since is None:
            self.since = t
        return t - self.since


class GeneralJudge:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.two_wheeler = ctx.vehicle.kind == "two_wheeler"
        self._last: Signals | None = None
        self._belt = _Persisting()
        self._starter = _Persisting()
        self._coasting = _Persisting()
        self._foot = _Persisting()
        self._roll: deque[tuple[float, float]] = deque()
        self._weave_fired = False
        self._rollback: Rollback | None = None
        self._rollback_failed = False

    # --- signals -----------------------------------------------------------------------

    def on_signals(self, signals: Signals) -> None:
        last, self._last = self._last, signals
        t, utc = signals.t, signals.utc
        if last is not None and signals.starter and not last.starter and signals.gear not in _START_GEARS \
                and signals.gear != Gear.UNKNOWN:
            self.ctx.deduct("general.start_not_neutral", t, utc, detail=f"gear {signals.gear.value}")
        if last is not None and last.engine and not signals.engine and signals.ignition and last.ignition:
            # −10 for the road classes, 不合格 for tractors: the rule that applies to the class counts
            self.ctx.deduct("general.stall", t, utc)
            self.ctx.deduct("general.tractor_stall", t, utc)
        if self.two_wheeler and signals.roll is not None and self.ctx.reached("walking_pace", self.ctx.stops.speed):
            self._roll.append((t, signals.roll))
        elif self.two_wheeler:
            self._roll.clear()  # below walking pace the rider may sway: no judgement (domain/README.md)

    def on_tick(self, t: float, utc: datetime) -> None:
        signals = self._last
        if signals is None:
            return
        # A signal state is known up to its snapshot: between snapshots it may already have
        # changed, so durations count only to the latest one (never longer than it held).
        t, utc = min((t, utc), (signals.t, signals.utc))
        self._check_belt(signals, t, utc)
        self._check_starter(signals, t, utc)
        self._check_coasting(signals, t, utc)
        if self.two_wheeler:
            self._check_foot(signals, t, utc)
            self._check_weave(t, utc)

    def _check_belt(self, signals: Signals, t: float, utc: datetime) -> None:
        off = signals.helmet is False or signals.seatbelt is False
        held = self._belt.update(t, off)
        if off and not self._belt.fired and self.ctx.reached("belt_debounce", held):
            self._belt.fired = True
            if signals.helmet is False:
                self.ctx.deduct("general.helmet", t, utc)
            if signals.seatbelt is False:
                self.ctx.deduct("general.seatbelt", t, utc)

    def _check_starter(self, signals: Signals, t: float, utc: datetime) -> None:
        holding = signals.starter and signals.engine
        held = self._starter.update(t, holding)
        if holding and not self._starter.fired and self.ctx.rule("general.starter_held").triggered_by(held):
            self._starter.fired = True
            self.ctx.deduct("general.starter_held", t, utc, value=held, unit="s")

    def _check_coasting(self, signals: Signals, t: float, utc: datetime) -> None:
        coasting = signals.gear == Gear.NEUTRAL and not self.ctx.stops.stopped
        held = self._coasting.update(t, coasting)
        if coasting and not self._coasting.fired and self.ctx.reached("coasting_debounce", held):
            self._coasting.fired = True
            self.ctx.deduct("general.coasting", t, utc, value=self.ctx.stops.speed, unit="m/s")

    def _check_foot(self, signals: Signals, t: float, utc: datetime) -> None:
        fast = self.ctx.reached("walking_pace", self.ctx.stops.speed)
        down = fast and (signals.left_footpeg is False or signals.right_footpeg is False)
        held = self._foot.update(t, down)
        if down and not self._foot.fired and self.ctx.reached("footpeg_debounce", held):
            self._foot.fired = True
            side = "left" if signals.left_footpeg is False else "right"
            self.ctx.deduct("general.foot_down_or_weave", t, utc, value=self.ctx.stops.speed, unit="m/s",
                            detail=f"{side} foot down")

    def _check_weave(self, t: float, utc: datetime) -> None:
        window = self.ctx.measure("weave_window")
        while self._roll and self._roll[0][0] < t - window:
            self._roll.popleft()
        if self._weave_fired or len(self._roll) <= 1:
            return
        rolls = [roll for _, roll in self._roll]
        swing = max(rolls) - min(rolls)
        if self.ctx.over("weave_amplitude", swing):
            self._weave_fired = True
            self.ctx.deduct("general.foot_down_or_weave", t, utc, value=swing, unit="deg",
                            detail="weave: roll swing within the window")

    # --- rollback outside the hill --------------------------------------------------------

    def on_pose(self, frame: Frame, item_owns_rollback: bool) -> None:
        stops = self.ctx.stops
        reversing = self._last is not None and self._last.gear == Gear.REVERSE
        if item_owns_rollback or reversing:
            self._rollback = None  # the hill judges its own rollback; reversing is no rollback
            return
        if self._rollback is None:
            if stops.stopped:
                self._rollback = Rollback.begin(frame.position, frame.placement.heading,
                                                self.ctx.measure("rollback_floor"))
            return
        self._rollback.update(frame.position, stops.stopped)
        rollback = self._rollback.measured
        if not self._rollback_failed and self.ctx.rule("general.rollback_major").triggered_by(rollback):
            self._rollback_failed = True
            self.ctx.deduct("general.rollback_major", frame.t, frame.utc, value=rollback, unit="m")
        if self._rollback.ended:
            if not self._rollback_failed and self.ctx.rule("general.rollback_minor").triggered_by(rollback):
                self.ctx.deduct("general.rollback_minor", frame.t, frame.utc, value=rollback, unit="m")
            self._rollback = None

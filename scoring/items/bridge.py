"""通过单边桥 judge: each required wheel over its deck, in order, without dropping off.

Rules (research.md §2.5): bridge.wheel_not_mounted (B1), bridge.wheel_dropped
(B2), bridge.stop (B3), bridge.wrong_route (B4). The stall (B5) is the general
rule.

A wheel is on a deck when its contact point lies on the deck polygon. Where
the course has deck sensors (``deck_sensors = true``), the deck's sensor must
also be active, and the polygon is widened sideways by ``deck_margin`` so GNSS
and vehicle-model error do not count as a drop: the sensor decides.

The controller judges observations in the order they arrive, and the receiver
and the course board are read by different threads: on a loaded machine a fix
can arrive after a deck switch change that happened later. So a fix is judged
against the switch as it was *at the fix's time* (each deck's switch history),
and a fix never undoes what was decided for a wheel at a later time (a release
already judged from the newest fix carried forward): a late fix of a wheel
still on the deck is no drop, and a wheel judged dropped is not re-mounted by
a fix from before its drop.
"""

from __future__ import annotations

import bisect
import dataclasses
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import Point

from ..geometry import forward
from ..item_geometry import BridgeItem, Deck
from ..motion import StopCounter
from ..observations import CourseSensor
from .base import Context, Frame, ItemJudge, at_time

PENDING, MOUNTED, DROPPED, DONE, MISSED = "pending", "mounted", "dropped", "done", "missed"


@dataclass
class _Crossing:
    """One wheel that must run over one deck."""

    stage: int
    deck: Deck
    wheel: str
    state: str = PENDING
    decided_t: float = float("-inf")  # when ``state`` last changed, on the observations' clock


class BridgeJudge(ItemJudge):
    item: BridgeItem

    def __init__(self, item: BridgeItem, ctx: Context, started_t: float) -> None:
        super().__init__(item, ctx, started_t)
        self._crossings = [
            _Crossing(stage, item.decks[deck], wheel)
            for stage, (deck, wheels) in enumerate(item.pattern(ctx.vehicle.kind))
            for wheel in wheels
        ]
        # Each deck switch's changes, (t, active) in time order, from "inactive" at the start.
        self._switch: dict[str, list[tuple[float, bool]]] = {
            deck.name: [(float("-inf"), False)] for deck in item.decks.values()}
        self._by_element = {deck.element: deck.name for deck in item.decks.values()}
        self._margin = ctx.measure("deck_margin") if item.deck_sensors else 0.0
        self._stops = StopCounter(ctx.rule("bridge.stop"))
        self._wrong = False
        self._last: Frame | None = None

    def _active_at(self, deck: str, t: float) -> bool:
        """Whether the deck's switch was active at time ``t``."""
        return next(active for at, active in reversed(self._switch[deck]) if at <= t)

    def _on_deck(self, deck: Deck, point: tuple[float, float], t: float) -> bool:
        if self.item.deck_sensors and not self._active_at(deck.name, t):
            return False
        if not deck.start <= self.item.along(point) <= deck.end:
            return False  # the margin widens the deck sideways only
        return deck.polygon.distance(Point(point)) <= self._margin

    def on_pose(self, frame: Frame) -> None:
        if self._last is None or frame.t >= self._last.t:
            self._last = frame  # the newest fix: a switch release is judged from it
        for crossing in self._crossings:
            point = frame.placement.point(crossing.wheel)
            self._check_wrong_deck(crossing, point, frame)
            self._advance(crossing, point, frame)

    def _check_wrong_deck(self, crossing: _Crossing, point: tuple[float, float], frame: Frame) -> None:
        if self._wrong:
            return
        for deck in self.item.decks.values():
            if deck is not crossing.deck and deck.polygon.covers(Point(point)):
                self._wrong = True
                self.ctx.deduct("bridge.wrong_route", frame.t, frame.utc,
                                detail=f"{crossing.wheel} wheel on deck {deck.name}")

    def _advance(self, crossing: _Crossing, point: tuple[float, float], frame: Frame) -> None:
        if frame.t < crossing.decided_t:
            return  # a late fix: see the module docstring
        before = crossing.state
        on = self._on_deck(crossing.deck, point, frame.t)
        past_end = self.item.along(point) >= crossing.deck.end
        if crossing.state == PENDING:
            if on:
                self._mount(crossing, frame)
            elif past_end:
                crossing.state = MISSED
                self.ctx.deduct("bridge.wheel_not_mounted", frame.t, frame.utc,
                                detail=f"{crossing.wheel} wheel, deck {crossing.deck.name}")
        elif crossing.state == MOUNTED and not on:
            if past_end:
                crossing.state = DONE
            else:
                crossing.state = DROPPED
                self.ctx.deduct("bridge.wheel_dropped", frame.t, frame.utc,
                                value=self.item.along(point) - crossing.deck.start, unit="m",
                                detail=f"{crossing.wheel} wheel off deck {crossing.deck.name}")
        elif crossing.state == DROPPED and on:
            crossing.state = MOUNTED  # back on: a further drop counts again
        if crossing.state != before:
            crossing.decided_t = frame.t

    def _mount(self, crossing: _Crossing, frame: Frame) -> None:
        crossing.state = MOUNTED
        earlier = [c for c in self._crossings if c.stage < crossing.stage and c.state == PENDING]
        if earlier and not self._wrong:
            self._wrong = True
            self.ctx.deduct("bridge.wrong_route", frame.t, frame.utc,
                            detail=f"deck {crossing.deck.name} before deck {earlier[0].deck.name}")

    def on_sensor(self, sensor: CourseSensor) -> None:
        name = self._by_element.get(sensor.element)
        if name is None:
            return
        bisect.insort(self._switch[name], (sensor.t, sensor.active))
        if not sensor.active and self._last is not None:
            # Judge a release at the sensor's own time, with the wheels carried forward from the
            # last fix at its speed: a wheel rolling off the deck's end between fixes is no drop.
            frame = dataclasses.replace(self._last, t=sensor.t, utc=sensor.utc)
            travelled = self._last.speed * max(sensor.t - self._last.t, 0.0)
            ahead = forward(self.item.heading)
            for crossing in self._crossings:
                if crossing.deck.name == name and crossing.state == MOUNTED:
                    x, y = frame.placement.point(crossing.wheel)
                    self._advance(crossing, (x + ahead[0] * travelled, y + ahead[1] * travelled), frame)

    def on_tick(self, t: float, utc: datetime) -> None:
        stopped = self._stops.check(t, self.ctx.stops)
        if stopped is not None:
            duration, at = stopped
            self.ctx.deduct("bridge.stop", *at_time(t, utc, at), value=duration, unit="s")

    def finish(self, t: float, utc: datetime) -> None:
        for crossing in self._crossings:
            if crossing.state == PENDING:
                crossing.state = MISSED
                self.ctx.deduct("bridge.wheel_not_mounted", t, utc,
                                detail=f"{crossing.wheel} wheel, deck {crossing.deck.name}")

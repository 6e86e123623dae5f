"""通过单边桥 judge: each required wheel over its deck, in order, without dropping off.

Rules (research.md §2.5): bridge.wheel_not_mounted (B1), bridge.wheel_dropped
(B2), bridge.stop (B3), bridge.wrong_route (B4). The stall (B5) is the general
rule. B1 counts once per bridge (deck) the vehicle should have crossed, however
many of that deck's wheels never mounted it (domain/README.md: −10 each time, per
bridge, not per wheel).

A wheel is on a deck when its contact point lies on the deck polygon. Where
the course has deck sensors (``deck_sensors = true``), the deck's sensor must
also be active, and the polygon is widened sideways by ``deck_margin`` so GNSS
and vehicle-model error do not count as a drop: the sensor decides.

The controller judges observations in the order they arrive, and the receiver
and the course board are read by different threads: on a loaded machine a fix
can arrive after a deck switch change that happened later, or before it. So:

* a fix is judged against the switch as it was *at the fix's time* (each
  deck's switch history), where a switch active at any moment within
  ``deck_switch_skew`` before the fix still counts as active;
* a release is judged at the switch's own time, with each wheel where the
  fixes put it ``deck_switch_skew`` later (interpolated); until a fix at or
  after that moment has arrived the release waits, and
  a release still waiting when no fix came for ``max_fix_gap`` (the receiver
  fell silent) is judged from the newest fix carried forward at its speed. A
  wheel rolling off the deck's end between fixes is no drop;
* a fix never undoes what was decided for a wheel at a later time.

``deck_switch_skew`` is how far the switch's time and the receiver's may
disagree (the board is polled, the receiver's fix reaches the controller late,
and a host under load stamps either a little off). Without it a wheel rolling
off the deck's end was a drop whenever the fixes lagged the switch by a few
hundredths of a second: the switch released while the fixes still put the wheel
a centimetre short of the end (issue 11 item 10: the demo's clean and stall E
runs scored −10 for ``bridge.wheel_dropped`` now and then). A wheel that leaves
the deck within that time of reaching its end is given the benefit of the doubt.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime

from shapely.geometry import Point

from ..geometry import forward
from ..item_geometry import BridgeItem, Deck
from ..motion import StopCounter
from ..observations import CourseSensor
from .base import Context, Frame, ItemJudge

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
        self._fix_gap = ctx.measure("max_fix_gap")
        self._skew = ctx.measure("deck_switch_skew")
        self._stops = StopCounter(ctx.rule("bridge.stop"))
        self._wrong = False
        self._missed: set[int] = set()  # stages (bridges) already deducted as never mounted
        self._fixes: list[Frame] = []  # the item's fixes in time order (a release is placed between two)
        self._releases: list[tuple[str, float, datetime]] = []  # (deck, t, utc) not judged yet

    def _active_at(self, deck: str, t: float) -> bool:
        """Whether the deck's switch was active at time ``t``."""
        return next(active for at, active in reversed(self._switch[deck]) if at <= t)

    def _active_lately(self, deck: str, t: float) -> bool:
        """Whether the deck's switch was active at any moment within ``deck_switch_skew`` before ``t``."""
        since = t - self._skew
        return self._active_at(deck, since) or any(active for at, active in self._switch[deck] if since < at <= t)

    def _on_deck(self, deck: Deck, point: tuple[float, float], t: float, exact: bool = False) -> bool:
        """The wheel at ``point`` is on the deck at ``t``: the switch as it was then (``exact``: at that very
        moment; else within the skew before it), and the polygon."""
        if self.item.deck_sensors and not (self._active_at(deck.name, t) if exact else self._active_lately(deck.name, t)):
            return False
        if not deck.start <= self.item.along(point) <= deck.end:
            return False  # the margin widens the deck sideways only
        return deck.polygon.distance(Point(point)) <= self._margin

    def on_pose(self, frame: Frame) -> None:
        bisect.insort(self._fixes, frame, key=lambda f: f.t)
        self._judge_releases()
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

    def _advance(self, crossing: _Crossing, point: tuple[float, float], frame: Frame, release: bool = False) -> None:
        if frame.t < crossing.decided_t:
            return  # a late fix: see the module docstring
        before = crossing.state
        on = self._on_deck(crossing.deck, point, frame.t, exact=release)
        past_end = self.item.along(point) >= crossing.deck.end
        if crossing.state == PENDING:
            if on:
                self._mount(crossing, frame)
            elif past_end:
                self._miss(crossing, frame.t, frame.utc)
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

    def _miss(self, crossing: _Crossing, t: float, utc: datetime) -> None:
        """A wheel that never mounted its deck: one deduction per bridge, at its first such wheel."""
        crossing.state = MISSED
        if crossing.stage in self._missed:
            return
        self._missed.add(crossing.stage)
        self.ctx.deduct("bridge.wheel_not_mounted", t, utc, detail=f"{crossing.wheel} wheel, deck {crossing.deck.name}")

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
        if not sensor.active:
            self._releases.append((name, sensor.t, sensor.utc))
            self._judge_releases()

    def _judge_releases(self) -> None:
        """Judge each waiting release that has a fix at or after its moment."""
        waiting = []
        for name, t, utc in self._releases:
            seen = t + self._skew  # where the fixes put the wheels this much after the switch's time
            after = bisect.bisect_left(self._fixes, seen, key=lambda f: f.t)
            if after == len(self._fixes):
                waiting.append((name, t, utc))
                continue
            later = self._fixes[after]
            earlier = self._fixes[after - 1] if after else later
            span = later.t - earlier.t
            share = (seen - earlier.t) / span if span > 0 else 0.0

            def at_release(wheel: str) -> tuple[float, float]:
                (x0, y0), (x1, y1) = earlier.placement.point(wheel), later.placement.point(wheel)
                return x0 + (x1 - x0) * share, y0 + (y1 - y0) * share

            self._judge_release(name, later._replace(t=t, utc=utc), at_release)
        self._releases = waiting

    def _judge_release(self, name: str, frame: Frame, wheel_at) -> None:
        for crossing in self._crossings:
            if crossing.deck.name == name and crossing.state == MOUNTED:
                self._advance(crossing, wheel_at(crossing.wheel), frame, release=True)

    def _judge_releases_carried_forward(self, before: float) -> None:
        """The releases before ``before`` that no fix came after: each wheel carried forward from the
        newest fix at its speed (the receiver fell silent)."""
        if not self._fixes:
            return
        last = self._fixes[-1]
        ahead = forward(self.item.heading)
        waiting = []
        for name, t, utc in self._releases:
            if t + self._skew >= before:
                waiting.append((name, t, utc))
                continue
            travelled = last.speed * max(t + self._skew - last.t, 0.0)

            def carried(wheel: str) -> tuple[float, float]:
                x, y = last.placement.point(wheel)
                return x + ahead[0] * travelled, y + ahead[1] * travelled

            self._judge_release(name, last._replace(t=t, utc=utc), carried)
        self._releases = waiting

    def on_tick(self, t: float, utc: datetime) -> None:
        # A release waits for a fix after it only as long as a fix gap may last (max_fix_gap).
        self._judge_releases_carried_forward(before=t - self._fix_gap)
        self.deduct_stop(self._stops, t, utc)

    def finish(self, t: float, utc: datetime) -> None:
        self._judge_releases_carried_forward(before=float("inf"))
        for crossing in self._crossings:
            if crossing.state == PENDING:
                self._miss(crossing, t, utc)

"""What the judge takes from a GNSS pose: whether it can be judged, the body heading, and where
the vehicle stands.

The judge places the vehicle outline only from poses it can trust, so that nothing it deducts
comes from a guess or from noise (DESIGN.md: a device fault never fails a candidate; noise never
creates a deduction). Each pose reads as one of:

* ``UNUSABLE``: not an RTK fixed solution, or its RTK correction is older than
  ``measurement.max_correction_age``. Not judged at all (no position, no speed).
* ``NO_HEADING``: usable, but the body heading is not known: the heading is null (allowed by
  docs/observations.md) while the vehicle moves, so it may be turning. Holding the last heading
  would swing the outline through poles and lines the vehicle never touched; the pose is
  insufficient data and is not placed. At a standstill a null heading keeps the last one (a
  vehicle does not turn without travelling). A receiver without a dual antenna sends no
  heading standing still (its course over ground there is noise: docs/observations.md).
* ``SETTLING``: usable, but not placed yet: at a standstill until ``measurement.standstill_fixes``
  standstill fixes are in (see below), or while a standstill has no heading to keep (the first
  fixes of an attempt, or after a resume, from such a receiver). A vehicle standing still whose
  heading is not known yet is waiting to be placed, not a loss of the fix: it moves nothing it
  could touch, and once it travels a pose without a heading is a loss again.
* ``PLACED``: placed at ``x``, ``y``, ``heading``.

UNUSABLE and NO_HEADING poses count toward a loss of the fix (the attempt judge suspends the
attempt as a device fault when a loss inside an item lasts longer than
``measurement.fix_loss_allowance``); SETTLING poses do not.

**Standstill.** A pose whose speed is at or below ``stop_speed − speed_noise`` is a standstill
fix. (A local notion, kept to this reading: the attempt's stop timing is the stop tracker's.)
At a standstill the vehicle is placed at the mean position and circular-mean heading of the last
``standstill_fixes`` standstill fixes, and not placed before it has that many: centimetre noise
on single fixes would otherwise make a wheel that stands just inside a line cross it, and a
vehicle that stands still roll back. Any faster fix ends the standstill and is placed as it is.

**Reversing with a course-over-ground heading.** A receiver without a dual antenna reports the
course over ground (COG), the direction of travel: while reversing it points backwards. The body
heading is derived from the gear and the direction of travel. In reverse gear, once the antenna
has moved ``track_direction_distance`` from where reverse gear was engaged, at
``direction_speed`` or faster, a heading that points the way the vehicle travels is a COG
heading, and the body heading is its opposite for the rest of that reverse (a heading that
points against the travel is a body heading, used as it is); a COG means nothing at a
standstill, so there the last body heading is held. And from one fix to the next a body never
turns round: a heading more than 90° from the last body heading is taken the other way round.
That covers the moments the rule above cannot: the first decimetres of a reverse, and the fix
at a change of direction that comes before the gear signal does. (A true heading never jumps by
more than 90° between fixes, so it is never turned.)
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections import deque
from datetime import datetime
from typing import NamedTuple

from .geometry import bearing, mean_heading, opposite, same_way
from .observations import FixQuality, Gear, Pose
from .rules import RuleSet


class Reading(str, enum.Enum):
    UNUSABLE = "unusable"
    NO_HEADING = "no_heading"
    SETTLING = "settling"
    PLACED = "placed"

    @property
    def lost(self) -> bool:
        """Whether the pose counts toward a loss of the fix."""
        return self in (Reading.UNUSABLE, Reading.NO_HEADING)


class PoseRead(NamedTuple):
    """What the judge takes from one pose (a named tuple: one is made per pose, and the judge reads
    thousands a minute)."""

    reading: Reading
    x: float = 0.0
    y: float = 0.0
    heading: float = 0.0
    why: str = ""  # for UNUSABLE and NO_HEADING: what was wrong with the pose
    # A standstill that ended before it had ``standstill_fixes`` fixes: where it stood (the mean of
    # the fixes it had) and its last fix, placed before this pose so that nothing measured from the
    # standstill (a rollback) starts from the moving fixes after it.
    standstill: "Pose | None" = None
    # What the placed position counts for toward a line touch's confirmation (items/areas.py: a
    # touch needs measurement.line_confirm_fixes fixes in a row over the margin): 1 for a single
    # fix; a standstill mean of n fixes counts n − 1 (``fixes`` for this pose, ``standstill_count``
    # for ``standstill``): under Gaussian noise its being over the margin is rarer than n − 1 single
    # fixes in a row over it (a mean of 3 fixes beyond 2.1σ√3 = 3.65σ: 1.3 × 10⁻⁴; two single fixes
    # beyond 2.1σ: 3.1 × 10⁻⁴), and a mean of 2 counts as one fix.
    fixes: int = 1
    standstill_count: int = 0
    # A standstill mean's (t, utc) of the standstill's first fix: the vehicle stood there from then on
    # (``since`` for this pose, ``standstill_since`` for ``standstill``). A line event is interpolated
    # up to it, not up to the mean's own (latest) fix.
    since: "tuple[float, datetime] | None" = None
    standstill_since: "tuple[float, datetime] | None" = None


class PoseReader:
    """Reads one vehicle's poses in time order (see the module docstring)."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.max_correction_age = ruleset.measure("max_correction_age")
        self.standstill_speed = ruleset.measure("stop_speed") - ruleset.measure("speed_noise")
        self.window = max(int(ruleset.measure("standstill_fixes")), 1)
        self.track_distance = ruleset.measure("track_direction_distance")
        self.direction_speed = ruleset.measure("direction_speed")
        self._still: deque[tuple[float, float, float]] = deque(maxlen=self.window)
        self._still_last: Pose | None = None  # the latest fix of the standstill
        self._still_since: tuple[float, datetime] | None = None  # (t, utc) of its first fix
        self._heading: float | None = None  # the last body heading placed or held
        self._reverse_from: tuple[float, float] | None = None  # where reverse gear was engaged
        self._reverse_cog: bool | None = None  # this reverse's heading is course over ground

    def reset(self) -> None:
        """Forget the standstill, the reverse and the body heading: the vehicle may have been moved
        meanwhile, and turned round (a heading held from before would turn its first heading the
        other way round, and every one after it)."""
        self._still.clear()
        self._still_last = self._still_since = None
        self._reverse_from, self._reverse_cog = None, None
        self._heading = None

    def unusable_because(self, pose: Pose) -> str | None:
        """Why the pose's position cannot be judged, or None."""
        if pose.fix != FixQuality.RTK_FIXED:
            return f"fix {pose.fix.value}"
        if pose.correction_age is not None and pose.correction_age > self.max_correction_age:
            return f"RTK correction {pose.correction_age:g} s old"
        return None

    def read(self, pose: Pose, gear: Gear | None) -> PoseRead:
        why = self.unusable_because(pose)
        if why is not None:
            return PoseRead(Reading.UNUSABLE, why=why)
        standstill = pose.speed <= self.standstill_speed
        heading = self._body_heading(pose, gear, standstill)
        if heading is None and standstill:
            return PoseRead(Reading.SETTLING)  # no heading yet to keep: nothing in the mean either
        if heading is None:
            ended, count, since = self._end_standstill()
            return PoseRead(Reading.NO_HEADING, why="no heading while moving", standstill=ended,
                            standstill_count=count, standstill_since=since)
        self._heading = heading
        if not standstill:
            ended, count, since = self._end_standstill()
            return PoseRead(Reading.PLACED, pose.x, pose.y, heading, standstill=ended, standstill_count=count,
                            standstill_since=since)
        if not self._still:
            self._still_since = (pose.t, pose.utc)
        self._still.append((pose.x, pose.y, heading))
        self._still_last = pose
        if len(self._still) < self.window:
            return PoseRead(Reading.SETTLING)
        x, y, heading = self._mean()
        return PoseRead(Reading.PLACED, x, y, heading, fixes=max(len(self._still) - 1, 1), since=self._still_since)

    def _mean(self) -> tuple[float, float, float]:
        n = len(self._still)
        xs, ys, headings = zip(*self._still)
        return sum(xs) / n, sum(ys) / n, mean_heading(headings)

    def _end_standstill(self) -> tuple[Pose | None, int, tuple[float, datetime] | None]:
        """The standstill is over: where it stood if it was never placed (too few fixes), what that
        mean counts for (``PoseRead.fixes``) and since when it stood there; else (None, 0, None)."""
        short = self._still and len(self._still) < self.window and self._still_last is not None
        ended, count, since = None, 0, None
        if short:
            x, y, heading = self._mean()
            ended = dataclasses.replace(self._still_last, x=x, y=y, heading=heading)
            count, since = max(len(self._still) - 1, 1), self._still_since
        self._still.clear()
        self._still_last = self._still_since = None
        return ended, count, since

    def _body_heading(self, pose: Pose, gear: Gear | None, standstill: bool) -> float | None:
        heading = pose.heading
        if gear != Gear.REVERSE:
            self._reverse_from, self._reverse_cog = None, None
        else:
            self._learn_reverse(pose)
        if heading is None or (self._reverse_cog and standstill):
            # Unknown, or a COG, which means nothing standing: a vehicle does not turn standing.
            return self._heading if standstill else None
        if self._reverse_cog:
            heading = opposite(heading)
        if self._heading is not None and not same_way(heading, self._heading):
            # A body does not turn round between two fixes; a COG heading does, when the
            # direction of travel changes (and the gear signal may come a moment later).
            heading = opposite(heading)
        return heading

    def _learn_reverse(self, pose: Pose) -> None:
        if self._reverse_from is None:
            self._reverse_from = (pose.x, pose.y)
        if self._reverse_cog is not None or pose.heading is None or pose.speed < self.direction_speed:
            return
        if math.dist(self._reverse_from, (pose.x, pose.y)) < self.track_distance:
            return
        self._reverse_cog = same_way(pose.heading, bearing(self._reverse_from, (pose.x, pose.y)))

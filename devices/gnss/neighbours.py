"""What one sentence alone reports, confirmed by the fixes beside it.

Two equal characters lost from one sentence keep its XOR checksum, its format and its layout:
an RMC's ``23.326`` kn and ``359.00``° become ``2.326`` and ``59.00``, an HDT's ``227.43``°
becomes ``7.43``. Where a second sentence of the epoch reports the same quantity (RMC and VTG:
speed and course; a VTG's knots and km/h) the decoder compares the two. What one sentence alone
reports — the speed and course of an RMC without a VTG, the course of a VTG without an RMC, an
HDT's heading — is compared here with the same quantity in the fixes before and after it: no
vehicle changes its speed or turns faster than the track check's bounds
(:mod:`devices.gnss.decoder`, top). A value that could be how the vehicle moved since its
neighbour is confirmed; one that could not goes out unknown (None, counted as
``neighbours_disagree``), never replaced by the neighbour's; one no fix beside it could witness goes out unknown too
(``unwitnessed``). A speed and course come from one
sentence and a lost pair of characters may have taken one from each: they are confirmed or
refused together.

Which of two disagreeing fixes was damaged, the two alone cannot say. So the first witness is
the last fix whose value was confirmed (within ``motion_bounds.MAX_DT``), the second the fix just
before (confirmed or not): a damaged fix is refused, and the one after it is confirmed by the
one before the damage; after a real jump (the project's twin putting its vehicle back at the
start) the fix after the jump is confirmed by the jump's own fix. A fix with no fix within
``motion_bounds.MAX_DT`` before it (a stream's first, the first after a gap or a reconnect) waits for
the next one to witness it: it goes out one epoch late. At a stream's start the layout check
holds it that long anyway.

A heading or course checked against the last fix it was confirmed in is also checked against
the turn of that fix and the one confirmed before it (:func:`could_continue`): a vehicle's turn
rate changes by at most ``motion_bounds.MAX_YAW_ACCEL``, so at 10 Hz a heading may leave its
steady turn by 4° plus four times its noise and rounding (8.0° in all), a course by 4° plus four
times its Doppler noise (16.6° at 5 m/s, 13.5° at 15 m/s; without bound at a standstill). With one
witness (a stream's first fixes, the first after a gap, the fix after a real jump, a fix whose
neighbour goes out unconfirmed) the first-order bound is all there is: 20° for a heading.

So a damaged value that lands within those bounds passes. Of the two equal integer digits an
angle can lose with its layout kept: ``355.xx`` → ``3.xx`` (8°) in a heading, when the vehicle's
turn rate changes the same way; ``353.xx`` → ``5.xx`` (12°), ``344.xx`` → ``3.xx`` (19°) and
``343.xx`` → ``4.xx`` (21°) in a heading only against one witness, in a course also against two
below the speeds where its noise is that small; and ``33x.xx`` → ``x.xx`` (30°) in either against
one witness, in a course also against two when the last is two epochs old. A course at a standstill is not checked (its noise there allows any
turn); a receiver without HDT gives the judge its course as the heading, also standing in a
forward gear (scoring/pose_reading.py), so such damage can turn a standing body. Sending such a
course as unknown would change what the judge does (a moving pose without heading is a fix loss;
a standing one holds the last body heading instead of the standstill's mean course), so it is
not done here.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass

from devices.gnss.motion_bounds import (COURSE_NOISE, HEADING_NOISE, MAX_ACCEL, MAX_DT, MAX_TURN, MAX_YAW_ACCEL,
                                        SPEED_NOISE, TIME_SLACK, turn)
from devices.readings import GnssFix

MOTION, HEADING = "motion", "heading"


@dataclass(slots=True)
class Reported:
    """What a fix reported, with the half unit of each value's last digit sent (its rounding)
    and which of its values no second sentence of its epoch confirmed."""

    t: float | None  # seconds of the receiver's UTC day; None: the receiver sent no time
    speed: float | None = None
    speed_tol: float = 0.0
    course: float | None = None
    course_tol: float = 0.0
    heading: float | None = None
    heading_tol: float = 0.0
    motion_alone: bool = False  # speed and course from one sentence only
    heading_alone: bool = False  # heading from one sentence only (HDT: always)

    def alone(self, group: str) -> bool:
        return self.motion_alone if group == MOTION else self.heading_alone


def _course_noise(speed: float) -> float:
    """A Doppler course's noise at ``speed``: the receiver's speed noise sideways turns it by up
    to atan(noise / speed), 90° at a standstill (where a course means nothing)."""
    return COURSE_NOISE + math.degrees(math.atan2(SPEED_NOISE, max(speed, 0.0)))


def could_follow(a: Reported, b: Reported, group: str) -> bool:
    """True if ``b``'s values of ``group`` could be how the vehicle moved on from ``a``'s."""
    dt = abs(b.t - a.t) + TIME_SLACK  # the twin's values may be a sample old (motion_bounds.TIME_SLACK)
    if group == HEADING:
        if a.heading is None or b.heading is None:
            return False
        return turn(a.heading, b.heading) <= MAX_TURN * dt + 2 * HEADING_NOISE + a.heading_tol + b.heading_tol
    if a.speed is None or b.speed is None:
        return False
    if abs(a.speed - b.speed) > MAX_ACCEL * dt + 2 * SPEED_NOISE + a.speed_tol + b.speed_tol:
        return False
    if a.course is None or b.course is None:
        return True  # receivers leave the course empty at a standstill: the speed decides
    limit = (MAX_TURN * dt + _course_noise(a.speed) + _course_noise(b.speed) + a.course_tol + b.course_tol)
    return turn(a.course, b.course) <= limit


def _angle(rep: Reported, group: str) -> tuple[float, float] | None:
    """The heading (HEADING) or course (MOTION) ``rep`` reported and how far from the truth it may
    be (the receiver's noise and the rounding of its last digit); None without one, or a course
    without the speed its noise depends on."""
    if group == HEADING:
        return None if rep.heading is None else (rep.heading, HEADING_NOISE + rep.heading_tol)
    if rep.course is None or rep.speed is None:
        return None
    return rep.course, _course_noise(rep.speed) + rep.course_tol


def could_continue(before: Reported, last: Reported, b: Reported, group: str) -> bool:
    """True if ``b``'s heading (HEADING) or course (MOTION) could be where the turn from ``before``
    to ``last`` went on to: the turn rate changes by at most ``MAX_YAW_ACCEL``. Values without an
    angle have nothing to compare (True: :func:`could_follow` decides).

    The turn rate of ``before`` → ``last``, carried on to ``b``'s time, predicts ``b``; with the
    second derivative bounded by ``MAX_YAW_ACCEL`` the truth is within ``MAX_YAW_ACCEL``/2 × (t_b −
    t_before) × (t_b − t_last) of that (the remainder of the interpolation through three points),
    and each value's own error enters with the weight it has in the prediction. No time slack:
    a value taken a fixed time early (the twin's last scenario sample) shifts all three alike;
    one that jitters would need it, and the twin reports its values for the epoch's own time."""
    x0, x1, x2 = _angle(before, group), _angle(last, group), _angle(b, group)
    if x0 is None or x1 is None or x2 is None or b.t is None or last.t is None or before.t is None:
        return True
    (a0, n0), (a1, n1), (a2, n2) = x0, x1, x2
    d1, d2 = last.t - before.t, b.t - last.t
    if d1 <= 0 or d2 <= 0:
        return True
    rate = ((a1 - a0 + 180.0) % 360.0 - 180.0) / d1  # the shorter way round: the pair could follow
    r = d2 / d1
    limit = MAX_YAW_ACCEL / 2 * (d1 + d2) * d2 + n2 + (1 + r) * n1 + r * n0
    return turn(a1 + rate * d2, a2) <= limit


def _has(rep: Reported, group: str) -> bool:
    return (rep.speed if group == MOTION else rep.heading) is not None


def _near(a: Reported, b: Reported) -> bool:
    return a.t is not None and b.t is not None and 0 < b.t - a.t <= MAX_DT


class NeighbourWitness:
    """Confirms or refuses each fix's single-sentence values by its neighbours (module doc)."""

    GROUPS = (MOTION, HEADING)

    def __init__(self, counts: Counter) -> None:
        self.counts = counts
        self._last: dict[str, Reported] = {}  # group -> the last fix that reported it, as reported
        self._confirmed: dict[str, Reported] = {}  # group -> the last fix it was confirmed in
        self._before: dict[str, Reported] = {}  # group -> the fix it was confirmed in before that
        self._pending: tuple[GnssFix, Reported] | None = None  # waits for the next fix

    def push(self, fix: GnssFix, rep: Reported) -> list[GnssFix]:
        """One fix (its single-sentence values not yet confirmed); return the fixes now decided,
        in order: the one held for this one to witness, and this one unless it waits."""
        out: list[GnssFix] = []
        if self._pending is not None:
            held, held_rep = self._pending
            self._pending = None
            ahead = rep if _near(held_rep, rep) else None
            out.append(self._decide(held, held_rep, lambda group: None if ahead is None or not _has(ahead, group)
                                    else could_follow(held_rep, ahead, group)))
        witnesses = {group: self._witnesses(rep, group) for group in self.GROUPS if rep.alone(group)}
        if rep.t is not None and not all(witnesses.values()):
            self._pending = (fix, rep)  # nothing near before it: the next fix witnesses it
            return out
        out.append(self._decide(fix, rep, lambda group: any(self._follows(w, rep, group) for w in witnesses[group])
                                if witnesses[group] else None))
        return out

    def flush(self) -> list[GnssFix]:
        """The end of the stream: a fix still waiting has no witness."""
        if self._pending is None:
            return []
        held, held_rep = self._pending
        self._pending = None
        return [self._decide(held, held_rep, lambda group: None)]

    def _follows(self, witness: Reported, rep: Reported, group: str) -> bool:
        """True if ``rep``'s values of ``group`` could follow ``witness``'s; after the last
        confirmed value, its heading or course also the turn of the two confirmed before it
        (:func:`could_continue`), if they are near and could follow each other (not across a
        real jump, where the first witness is all there is)."""
        if not could_follow(witness, rep, group):
            return False
        before = self._before.get(group)
        if witness is not self._confirmed.get(group) or before is None or not _near(before, witness):
            return True
        # Whether the two could follow each other matters only when the turn does not go on.
        return could_continue(before, witness, rep, group) or not could_follow(before, witness, group)

    def _witnesses(self, rep: Reported, group: str) -> list[Reported]:
        """The last fix ``group`` was confirmed in, and the last that reported it (confirmed or
        not), if near enough. (The last that reported it, not just the fix before: a receiver may
        send its speed at 1 Hz beside positions at 10 Hz.)"""
        confirmed, last = self._confirmed.get(group), self._last.get(group)
        found = [confirmed] if confirmed is not None and _near(confirmed, rep) else []
        if last is not None and last is not confirmed and _near(last, rep):
            found.append(last)
        return found

    def _decide(self, fix: GnssFix, rep: Reported, confirmed) -> GnssFix:
        """``fix`` with each single-sentence group it reports kept if ``confirmed(group)`` (True;
        False: a witness contradicts it, ``neighbours_disagree``; None: no witness came,
        ``unwitnessed``); it becomes the last fix that reported them."""
        changes = {}
        for group in self.GROUPS:
            if not rep.alone(group):
                if _has(rep, group):
                    self._confirm(group, rep)  # confirmed within its epoch
                continue
            verdict = confirmed(group)
            if verdict:
                self._confirm(group, rep)
                self.counts["neighbours_confirm"] += 1
                continue
            self.counts["unwitnessed" if verdict is None else "neighbours_disagree"] += 1
            changes.update({"speed": None, "course": None} if group == MOTION else {"heading": None})
        self._last.update({group: rep for group in self.GROUPS if _has(rep, group)})
        return dataclasses.replace(fix, **changes) if changes else fix

    def _confirm(self, group: str, rep: Reported) -> None:
        """``rep`` is the last fix ``group`` was confirmed in; the one before it moves back."""
        if group in self._confirmed:
            self._before[group] = self._confirmed[group]
        self._confirmed[group] = rep

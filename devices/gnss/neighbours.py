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
start) the fix after the jump is confirmed by the jump's own fix.

A heading or course checked against the last fix it was confirmed in is also checked against
the turn of that fix and the one confirmed before it (:func:`could_continue`): a vehicle's turn
rate changes by at most ``motion_bounds.MAX_YAW_ACCEL``, so at 10 Hz a heading may leave its
steady turn by 4° plus four times its noise and rounding (8.0° in all), a course by 4° plus four
times its Doppler noise (16.6° at 5 m/s, 13.5° at 15 m/s; without bound at a standstill).

**Between its neighbours (issue 12, tenth session).** Carrying a turn on is loose; placing a value
between the fixes before and after it is twice as tight: on the turn through the two, the
truth is within ``MAX_YAW_ACCEL``/2 × 0.1 s × 0.1 s = 2° at 10 Hz, so a heading may be 4.0° off
it in all, a course 2° plus its Doppler noise and the mean of its neighbours' (8.3° at 5 m/s,
7.2° at 10 m/s, 6.8° at 15 m/s; :func:`on_turn`). The least an angle moves when two equal
integer digits are lost is 8° (``355.xx`` → ``3.xx``). So a heading, or a course at a speed
beyond its noise (``SPEED_NOISE``), that does not continue the turn of the two confirmed just
before it to within ``motion_bounds.STEADY`` (4°: what the turn rate's change alone allows,
without the noise; damage lands further off) waits for the next fix, one epoch (100 ms at 10 Hz),
and is refused if it is off the turn through the last confirmed value and the next, where those
two could follow each other (``next_fix_disagrees``, also counted in ``neighbours_disagree``).
A value that continues its turn goes out at once: the fuzz harness's honest values always do, the
twin's but where a script joins a straight to an arc (39 of 6,932 headings in its 13 scenarios
wait, none is refused: a step of the turn rate puts the truth at most 3.7° off the turn between);
a real receiver's noise may hold one an epoch. At a standstill nothing waits.
A fix with no fix within ``motion_bounds.MAX_DT`` before it (a stream's first, the first after
a gap or a reconnect) waits for the next to witness it and, where it can be checked so, for the
one after that: the turn through those two, carried back, must reach it (8.0° for a heading).
The fix after it, with one witness, waits for the next too. At a stream's start the layout check
holds the first two that long anyway. A value refused so may cost the one before it, checked
between it and the damage (which of the two is wrong, the two cannot say), and at a stream's
start also the first.

A value that waits and gets no fix after it within ``MAX_DT`` (the last of a replayed capture,
the one before a gap; live, a reconnect drops it) goes out unknown (``unwitnessed``): nothing
could place it between its neighbours (eleventh session; before, the fixes before it decided,
and a stream's last damaged value passed). A value that continues its turn does not wait and
is not touched by this.

What still passes: a course 8° off (``355.xx`` → ``3.xx``) below about 6 m/s, where its
Doppler noise makes the bound between its neighbours wider (12° below 1.9 m/s, 19° below
0.9 m/s, 30° below 0.5 m/s); damage that lands within ``STEADY`` of the turn because the
vehicle's own departure from it (at ``MAX_YAW_ACCEL``, with noise) took it the other way; two
damaged values in a row. A course at or below ``SPEED_NOISE`` is not checked between its
neighbours (its noise there allows nearly any turn), and at a standstill not at all. Such a
course is no heading either: the judge never gets it (``motion_bounds.course_is_direction``,
examroom.live.observing.pose_from_fix), so damage to it turns no body.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass

from devices.gnss.motion_bounds import (COURSE_NOISE, HEADING_NOISE, MAX_ACCEL, MAX_DT, MAX_TURN, MAX_YAW_ACCEL,
                                        SPEED_NOISE, STEADY, TIME_SLACK, course_is_direction, turn)
from devices.readings import GnssFix

MOTION, HEADING = "motion", "heading"
AHEAD = "ahead"  # a verdict: the fixes after a value contradict it


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


def on_turn(p: Reported, q: Reported, x: Reported, group: str) -> bool:
    """True if ``x``'s heading (HEADING) or course (MOTION) could lie on the vehicle's turn through
    ``p``'s and ``q``'s, at any three distinct times: between them (the fix after ``x`` known), or
    beyond them on either side. Values without an angle have nothing to compare (True:
    :func:`could_follow` decides).

    The line through ``p`` and ``q`` (the turn at a steady rate, the shorter way round: the pair
    could follow) predicts ``x``; with the second derivative bounded by ``MAX_YAW_ACCEL`` the truth
    is within ``MAX_YAW_ACCEL``/2 × |(t_x − t_p)(t_x − t_q)| of that (the remainder of the
    interpolation through three points), and each value's own error enters with the weight it has
    in the prediction. Between two fixes one epoch either side this is 2° at 10 Hz, half of
    the bound beyond them. No time slack: a value taken a fixed time early (the twin's last
    scenario sample) shifts all three alike; one that jitters would need it, and the twin reports
    its values for the epoch's own time."""
    off = _off_turn(p, q, x, group)
    return off is None or off[0] <= off[1]


def _off_turn(p: Reported, q: Reported, x: Reported, group: str) -> tuple[float, float] | None:
    """(how far ``x``'s angle is from the turn through ``p``'s and ``q``'s, the bound of
    :func:`on_turn`), or None when there is nothing to compare."""
    xp, xq, xx = _angle(p, group), _angle(q, group), _angle(x, group)
    if xp is None or xq is None or xx is None or p.t is None or q.t is None or x.t is None:
        return None
    (ap, np_), (aq, nq), (ax, nx) = xp, xq, xx
    span = q.t - p.t
    if span == 0 or x.t == p.t or x.t == q.t:
        return None
    wq = (x.t - p.t) / span  # the weights of q's and p's values in the prediction
    wp = 1.0 - wq
    predicted = ap + ((aq - ap + 180.0) % 360.0 - 180.0) * wq
    limit = MAX_YAW_ACCEL / 2 * abs((x.t - p.t) * (x.t - q.t)) + nx + abs(wp) * np_ + abs(wq) * nq
    return turn(predicted, ax), limit


def could_continue(before: Reported, last: Reported, b: Reported, group: str) -> bool:
    """True if ``b``'s heading (HEADING) or course (MOTION) could be where the turn from ``before``
    to ``last`` went on to: the turn rate changes by at most ``MAX_YAW_ACCEL``
    (:func:`on_turn`, ``b`` after the two). Values without an angle, or out of time order, have
    nothing to compare (True: :func:`could_follow` decides)."""
    if b.t is None or last.t is None or before.t is None or not before.t < last.t < b.t:
        return True
    return on_turn(before, last, b, group)


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
        # Fixes not decided yet, in order, each a fix apart from the next (_near): the oldest waits
        # for the fixes after it, the others for it.
        self._queue: list[tuple[GnssFix, Reported]] = []

    def push(self, fix: GnssFix, rep: Reported) -> list[GnssFix]:
        """One fix (its single-sentence values not yet confirmed); return the fixes now decided,
        in order: those held for this one to witness, and this one unless it waits."""
        queue = self._queue
        out = self._advance(end=True) if queue and not _near(queue[-1][1], rep) else []
        queue.append((fix, rep))  # (after a gap, a reconnect or without a time: nothing near waits)
        return out + self._advance()

    def flush(self) -> list[GnssFix]:
        """The end of the stream: the fixes still waiting are decided by what came (a fix with
        no fix near before or after it has no witness)."""
        return self._advance(end=True)

    def _advance(self, end: bool = False) -> list[GnssFix]:
        """Decide the waiting fixes, oldest first, up to one that still waits for the fixes after
        it (``end``: none will come, decide them all)."""
        out: list[GnssFix] = []
        queue = self._queue
        while queue:
            fix, rep = queue[0]
            checks, wanted = {}, 0
            for group in self.GROUPS:
                if rep.alone(group):
                    checks[group] = check = self._look_back(rep, group)
                    wanted = max(wanted, check[2])
            if not end and len(queue) - 1 < wanted:
                break
            del queue[0]
            ahead = [r for _, r in queue[:2]]
            out.append(self._decide(fix, rep, {group: self._verdict(rep, group, check, ahead)
                                               for group, check in checks.items()}))
        return out

    def _look_back(self, rep: Reported, group: str) -> tuple[list[Reported], bool | None, int]:
        """``rep``'s values of ``group`` against the fixes before it: its witnesses, whether it
        could follow one of them (None: none near), and how many fixes after it it waits for.

        A value checked between its neighbours (a heading; a course where a speed beyond its
        noise gives it a meaning: at a standstill nothing waits) waits for the next fix unless it
        continues the turn of the two confirmed just before it to within ``STEADY`` (what the turn
        rate's change alone allows at 10 Hz): damage moves an angle further than that. A value
        with no fix near before it waits for the next, and for the one after that if it can be
        checked by their turn."""
        if rep.t is None:
            return [], None, 0  # no time to find a neighbour by
        behind = self._witnesses(rep, group)
        between = group == HEADING or (rep.course is not None and course_is_direction(rep.speed))
        if not behind:
            return behind, None, 1 + between
        for w in behind:
            follows, off = self._follows(w, rep, group)
            if follows:
                # Steady: it continues the turn of the last two confirmed, the last also the last
                # reported (no refused value between). Across an epoch without the value the turn
                # allows more than STEADY: more values wait, none is refused for it.
                steady = off is not None and off <= STEADY and w is self._last.get(group)
                return behind, True, int(between and not steady)
        return behind, False, 0  # refused whatever comes after it

    def _follows(self, witness: Reported, rep: Reported, group: str) -> tuple[bool, float | None]:
        """Whether ``rep``'s values of ``group`` could follow ``witness``'s; after the last
        confirmed value, its heading or course also the turn of the two confirmed before it
        (:func:`could_continue`), if they are near and could follow each other (not across a
        real jump, where the first witness is all there is); and how far it is from that turn
        (None: not compared)."""
        if not could_follow(witness, rep, group):
            return False, None
        before = self._before.get(group)
        if witness is not self._confirmed.get(group) or before is None or not _near(before, witness) \
                or not before.t < witness.t < rep.t:
            return True, None
        off = _off_turn(before, witness, rep, group)
        if off is None:
            return True, None
        # Whether the two could follow each other matters only when the turn does not go on.
        if off[0] <= off[1]:
            return True, off[0]
        return not could_follow(before, witness, group), None

    def _verdict(self, rep: Reported, group: str, check: tuple, ahead: list[Reported]) -> bool | str | None:
        """True: ``rep``'s values of ``group`` could be how the vehicle moved between the fixes
        before it (``check``: :meth:`_look_back`) and after it (``ahead``: up to two); False: a
        witness before it contradicts it; AHEAD: the fixes after it do; None: no fix near could
        witness it."""
        behind, back, waits = check
        after = [a for a in ahead if _has(a, group)]
        if not behind:
            # Nothing before it: the next fix is its witness, and the turn through the two after
            # it, carried back, where those two could follow each other.
            if not after:
                return None
            if not could_follow(rep, after[0], group):
                return False
            if len(after) > 1 and could_follow(after[0], after[1], group) \
                    and not on_turn(after[0], after[1], rep, group):
                return AHEAD
            return True
        if not back:
            return False
        if waits and not after:
            return None  # it did not continue its turn and no fix after it came to place it
        if after:
            # Between the last confirmed value (none near: the last reported) and the next, where
            # those two could follow each other (not across a real jump): a value further off
            # their turn than its change and the noise allow was not sent so.
            w = behind[0]
            if could_follow(w, after[0], group) and not on_turn(w, after[0], rep, group):
                return AHEAD
        return True

    def _witnesses(self, rep: Reported, group: str) -> list[Reported]:
        """The last fix ``group`` was confirmed in, and the last that reported it (confirmed or
        not), if near enough. (The last that reported it, not just the fix before: a receiver may
        send its speed at 1 Hz beside positions at 10 Hz.)"""
        confirmed, last = self._confirmed.get(group), self._last.get(group)
        found = [confirmed] if confirmed is not None and _near(confirmed, rep) else []
        if last is not None and last is not confirmed and _near(last, rep):
            found.append(last)
        return found

    def _decide(self, fix: GnssFix, rep: Reported, confirmed: dict) -> GnssFix:
        """``fix`` with each single-sentence group it reports kept if ``confirmed[group]`` (True;
        False: a witness before it contradicts it, ``neighbours_disagree``; AHEAD: the fixes after
        it do, ``neighbours_disagree`` and ``next_fix_disagrees``; None: no witness came,
        ``unwitnessed``); it becomes the last fix that reported them."""
        changes = {}
        for group in self.GROUPS:
            if not rep.alone(group):
                if _has(rep, group):
                    self._confirm(group, rep)  # confirmed within its epoch
                continue
            verdict = confirmed[group]
            if verdict is True:
                self._confirm(group, rep)
                self.counts["neighbours_confirm"] += 1
                continue
            if verdict == AHEAD:
                self.counts["next_fix_disagrees"] += 1
            self.counts["unwitnessed" if verdict is None else "neighbours_disagree"] += 1
            changes.update({"speed": None, "course": None} if group == MOTION else {"heading": None})
        self._last.update({group: rep for group in self.GROUPS if _has(rep, group)})
        return dataclasses.replace(fix, **changes) if changes else fix

    def _confirm(self, group: str, rep: Reported) -> None:
        """``rep`` is the last fix ``group`` was confirmed in; the one before it moves back."""
        if group in self._confirmed:
            self._before[group] = self._confirmed[group]
        self._confirmed[group] = rep

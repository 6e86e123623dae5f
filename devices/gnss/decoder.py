"""NMEA 0183 decoder: verified sentences -> one :class:`GnssFix` per epoch.

A receiver reports one *epoch* (one position solution) as several sentences:
GGA (position, fix quality, satellites, HDOP, altitude, age of corrections),
RMC (position, speed over ground in knots, course), VTG (course and speed),
HDT (true heading from a dual-antenna receiver). Sentences are parsed with
pynmea2; this module only groups them and converts units.

Grouping, and its pitfalls:

* GGA and RMC carry the UTC time of the epoch; sentences with the same time
  belong together. VTG and HDT carry no time: they are attached to the epoch
  that is open when they arrive.
* An epoch is emitted as soon as its *last* sentence arrives (``epoch_end``,
  default ``"GGA"``: the simulated twin and u-blox receivers send RMC, VTG,
  (HDT), GGA). Without that, the only sign that an epoch is complete is the
  first sentence of the next one, which costs a whole epoch of latency
  (100 ms at 10 Hz). When a timed sentence with a *different* time arrives,
  the open epoch is emitted anyway (fallback; ``epoch_end=None`` uses only
  this rule, for receivers with another order).
* A timed sentence for an epoch that was already emitted (a receiver that
  sends GGA *before* RMC, with ``epoch_end="GGA"``) is counted as ``late``
  and ignored: a fix is never emitted twice. Configure ``epoch_end`` to the
  receiver's real last sentence.
* Multi-constellation receivers use talker ids GP, GN (combined), BD/GB
  (BeiDou), GL (GLONASS), GA (Galileo). Some send one GGA per system with the
  same time (GPGGA then GLGGA); the first closes the epoch, the rest are late.
* An epoch without a position (GGA quality 0, RMC status V: no fix yet,
  common after power-on or under trees) produces no fix: it is counted in
  ``no_fix_epochs`` and shows in health as ``fix_quality = 0``. A fix
  reading always has a real position.
* pynmea2 is lenient: when a field does not convert (``int("x")``) it returns
  the raw string instead of raising, and it converts ``.70``, ``08000.10``
  or ``3000.000600`` as if a receiver could send them. Every used sentence
  must therefore have the NMEA 0183 format of its type, field by field and
  in its number of fields, and the layout this receiver writes (the
  decimals of every number), confirmed by three sentences of that type
  (:mod:`devices.gnss.layout`): a stream's first two epochs (and the first
  with a position after a stretch without one) are held until the third
  confirms them, so they go out late. A sentence that fails is counted as
  ``malformed`` (``layout_changed`` for the layout) and dropped, never
  half-used; values are range-checked as well (latitude > 90, minutes ≥ 60).
  This is what catches damage the 8-bit XOR misses (two equal characters
  lost from one sentence).
* ``epoch_end="auto"`` starts with the time-change rule and adopts the type
  that ended the last three epochs as ``epoch_end`` (RMC for a receiver that
  sends GGA, RMC; VTG for GGA, RMC, VTG). Until then fixes lag one epoch.
* VTG and HDT carry no time, so when the timed sentences around an epoch
  boundary are lost they could be attached to the wrong epoch. A second VTG
  (or HDT) for an epoch that already has one closes that epoch first; it is
  counted as ``boundary_by_repeat``. What remains ambiguous (the one VTG/HDT
  between two epochs that both lost their GGA and the next one its RMC) can
  give a fix its neighbour's heading. So the decoder learns the sentence
  order from three intact epochs in a row (ended by ``epoch_end``, same
  order; RMC, VTG, HDT, GGA for the twin and u-blox) and then: a VTG/HDT
  out of that order (or a repeat) marks a lost boundary and closes the open
  epoch (``boundary_by_order``); a VTG/HDT that would open an epoch whose
  timed first sentence was lost is ``orphaned``, not used; and VTG/HDT that
  came before the first timed sentence of an epoch with a lost boundary are
  dropped (``ambiguous``) while its position is kept. Arrival timing is *not*
  used: at 38400 baud a 10 Hz epoch of ~300 bytes takes 78 ms to arrive,
  so the idle gap between epochs is too short to tell bursts apart.
  When the last sentences of one epoch *and* the first of the next are all
  lost, the surviving VTG/HDT could sit in the wrong epoch (its heading and
  speed one period off); the intact-stretch rule below refuses it.
* GGA and RMC of one epoch both carry the position, RMC and VTG the speed
  and course, VTG its speed in knots and in km/h; when they disagree
  (beyond the coarser one's last digit) the epoch is dropped as
  ``inconsistent_epochs`` (a VTG whose two speeds disagree is
  ``malformed``): a digit lost from the integer part of two numbers keeps
  the XOR, the formats and the layout, but not this agreement. An RMC with
  no VTG beside it has nothing to contradict such a pair (``23.326`` kn and
  ``359.00`` to ``2.326`` and ``59.00``) within its epoch: the track and the neighbouring
  fixes do (below).
  While ``epoch_end="auto"`` learns the order no VTG is placed in an epoch,
  so an RMC with a speed is held until the VTG just before it or the next
  one agrees with it (``rmc_unconfirmed`` when neither does; in a stream
  without VTG, until the next RMC).
* What nothing in the sentences can contradict, the track can (``_track_disagrees``, bounds in
  :mod:`devices.gnss.motion_bounds`): when this receiver's previous fix is one epoch before
  (by the UTC times: not the first fix, not after a gap or a reconnect) and both are RTK fixed
  (±2 cm), and the vehicle moved at least 10× that, a reported speed lower than the track's by
  more than a vehicle's braking in one epoch plus noise is not confirmed, nor the course that
  came with it: the fix goes out with neither (``track_disagrees``; counted as a fix without
  speed, as an epoch without RMC or VTG is). A course further from the track's direction than a
  vehicle turns in one epoch plus noise is counted (``track_course_differs``), not refused: the
  twin's course is its vehicle's heading, not its antenna's. No value is ever taken from the
  track. Fixes that are not RTK fixed are not checked
  (their positions wander by decimetres to metres between epochs).
* What one sentence alone reports (an RMC's speed and course without a VTG, a VTG's course
  without an RMC, every HDT heading) is compared with the fixes beside it
  (:mod:`devices.gnss.neighbours`): a value no vehicle could reach from its neighbour within the
  same bounds, or a heading or course that leaves the turn of the two confirmed before it faster
  than a vehicle's turn rate changes (``MAX_YAW_ACCEL``), goes out unknown
  (``neighbours_disagree``). This covers what the track check skips
  (float and autonomous fixes, the first fix, after a gap) and the heading, which nothing else
  reports twice. A heading or moving course that does not continue its turn to within
  ``motion_bounds.STEADY`` waits one epoch and must lie on the turn through the fixes before and
  after it (``next_fix_disagrees``); a fix with no fix within a second before it waits for the
  next and, where their turn can check it, the one after.
* With ``epoch_end="auto"``, a type the learnt order lacks (refused all through the learning, or
  a receiver reconfigured to send it) that comes in three epochs in a row makes the order out of
  date: it is learnt again (``order_relearned``), from the arrival bursts. (A type sent at a
  lower rate, RMC at 1 Hz beside GGA at 10 Hz, is never in an order and does not.)
* A VTG or HDT (no time) is tied to its epoch only if no bytes were lost
  between it and one of the epoch's GGA/RMC (the framer reports where it
  dropped bytes); across a loss the sentences that marked the boundary may
  be gone, and it may be the neighbour epoch's. It is then not used
  (``untimed_across_damage``): the fix goes out without that speed or
  heading.
* Other sentence types (GSV, GSA, GLL, ZDA, proprietary $P...) are counted
  as ``ignored``: they are valid, just not needed.

A fix is stamped with the ``mono``/``utc`` given with the sentence that
completed it (its arrival), or, with a ``timing`` (the driver gives its
:class:`~devices.gnss.epoch_clock.EpochClock`), with the local time of its
receiver epoch.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import datetime

import pynmea2

from devices.gnss.epoch_clock import EpochClock, LogClock, day_number
from devices.gnss import motion_bounds as bound
from devices.gnss.epoch_order import EpochOrderLearner
from devices.gnss.layout import SentenceLayouts, signature, well_formed
from devices.gnss.neighbours import NeighbourWitness, Reported
from devices.readings import GnssFix

KNOT = 1852.0 / 3600.0  # m/s
TALKERS = ("GP", "GN", "BD", "GB", "GL", "GA")
USED_TYPES = ("GGA", "RMC", "VTG", "HDT")
WITNESS = "witness"  # a held RMC waiting for a VTG to confirm its speed and course (order learning)
# A type the learnt order lacks, used in this many epochs in a row, makes the order learnt again.
RELEARN_EPOCHS = 3
HOLD_MAX = 40  # sentences held back for a layout to be confirmed before the oldest is refused
# NMEA 2.3+ RMC mode indicator -> GGA quality, for an epoch with RMC but no GGA.
_RMC_MODE_QUALITY = {"A": 1, "D": 2, "P": 3, "R": 4, "F": 5, "E": 6, "M": 7, "S": 8}


_M_PER_DEG = 6371000.0 * math.pi / 180.0


def _displacement(prev: tuple, position: tuple) -> tuple[float, float, float]:
    """(north, east, distance) in metres from ``prev`` to ``position`` (degrees; a local plane is
    exact enough over the metres of one epoch)."""
    north = (position[0] - prev[0]) * _M_PER_DEG
    east = (position[1] - prev[1]) * _M_PER_DEG * math.cos(math.radians(position[0]))
    return north, east, math.hypot(north, east)


def _track_disagrees(d: float, dt: float, noise: float, speed: float | None, speed_tol: float) -> bool:
    """True if the reported speed cannot be how the vehicle moved ``d`` metres in ``dt`` seconds
    (both fixes with position noise ``noise``); False when the displacement is too short (or too
    long) to tell."""
    if d < bound.MIN_FACTOR * noise:
        return False  # the noise could point it anywhere, and a slow vehicle turns on the spot
    track_speed = d / dt
    if track_speed > bound.MAX_SPEED:
        return False  # a position jump (or the twin putting a vehicle back at its start): no track
    if speed is not None:
        # One-sided: a digit lost from a number makes it smaller, and a twin whose scenario
        # stalled shows a short track. Braking within the epoch, the noise of both ends, the
        # receiver's own noise and rounding, and the position's time slack (it scales the track).
        tol = (bound.MAX_ACCEL * dt + 2 * noise / dt + bound.SPEED_NOISE + speed_tol
               + max(track_speed, speed) * bound.TIME_SLACK / dt)
        if speed < track_speed - tol:
            return True
    return False


def _track_turns_away(north: float, east: float, d: float, dt: float, noise: float, course: float | None,
                      course_tol: float) -> bool:
    """True if the reported course is further from the track's direction than a vehicle turns in
    ``dt`` plus noise. Counted, not refused: the project's twin reports its vehicle's heading as
    the course while its antenna sits off the tracked point, so in turns its track runs up to 30°
    from that course (examroom/simulation/script.py, ``antenna``); a real receiver's course is
    its antenna's."""
    if course is None or d < bound.MIN_FACTOR * noise or d / dt > bound.MAX_SPEED:
        return False
    track = math.degrees(math.atan2(east, north)) % 360.0
    diff = bound.turn(course, track)
    # The chord of a turn points half the turn (over the epoch, and the time slack) behind the
    # course at its end; the noise of both ends turns it by up to asin(2 noise / d).
    tol = (bound.MAX_TURN * (dt / 2 + bound.TIME_SLACK) + math.degrees(math.asin(min(1.0, 2 * noise / d)))
           + bound.COURSE_NOISE + course_tol)
    return diff > tol


class Malformed(ValueError):
    """A sentence that passed the checksum but holds impossible values."""


def _float(value, lo: float = -math.inf, hi: float = math.inf) -> float | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise Malformed(f"not a number: {value!r}") from None
    if not (lo <= f <= hi) or math.isnan(f):
        raise Malformed(f"out of range: {value!r}")
    return f


def _int(value, lo: int, hi: int) -> int | None:
    if value is None or value == "":
        return None
    try:
        i = int(value)
    except (TypeError, ValueError):
        raise Malformed(f"not an integer: {value!r}") from None
    if not lo <= i <= hi:
        raise Malformed(f"out of range: {value!r}")
    return i


def _position(raw: tuple) -> tuple[float, float] | None:
    """Degrees from the raw (lat, N/S, lon, E/W) fields, whose format is already checked."""
    lat, lat_dir, lon, lon_dir = raw
    if not lat or not lon:
        return None
    if lat_dir not in ("N", "S") or lon_dir not in ("E", "W"):
        raise Malformed("bad hemisphere")
    if lat[2] > "5" or lon[3] > "5":  # ddmm.mm, dddmm.mm: minutes >= 60
        raise Malformed("minutes out of range")
    if "." not in lat or "." not in lon:
        raise Malformed("no decimals")  # as pynmea2's dm_to_sd, which this is without its regex
    lat_deg = float(lat[:2]) + float(lat[2:]) / 60
    lon_deg = float(lon[:3]) + float(lon[3:]) / 60
    if not (lat_deg <= 90 and lon_deg <= 180):
        raise Malformed("position out of range")
    return (-lat_deg if lat_dir == "S" else lat_deg), (-lon_deg if lon_dir == "W" else lon_deg)


_day = lru_cache(maxsize=4)(day_number)  # one date a day: not a calendar look-up per sentence


def _half_unit(raw: str) -> float:
    """Half a unit of the last digit of a number as sent (``0.214`` -> 0.0005)."""
    dot = raw.find(".")
    return 0.5 * 10.0 ** -(len(raw) - dot - 1 if dot >= 0 else 0)


def _agree(a: float | None, a_tol: float, b: float | None, b_tol: float, circle: bool = False) -> bool:
    """Two reports of one quantity agree to their last digits (or one is missing)."""
    if a is None or b is None:
        return True
    d = bound.turn(a, b) if circle else abs(a - b)
    return d <= a_tol + b_tol + 1e-9


def _rmc_agrees(rmc: dict, vtg: dict) -> bool:
    """An RMC's and a VTG's speed and course agree to their last digits."""
    return _agree(rmc["speed"] * KNOT if rmc["speed"] is not None else None, rmc["speed_tol"],
                  vtg["speed"], vtg["speed_tol"]) \
        and _agree(rmc["course"], rmc["course_tol"], vtg["course"], vtg["course_tol"], circle=True)


def _same_position(a: tuple, b: tuple) -> bool:
    """GGA and RMC positions (raw ddmm.mmm fields) agree to the coarser one's last digit."""
    if a[1] != b[1] or a[3] != b[3]:
        return False
    for x, y in ((a[0], b[0]), (a[2], b[2])):
        if x == y:
            continue
        decimals = min(len(x.partition(".")[2]), len(y.partition(".")[2]))
        if abs(float(x) - float(y)) > 0.5 * 10 ** -decimals + 1e-12:
            return False
    return True


def _time_key(raw: str):
    """Epoch key from hhmmss[.sss]; None when the receiver left it empty."""
    if not raw:
        return None
    try:
        t = pynmea2.nmea_utils.timestamp(raw)
    except (ValueError, IndexError):
        raise Malformed(f"bad time {raw!r}") from None
    return (t.hour, t.minute, t.second, t.microsecond)


def _seconds(key: tuple | None) -> float | None:
    """Seconds of the UTC day from an epoch key."""
    if key is None:
        return None
    h, m, sec, us = key
    return h * 3600 + m * 60 + sec + us / 1e6


@dataclass
class _Epoch:
    key: tuple | None = None
    time_raw: str | None = None
    talker: str | None = None
    gga: dict | None = None
    rmc: dict | None = None
    vtg: dict | None = None
    hdt: tuple[float, float] | None = None  # (heading, half a unit of its last digit sent)
    timed: bool = False  # has a GGA or RMC
    last_type: str | None = None  # last used sentence type pushed into it
    types: list = field(default_factory=list)  # used sentence types, in arrival order
    untimed_first: bool = False  # VTG/HDT arrived before its first timed sentence
    # Stretches of intact stream (see NmeaEpochDecoder._damage) its timed sentences arrived in,
    # and those of its VTG and HDT: an untimed sentence is used only if it shares one.
    stretches: set = field(default_factory=set)
    vtg_stretch: int = -1
    hdt_stretch: int = -1

    def empty(self) -> bool:
        return not (self.gga or self.rmc or self.vtg or self.hdt is not None)


@dataclass
class GnssStatus:
    """What the receiver said last, for health, even when there is no fix."""

    fix_quality: int | None = None
    satellites: int | None = None
    hdop: float | None = None
    correction_age: float | None = None
    # Fixes in a row without a speed (no RMC or VTG in their epoch): a receiver that never
    # sends one is misconfigured, and a missing speed is never reported as 0.
    speed_missing_streak: int = 0
    counts: Counter = field(default_factory=Counter)


class NmeaEpochDecoder:
    """Groups verified NMEA sentences into GnssFix readings (see module doc)."""

    def __init__(self, device: str, epoch_end: str | None = "GGA",
                 talkers: tuple[str, ...] = TALKERS,
                 timing: EpochClock | LogClock | None = None) -> None:
        if epoch_end is not None and epoch_end != "auto" and epoch_end not in USED_TYPES:
            raise ValueError(f"epoch_end must be one of {USED_TYPES}, 'auto' or None")
        self.device = device
        self._auto = epoch_end == "auto"
        self.epoch_end = None if self._auto else epoch_end
        self._learn: tuple[str | None, int] = (None, 0)
        self._order_seen: tuple[tuple, int] = ((), 0)  # sentence order of clean epochs, streak
        self._order: tuple[str, ...] = ()  # learned: the order every clean epoch has
        self.talkers = tuple(talkers)
        self.timing = timing
        self.status = GnssStatus()
        self._cur = _Epoch()
        self._closed_key = None
        self._layouts = SentenceLayouts()
        # Sentences held back until their layout is confirmed, in stream order, with the places
        # where the stream was damaged: [verdict, parsed, mono, utc] or ["damage"].
        self._held: list[list] = []
        self._stretch = 0  # the intact stretch of stream now arriving (+1 at each damage)
        self._arrivals = 0  # the same, counted as sentences arrive (not as they are released)
        self._last_vtg: tuple | None = None  # while learning: (VTG data, arrival stretch)
        self._vtg_seen = False
        self.learned_order: tuple[str, ...] | None = None
        self._learner: EpochOrderLearner | None = EpochOrderLearner() if self._auto else None
        # The last fix (seconds of its UTC day, position, quality) and the shortest interval
        # between fixes seen: the receiver's epoch period (the track check).
        self._prev_fix: tuple | None = None
        self._period: float | None = None
        self._neighbours = NeighbourWitness(self.status.counts)
        self._epochs = 0  # epochs closed: when a type the learnt order lacks came
        self._missing: dict[str, tuple[int, int]] = {}  # type the order lacks -> (epoch, epochs in a row)

    @property
    def counts(self) -> Counter:
        return self.status.counts

    @property
    def malformed(self) -> int:
        return self.status.counts["malformed"]

    def reset(self) -> None:
        """Forget the open epoch (port re-opened: its sentences may be incomplete)."""
        self._cur = _Epoch()
        self._closed_key = None
        self._layouts, self._held = SentenceLayouts(), []
        self._stretch += 1
        if self._auto:  # possibly another receiver, or reconfigured: learn again
            self._forget_order()
        self._order_seen, self._order = ((), 0), ()
        self._prev_fix, self._period = None, None  # no track across a reconnect
        # Fixes waiting for the fixes after them (their witnesses): none comes across a reconnect,
        # and the port's fault already stands for what is lost with them.
        self.status.counts["unwitnessed_at_reconnect"] += len(self._neighbours.flush())
        self._neighbours = NeighbourWitness(self.status.counts)

    def _forget_order(self) -> None:
        """epoch_end="auto": learn the receiver's order (again)."""
        self._missing = {}
        self.epoch_end, self._learn = None, (None, 0)
        self._learner, self.learned_order = EpochOrderLearner(), None
        self._last_vtg, self._vtg_seen = None, False
        self._order_seen, self._order = ((), 0), ()

    def push(self, sentence: str, mono: float, utc: datetime) -> list[GnssFix]:
        """Decode one sentence the framer verified (checksum included); return the fixes it
        completed (0, 1 or more)."""
        parsed = self._parse(sentence)
        if parsed is None:
            return []
        kind, sig = parsed[0], parsed[-1]
        verdict = SentenceLayouts.OK if sig is None else self._layouts.check(kind, sig)
        if verdict == SentenceLayouts.BAD:
            self._arrivals += 1
            self._refuse_layout()
            return []
        if kind in ("RMC", "VTG") and (self._learner is not None or self._held):
            verdict = self._witness(kind, parsed[2], verdict)
        if not self._held:
            if verdict == SentenceLayouts.OK:
                return self._use(parsed, mono, utc)
            if verdict == SentenceLayouts.NEW:
                self._layouts.observe(kind, sig)
            self._held.append([verdict, parsed, mono, utc, self._arrivals])
            return []
        return self._hold(parsed, verdict, mono, utc)

    def _hold(self, parsed: tuple, verdict: str, mono: float, utc: datetime) -> list[GnssFix]:
        """Sentences are held back: this one votes on the layout of its type, which may decide
        those held before it; it joins them, and those now decided are used."""
        kind, sig = parsed[0], parsed[-1]
        if sig is not None and self._layouts.decide(kind, sig) == SentenceLayouts.NEW:
            self._layouts.observe(kind, sig)
            for item in self._held:
                if item[0] == SentenceLayouts.NEW and item[1][0] == kind:
                    item[0] = self._layouts.decide(kind, item[1][-1])
        if verdict != WITNESS:
            verdict = self._layouts.check(kind, sig)
        self._held.append([verdict, parsed, mono, utc, self._arrivals])
        return self._release()

    def _witness(self, kind: str, data: dict, verdict: str) -> str:
        """While the order is learnt a VTG is not placed in an epoch, so nothing would compare an
        RMC's speed and course with its VTG's (a digit lost from each passes everything else).
        An RMC is therefore used only when the VTG just before it or the next one agrees with it
        (one of them is its own); in a stream without VTG, when the next RMC comes first."""
        if kind == "VTG":
            self._vtg_seen = True
            self._last_vtg = (data, self._arrivals)
            for item in self._held:
                if item[0] == WITNESS:
                    rmc = item[1][2]
                    ok = item[4] == self._arrivals and _rmc_agrees(rmc, data)
                    item[0] = self._layouts_verdict(item) if ok else "no_witness"
            return verdict
        for item in self._held:  # an RMC came first: no VTG between them
            if item[0] == WITNESS:
                item[0] = "no_witness" if self._vtg_seen else self._layouts_verdict(item)
        if self._learner is None or (data["speed"] is None and data["course"] is None):
            return verdict  # once the order is known, _close compares the epoch's own VTG
        prev = self._last_vtg
        self._last_vtg = None  # the VTG before the next RMC is another one
        if prev is not None and prev[1] == self._arrivals and _rmc_agrees(data, prev[0]):
            return verdict
        return WITNESS

    def _layouts_verdict(self, item: list) -> str:
        kind, sig = item[1][0], item[1][-1]
        return SentenceLayouts.OK if sig is None else self._layouts.check(kind, sig)

    def _release(self, everything: bool = False) -> list[GnssFix]:
        """Use the held sentences from the oldest on, up to the first whose layout is not decided
        (``everything``: to the end, refusing the undecided)."""
        out: list[GnssFix] = []
        held = self._held
        while held and (everything or held[0][0] not in (SentenceLayouts.NEW, WITNESS) or len(held) > HOLD_MAX):
            item = held.pop(0)
            if item[0] == WITNESS and everything and not self._vtg_seen:
                item[0] = self._layouts_verdict(item)  # the stream's end, and it sends no VTG
            if item[0] == "damage":
                self._damage()
            elif item[0] == SentenceLayouts.OK:
                out += self._use(item[1], item[2], item[3])
            elif item[0] == SentenceLayouts.BAD:
                self._refuse_layout()
            elif item[0] in ("no_witness", WITNESS):
                self.status.counts["rmc_unconfirmed"] += 1  # its speed and course: no VTG agreed
                self._damage()
            else:
                self.status.counts["layout_unconfirmed"] += 1  # never confirmed: not used
                self._damage()
        return out

    def _refuse_layout(self) -> None:
        counts = self.status.counts
        counts["layout_changed"] += 1
        counts["malformed"] += 1
        self._damage()

    def _use(self, parsed: tuple, mono: float, utc: datetime) -> list[GnssFix]:
        """One sentence whose layout is confirmed: into the order learner or its epoch. A type the
        learnt order lacks (refused all through the learning, or a receiver reconfigured to send
        it) makes the order out of date: placing by it could orphan that type or put an untimed
        sentence in the wrong epoch, so the open epoch is closed and the order learnt again."""
        if self._auto and self.learned_order is not None and parsed[0] not in self.learned_order \
                and self._missing_in_a_row(parsed[0]) >= RELEARN_EPOCHS:
            out = self._close(mono, utc) if self._cur.timed else []
            self._cur = _Epoch()
            self._forget_order()
            self._learner.damaged = True  # the stream did not start here: no phase from its start
            self.status.counts["order_relearned"] += 1
            return out + self._use_confirmed(parsed, mono, utc)
        return self._use_confirmed(parsed, mono, utc)

    def _missing_in_a_row(self, kind: str) -> int:
        """In how many epochs in a row (this one included) a type the learnt order lacks came. A
        receiver that sends one type at a lower rate (RMC at 1 Hz beside GGA at 10 Hz) never
        has it in an order, and is not learnt again at every one."""
        last, run = self._missing.get(kind, (-2, 0))
        if last != self._epochs:
            run = run + 1 if last == self._epochs - 1 else 1
        self._missing[kind] = (self._epochs, run)
        return run

    def _use_confirmed(self, parsed: tuple, mono: float, utc: datetime) -> list[GnssFix]:
        parsed = parsed[:-1] + (self._stretch,)
        self.status.counts[parsed[0]] += 1
        if self._learner is not None:
            learner = self._learner
            learner.add(parsed[0], parsed[3], mono, parsed)
            order = learner.learn()
            if order is None:
                if parsed[0] in ("VTG", "HDT"):
                    # Until the order is known an untimed sentence cannot be placed: its epoch's
                    # fix goes out without it (speed None, not 0) rather than with a neighbour's.
                    self.status.counts["unplaced_while_learning"] += 1
                    return []
                return self._place(*parsed, mono, utc)
            self._learner = None
            self.learned_order = order
            self.epoch_end, self._order = order[-1], order
            self.status.counts["order_learned"] += 1
            # The epochs still open get the untimed sentences held while learning, by the order:
            # the one being collected (its timed sentences are in) and the one now starting.
            before, current = learner.untimed_of_last_epochs()
            out: list[GnssFix] = []
            cur = self._cur
            if cur.timed:
                for kind, _, data, _, _, stretch in before:
                    if kind == "VTG":
                        cur.vtg, cur.vtg_stretch = data, stretch
                    else:
                        cur.hdt, cur.hdt_stretch = data, stretch
                out += self._close(mono, utc)
            for entry in current:
                out += self._place(*entry, mono, utc)
            return out + self._place(*parsed, mono, utc)
        return self._place(*parsed, mono, utc)

    def note_damage(self) -> None:
        """The framer dropped bytes here, between the sentences pushed before and after."""
        self._arrivals += 1
        if self._held:
            self._held.append(["damage"])
        else:
            self._damage()

    def _damage(self) -> None:
        # A new intact stretch begins: what was lost may have held an epoch boundary, so a
        # VTG/HDT is not tied across it to the epoch of a GGA/RMC on the other side.
        self._stretch += 1
        if self._learner is not None:
            self._learner.damaged = True  # the stream since its start is no longer intact

    def _parse(self, sentence: str) -> tuple | None:
        """(kind, talker, data, key, raw time, layout) of a used sentence, or None (counted)."""
        counts = self.status.counts
        star = sentence.rfind("*")
        if star < 0:  # the framer passes only sentences with a checksum (which it verified)
            counts["malformed"] += 1
            self.note_damage()
            return None
        try:
            # Without its checksum: the framer verified it, pynmea2 would compute it again.
            msg = pynmea2.parse(sentence[:star])
        except pynmea2.SentenceTypeError:
            counts["ignored"] += 1
            return None
        except (pynmea2.ParseError, ValueError):
            counts["malformed"] += 1
            self.note_damage()
            return None
        talker = getattr(msg, "talker", None)
        kind = getattr(msg, "sentence_type", None)
        if kind not in USED_TYPES or talker not in self.talkers:
            counts["ignored"] += 1
            return None
        comma = sentence.find(",")
        fields = sentence[comma + 1:star] if 0 < comma < star else None
        # Fast path: exactly the layout this receiver was seen to send (format included).
        confirmed = fields is not None and self._layouts.matches(kind, fields)
        if not confirmed and (fields is None or not well_formed(kind, fields)):
            counts["malformed"] += 1  # not the standard's format: damage the checksum missed
            self.note_damage()
            return None
        try:
            if kind == "GGA":
                data, key = self._gga(msg), _time_key(msg.data[0])
            elif kind == "RMC":
                data, key = self._rmc(msg), _time_key(msg.data[0])
            elif kind == "VTG":
                data, key = self._vtg(msg), None
            else:
                data, key = self._hdt(msg), None
        except (Malformed, IndexError, ValueError, TypeError):
            counts["malformed"] += 1
            self.note_damage()
            return None
        # The layout (None: as confirmed) is computed only off the fast path.
        sig = None if confirmed and not self._held else signature(msg.data)
        return kind, talker, data, key, (msg.data[0] if key is not None else None), sig

    def _place(self, kind: str, talker, data, key, time_raw, stretch: int,
               mono: float, utc: datetime) -> list[GnssFix]:
        """Put one parsed sentence into its epoch; return the fixes it completed."""
        counts = self.status.counts
        out: list[GnssFix] = []
        if kind in ("VTG", "HDT"):
            cur = self._cur
            if cur.empty() and self._order and self._order[0] in ("GGA", "RMC"):
                # This receiver opens every epoch with a timed sentence, which was lost here:
                # an untimed sentence cannot be placed in an epoch, so it is not used.
                counts["orphaned"] += 1
                return []
            if self._boundary_missed(cur, kind):
                # With a learned order that opens epochs with an untimed sentence (HDT, GGA,
                # VTG), untimed data before the timed one is where it belongs.
                opens_untimed = bool(self._order) and self._order[0] not in ("GGA", "RMC")
                if cur.timed and (not cur.untimed_first or opens_untimed):
                    counts["boundary_by_order"] += 1  # what is here belongs to this epoch
                    out += self._close(mono, utc)
                else:
                    # The untimed data came before any timed sentence: it may be the previous
                    # epoch's. Keep the position, drop what cannot be placed.
                    counts["ambiguous"] += 1
                    cur.vtg, cur.hdt = None, None
                    if cur.timed:
                        out += self._close(mono, utc)
                    else:
                        self._cur = _Epoch()
                if self._order and self._order[0] in ("GGA", "RMC"):
                    counts["orphaned"] += 1  # it starts an epoch whose timed opener was lost
                    return out
            if not self._cur.timed:
                self._cur.untimed_first = True
            if kind == "VTG":
                self._cur.vtg, self._cur.vtg_stretch = data, stretch
            else:
                self._cur.hdt, self._cur.hdt_stretch = data, stretch
        else:
            if key is not None and key == self._closed_key and not self._cur.timed:
                counts["late"] += 1
                return []
            if self._cur.timed and key is not None and key != self._cur.key:
                self._learn_end(self._cur.last_type)
                out += self._close(mono, utc)  # time changed: previous epoch is complete
            cur = self._cur
            if key is not None and cur.key is None:
                cur.key, cur.time_raw = key, time_raw
            cur.timed = True
            cur.stretches.add(stretch)
            if kind == "GGA":
                cur.gga, cur.talker = data, talker
            else:
                cur.rmc = data
                cur.talker = cur.talker or talker
        self._cur.last_type = kind
        self._cur.types.append(kind)
        if kind == self.epoch_end and self._cur.timed:
            self._learn_order(self._cur)
            out += self._close(mono, utc)
        return out

    def _boundary_missed(self, cur: _Epoch, kind: str) -> bool:
        """True if an untimed ``kind`` cannot belong to the open epoch."""
        if (cur.vtg if kind == "VTG" else cur.hdt) is not None:
            return True  # a second VTG/HDT
        order = self._order
        if kind in order and cur.last_type in order:
            return order.index(kind) <= order.index(cur.last_type)  # out of the learned order
        return False

    def _learn_order(self, ep: _Epoch) -> None:
        """Learn the sentence order from 3 epochs in a row ended by ``epoch_end`` with the same order."""
        if ep.untimed_first and self._order:
            return
        seen, n = self._order_seen
        order = tuple(ep.types)
        n = n + 1 if order == seen else 1
        self._order_seen = (order, n)
        if n >= 3 and len(set(order)) == len(order):
            self._order = order

    def _learn_end(self, last_type: str | None) -> None:
        """epoch_end="auto": adopt the last sentence type once 3 epochs in a row agree."""
        if not self._auto or self.epoch_end is not None or last_type is None:
            return
        prev, n = self._learn
        n = n + 1 if last_type == prev else 1
        self._learn = (last_type, n)
        if n >= 3:
            self.epoch_end = last_type

    def flush(self, mono: float, utc: datetime) -> list[GnssFix]:
        """Emit the open epoch (end of a capture); a sentence whose layout no later one confirmed
        is not used."""
        out = self._release(everything=True)
        out += self._close(mono, utc) if self._cur.timed else []
        return out + self._emit(self._neighbours.flush())

    def _track_disagrees(self, now: float | None, position: tuple, quality: int, rmc, vtg,
                         speed: float | None, course: float | None) -> bool:
        """The track check (bounds in :mod:`devices.gnss.motion_bounds`): this fix's reported speed
        or course (its epoch at ``now``, seconds of the UTC day) contradicts how it moved since the
        previous fix, one epoch before. Skipped for the first fix, after a reconnect, after a gap
        (an interval longer than the shortest seen, the epoch period) and when either fix is not
        precise enough (``bound.NOISE_M``)."""
        prev = self._prev_fix
        self._prev_fix = (now, position, quality) if now is not None else None
        if prev is None or now is None or (speed is None and course is None):
            return False
        dt = round(now - prev[0], 6)
        if dt <= 0 or dt > bound.MAX_DT:
            return False  # a new day, a gap, or a clock step
        if self._period is None or dt < self._period:
            self._period = dt
        noise = max(bound.NOISE_M.get(quality, math.inf), bound.NOISE_M.get(prev[2], math.inf))
        if dt > self._period or math.isinf(noise):
            return False
        if rmc is not None and rmc["speed"] is not None:
            speed_tol, course_tol = rmc["speed_tol"], rmc["course_tol"]
        else:
            speed_tol = vtg["speed_tol"] if vtg is not None and vtg["speed_tol"] is not None else 0.0
            course_tol = vtg["course_tol"] if vtg is not None else 0.0
        if rmc is not None and rmc["course"] is None and vtg is not None:
            course_tol = vtg["course_tol"]
        self.status.counts["track_checked"] += 1  # compared (if it moved far enough to tell)
        north, east, d = _displacement(prev[1], position)
        if _track_turns_away(north, east, d, dt, noise, course, course_tol):
            self.status.counts["track_course_differs"] += 1
        return _track_disagrees(d, dt, noise, speed, speed_tol)

    # -- sentence types ------------------------------------------------------

    @staticmethod
    def _gga(msg) -> dict:
        quality = _int(msg.data[5], 0, 9)
        raw = tuple(msg.data[1:5])
        return {
            "quality": 0 if quality is None else quality,
            "position": _position(raw),
            "raw_position": raw,
            "satellites": _int(msg.data[6], 0, 255),
            "hdop": _float(msg.data[7], 0, 100),
            "altitude": _float(msg.data[8], -1000, 100000),
            "correction_age": _float(msg.data[12], 0, 1e6) if len(msg.data) > 12 else None,
        }

    @staticmethod
    def _rmc(msg) -> dict:
        status = msg.data[1]
        if status not in ("A", "V", ""):
            raise Malformed(f"RMC status {status!r}")
        mode = msg.data[11] if len(msg.data) > 11 else ""
        if msg.data[8] and _day(msg.data[8]) is None:
            raise Malformed(f"RMC date {msg.data[8]!r}")
        return {
            "valid": status == "A" and mode != "N",
            "position": _position(tuple(msg.data[2:6])),
            "raw_position": tuple(msg.data[2:6]),
            "speed": _float(msg.data[6], 0, 1000),
            "course": _float(msg.data[7], 0, 360),
            # half a unit of the last digit sent: how far an honest other report may differ
            "speed_tol": _half_unit(msg.data[6]) * KNOT,
            "course_tol": _half_unit(msg.data[7]),
            "date": msg.data[8] if len(msg.data) > 8 else "",  # ddmmyy, for the epoch clock
            "mode": mode,
        }

    @staticmethod
    def _hdt(msg) -> tuple[float, float] | None:
        """(heading, half a unit of its last digit sent: how far from the truth the rounding took
        it, which the neighbour check's second-order bound of a few degrees sees); None: empty."""
        raw = msg.data[0] if msg.data else None
        heading = _float(raw, 0, 360)
        return None if heading is None else (heading, _half_unit(raw))

    @staticmethod
    def _vtg(msg) -> dict:
        # VTG has an old (NMEA 2.0: four numbers, no unit letters) and a new layout.
        old = len(msg.data) == 4
        kmph = _float(msg.data[3 if old else 6], 0, 2000) if len(msg.data) > 6 or old else None
        knots = _float(msg.data[2 if old else 4], 0, 1000) if len(msg.data) > 4 or old else None
        if kmph is not None and knots is not None:
            # One speed in two units: a digit lost from the integer part of one (which keeps
            # the layout, and with an equal digit lost elsewhere the XOR) makes them disagree.
            kn_raw, kmph_raw = msg.data[2 if old else 4], msg.data[3 if old else 6]
            if abs(knots * 1.852 - kmph) > _half_unit(kn_raw) * 1.852 + _half_unit(kmph_raw) + 1e-9:
                raise Malformed(f"VTG {knots} kn is not {kmph} km/h")
        if kmph is not None:
            speed, speed_tol = kmph / 3.6, _half_unit(msg.data[3 if old else 6]) / 3.6
        elif knots is not None:
            speed, speed_tol = knots * KNOT, _half_unit(msg.data[2 if old else 4]) * KNOT
        else:
            speed = speed_tol = None
        return {"course": _float(msg.data[0], 0, 360), "speed": speed, "speed_tol": speed_tol,
                "course_tol": _half_unit(msg.data[0])}

    # -- epoch ---------------------------------------------------------------

    def _close(self, mono: float, utc: datetime) -> list[GnssFix]:
        ep, self._cur = self._cur, _Epoch()
        self._epochs += 1
        self._closed_key = ep.key
        st = self.status
        gga, rmc, vtg, hdt = ep.gga, ep.rmc, ep.vtg, ep.hdt
        # A VTG/HDT belongs to this epoch only if no bytes were lost between it and one of the
        # epoch's GGA/RMC: across a loss the sentences that mark the epoch boundary may be gone
        # (the last of one epoch and the first of the next), and it may be the neighbour's.
        if vtg is not None and ep.vtg_stretch not in ep.stretches:
            vtg = None
            st.counts["untimed_across_damage"] += 1
        if hdt is not None and ep.hdt_stretch not in ep.stretches:
            hdt = None
            st.counts["untimed_across_damage"] += 1
        position = altitude = satellites = hdop = age = None
        if gga is not None:
            quality = gga["quality"]
            position = gga["position"] if quality > 0 else None
            altitude, satellites, hdop, age = (gga["altitude"], gga["satellites"],
                                               gga["hdop"], gga["correction_age"])
            st.satellites, st.hdop, st.correction_age = satellites, hdop, age
        elif rmc is not None and rmc["valid"] and rmc["position"] is not None:
            quality = _RMC_MODE_QUALITY.get(rmc["mode"], 1)
            position = rmc["position"]
        else:
            quality = 0
        if position is not None and gga is not None and rmc is not None and rmc["valid"] \
                and rmc["position"] is not None \
                and not _same_position(gga["raw_position"], rmc["raw_position"]):
            # GGA and RMC of one epoch disagree: one was damaged in a way the 8-bit XOR
            # checksum missed (two equal bytes lost, ...). Neither can be trusted.
            st.counts["inconsistent_epochs"] += 1
            return []
        if rmc is not None and vtg is not None and not (
                _agree(rmc["speed"] * KNOT if rmc["speed"] is not None else None, rmc["speed_tol"],
                       vtg["speed"], vtg["speed_tol"])
                and _agree(rmc["course"], rmc["course_tol"], vtg["course"], vtg["course_tol"], circle=True)):
            # RMC and VTG of one epoch report one speed and course: a digit lost from each of
            # two numbers of one sentence keeps its layout and XOR, but not this agreement.
            st.counts["inconsistent_epochs"] += 1
            return []
        st.fix_quality = quality if position is not None else 0
        if position is None:
            st.counts["no_fix_epochs"] += 1
            return []
        speed = course = None
        if rmc is not None:
            speed = rmc["speed"] * KNOT if rmc["speed"] is not None else None
            course = rmc["course"]
        if vtg is not None:
            speed = vtg["speed"] if speed is None else speed
            course = vtg["course"] if course is None else course
        now = _seconds(ep.key)
        if self._track_disagrees(now, position, quality, rmc, vtg, speed, course):
            # Not confirmed by the track: used as an epoch without speed and course is (never
            # replaced by the track's: the check only refuses).
            st.counts["track_disagrees"] += 1
            speed = course = None
        heading, heading_tol = hdt if hdt is not None else (None, 0.0)
        date = (rmc["date"] or None) if rmc is not None else None
        if self.timing is not None:
            mono, utc = self.timing.stamp(ep.time_raw, date, mono, utc)
        fix = GnssFix(
            mono=mono, utc=utc, device=self.device,
            latitude=position[0], longitude=position[1], altitude=altitude,
            quality=quality, satellites=satellites, hdop=hdop, correction_age=age,
            speed=speed, course=course, heading=heading,
            receiver_time=ep.time_raw, receiver_date=date,
            talker=ep.talker,
        )
        return self._emit(self._neighbours.push(fix, self._reported(now, rmc, vtg, speed, course, heading, heading_tol)))

    @staticmethod
    def _reported(now: float | None, rmc, vtg, speed, course, heading, heading_tol) -> Reported:
        """What the fix reports for the neighbour check: a speed and course are alone unless an
        RMC and a VTG (compared in _close) both gave them; an HDT's heading is always alone."""
        tol = rmc if rmc is not None and rmc["speed"] is not None else vtg
        both = rmc is not None and vtg is not None and rmc["speed"] is not None and vtg["speed"] is not None
        return Reported(now, speed=speed, speed_tol=(tol["speed_tol"] or 0.0) if tol else 0.0,
                        course=course, course_tol=tol["course_tol"] if tol else 0.0,
                        heading=heading, heading_tol=heading_tol,
                        motion_alone=(speed is not None or course is not None) and not both,
                        heading_alone=heading is not None)

    def _emit(self, fixes: list[GnssFix]) -> list[GnssFix]:
        """Count the fixes going out (a speed the neighbours refused is missing like any other)."""
        st = self.status
        for fix in fixes:
            st.counts["fixes"] += 1
            if fix.speed is None:
                st.counts["fixes_without_speed"] += 1
                st.speed_missing_streak += 1
            else:
                st.speed_missing_streak = 0
        return fixes

"""GNSS fixes timed by the receiver's measurement epoch, not by when their bytes were read.

A receiver's sentence time (``hhmmss.ss``, with the RMC date) is the epoch it
measured, exact to the receiver's clock. The reader thread's clock reading is
that epoch plus a transport latency (transmission at the line rate, the
receiver's own output delay) plus whatever the reader waited for the CPU. A
starved reader reads a burst of buffered epochs at once; stamped on arrival,
positions of 0.3–0.5 s ago would carry "now" and lag their timestamps.

:class:`EpochClock` maps the epoch onto the local clock with a *minimum
filter*: over the arrivals of the last :data:`WINDOW` clock seconds it keeps
the least (arrival − epoch). The least-delayed arrivals show the real
transport latency; stalls and bursts only add delay. Each fix is stamped
``epoch + least latency`` in both ``mono`` and ``utc`` (utc moves back by the
same amount as mono, so the pair stays one reading of the local clock), never
later than its arrival and never before the previous fix.

When the receiver's time steps (a restart with a wrong clock, GPS time before
the leap seconds are known, a day change without a date), old latencies no
longer apply. A window latency more than :data:`STEP` below the newest one is
therefore skipped: in effect the window restarts at the step. This is a pure
function of the window's arrivals, not a reset flag, so replaying a capture
that holds the window (:mod:`devices.rawcapture`'s preroll) gives exactly the
live stamps. A fix without a receiver time keeps its arrival stamp.

:class:`LogClock` is for a bare NMEA log, which has no arrival times at all:
the fixes are spaced by their epochs from the first one.
"""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta

# Clock seconds of arrivals the minimum looks back over. Long enough to hold timely arrivals
# through a scheduling stall of a loaded controller (hundreds of ms) and a few epochs of a 1 Hz
# receiver; short enough that local-oscillator drift against GNSS time (≤ 50 ppm: 0.25 ms) does
# not matter, and that the raw-capture preroll can hold it (a replay must see the same window).
WINDOW = 5.0
# Seconds by which a latency may exceed the window's least before that least is taken for the
# other side of a step in the receiver's time. Longer than any reader stall worth correcting
# (a stall longer than this is stamped on arrival, as without the filter; with the demo's
# ScaledClock a stall counts ``factor`` times, so 3 s is 0.75 s of wall time at 4x) and shorter
# than the window; shorter than the steps receiver time really makes while it reports positions
# (18 s GPS-UTC before the almanac, a restart from a wrong RTC, a day without a date). A leap
# second (1 s, none since 2016) is below it: stamps may run up to 1 s early for one window.
STEP = 3.0

_DAY = 86400.0
_Y2K = date(2000, 1, 1).toordinal()  # NMEA's two-digit years are 2000-2099


def time_of_day(raw: str | None) -> float | None:
    """Seconds since midnight from ``hhmmss[.sss]``; None when empty or not a time."""
    if not raw or len(raw) < 6 or not raw[:4].isdigit():
        return None
    try:
        seconds = float(raw[4:])
    except ValueError:
        return None
    hours, minutes = int(raw[0:2]), int(raw[2:4])
    if hours > 23 or minutes > 59 or not 0.0 <= seconds < 61.0:  # 60.x: a leap second
        return None
    return hours * 3600.0 + minutes * 60.0 + seconds


def day_number(raw: str | None) -> int | None:
    """Days since 2000-01-01 from an RMC ``ddmmyy`` date; None when empty or not a date."""
    if not raw or len(raw) != 6 or not raw.isdigit():
        return None
    try:
        return date(2000 + int(raw[4:6]), int(raw[2:4]), int(raw[0:2])).toordinal() - _Y2K
    except ValueError:
        return None


class ReceiverTimeline:
    """The receiver's epoch times as one count of seconds, across midnight.

    With a date the day is known; without one (a receiver that sends RMC
    after GGA, or no RMC) the epoch is put on the day that brings it within
    12 hours of the previous epoch, so 235959.90 then 000000.00 is 0.1 s on.
    """

    def __init__(self) -> None:
        self._last: float | None = None
        self._date: tuple[str | None, int | None] = (None, None)  # the last date parsed

    def seconds(self, time_raw: str | None, date_raw: str | None = None) -> float | None:
        tod = time_of_day(time_raw)
        if tod is None:
            return None
        if date_raw != self._date[0]:
            self._date = (date_raw, day_number(date_raw))
        day = self._date[1]
        if day is not None:
            t = day * _DAY + tod
        elif self._last is None:
            t = tod
        else:
            t = self._last - self._last % _DAY + tod
            if t < self._last - _DAY / 2:
                t += _DAY  # past midnight
            elif t > self._last + _DAY / 2:
                t -= _DAY  # an epoch from just before the midnight already passed
        self._last = t
        return t


Stamp = tuple[float, datetime]


class EpochClock:
    """Stamps live fixes ``epoch + least latency`` (see module doc).

    ``stamp(receiver_time, receiver_date, mono, utc)`` takes a fix's sentence
    time and date and the arrival of its last sentence, and returns the
    fix's (mono, utc). ``latency`` is the estimate used for the last timed
    fix (arrival − epoch in seconds: the offset between the receiver's and
    the local clock plus the least transport latency); ``skipped`` counts
    fixes for which window latencies were skipped as from before a step (or
    because the fix itself waited longer than ``step``).
    """

    def __init__(self, window: float = WINDOW, step: float = STEP) -> None:
        self.window = window
        self.step = step
        self.timeline = ReceiverTimeline()
        # The window's suffix minima, oldest first: (arrival, latency) with latencies rising.
        # Only these can be the least latency of the window or of any later window.
        self._lows: deque[tuple[float, float]] = deque()
        self._last_mono = float("-inf")
        self.latency: float | None = None
        self.skipped = 0

    def stamp(self, receiver_time: str | None, receiver_date: str | None,
              mono: float, utc: datetime) -> Stamp:
        arrival = mono
        epoch = self.timeline.seconds(receiver_time, receiver_date)
        if epoch is not None:
            latency = arrival - epoch
            # epoch + least, computed as arrival minus the extra wait: exact when there is none.
            mono = arrival - (latency - self._least_latency(arrival, latency))
        # Never after the arrival; never before the previous fix (a receiver time going back a
        # little, less than STEP, must not reorder a device's readings).
        mono = min(max(mono, self._last_mono), arrival)
        self._last_mono = mono
        if mono == arrival:
            return arrival, utc
        return mono, utc - timedelta(seconds=arrival - mono)

    def _least_latency(self, arrival: float, latency: float) -> float:
        lows = self._lows
        while lows and lows[0][0] <= arrival - self.window:
            lows.popleft()
        while lows and lows[-1][1] >= latency:
            lows.pop()
        lows.append((arrival, latency))
        floor = latency - self.step
        least = lows[0][1]
        if least < floor:
            self.skipped += 1
            least = next(low for _, low in lows if low >= floor)  # the newest itself at worst
        self.latency = least
        return least


class LogClock:
    """Stamps the fixes of a log without arrival times by their epochs alone.

    The first timed fix keeps its stamp; every later one gets that stamp plus
    its epoch's distance from the first. A fix without a receiver time keeps
    its stamp.
    """

    def __init__(self) -> None:
        self.timeline = ReceiverTimeline()
        self._origin: tuple[float, float, datetime] | None = None  # first epoch, its mono, utc

    def stamp(self, receiver_time: str | None, receiver_date: str | None,
              mono: float, utc: datetime) -> Stamp:
        epoch = self.timeline.seconds(receiver_time, receiver_date)
        if epoch is None:
            return mono, utc
        if self._origin is None:
            self._origin = (epoch, mono, utc)
            return mono, utc
        first_epoch, first_mono, first_utc = self._origin
        since = epoch - first_epoch
        return first_mono + since, first_utc + timedelta(seconds=since)

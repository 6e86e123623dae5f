"""Simulated GNSS receiver: true positions in, NMEA 0183 bytes out.

Writes, per epoch and in this order, RMC, VTG, HDT (only if a heading is
given, like a dual-antenna receiver) and GGA, all built with pynmea2 so the
checksums are right. That order ends each epoch with GGA, the driver's
default ``epoch_end``. Epoch times are multiples of the period (a real
receiver aligns its epochs to whole 100 ms at 10 Hz) and strictly increase.
Like a real receiver it sends an epoch just after the epoch's time (the twin
ticks on the epoch grid of the shared, possibly scaled, clock), so the
position it reports is the one at the time the sentences carry, which is
what the driver's epoch clock stamps the fix with.

Tests can ask for a corrupt sentence with :meth:`GnssSimulator.corrupt_next`.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Union

import pynmea2

from devices.gnss.decoder import KNOT
from devices.readings import Clock
from devices.twin import SerialTwin


@dataclass(frozen=True)
class GnssTruth:
    """The true state the simulated receiver reports."""

    latitude: float
    longitude: float
    altitude: float = 0.0
    speed: float = 0.0  # m/s over ground
    course: float = 0.0  # degrees true
    heading: float | None = None  # dual-antenna true heading; None: no HDT sentence
    quality: int = 4  # GGA quality: 0 no fix, 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float
    satellites: int = 20
    hdop: float = 0.7
    correction_age: float | None = 1.0  # seconds


Source = Union[Callable[[], "GnssTruth | None"], "queue.Queue[GnssTruth]"]
_MODE = {0: "N", 1: "A", 2: "D", 3: "P", 4: "R", 5: "F", 6: "E", 7: "M", 8: "S"}
CORRUPTIONS = ("checksum", "truncate", "garbage", "field")
_GRID_MARGIN = 1e-4  # clock seconds


def _dm(value: float, degree_digits: int) -> str:
    value = abs(value)
    degrees = int(value)
    minutes = (value - degrees) * 60.0
    if round(minutes, 7) >= 60.0:  # 59.99999999 would print as 60.0000000
        degrees, minutes = degrees + 1, 0.0
    return "%0*d%010.7f" % (degree_digits, degrees, minutes)


def build_epoch(truth: GnssTruth, when: datetime, talker: str = "GN") -> list[str]:
    """The sentences (without line ends) for one epoch, in sending order."""
    t = when.astimezone(timezone.utc)
    hms = t.strftime("%H%M%S") + ".%02d" % (t.microsecond // 10000)
    fix = truth.quality > 0
    lat = _dm(truth.latitude, 2) if fix else ""
    lat_dir = ("N" if truth.latitude >= 0 else "S") if fix else ""
    lon = _dm(truth.longitude, 3) if fix else ""
    lon_dir = ("E" if truth.longitude >= 0 else "W") if fix else ""
    knots = truth.speed / KNOT
    mode = _MODE.get(truth.quality, "A")
    course = "%.2f" % (truth.course % 360.0)
    rmc = pynmea2.RMC(talker, "RMC", (
        hms, "A" if fix else "V", lat, lat_dir, lon, lon_dir, "%.3f" % knots, course,
        t.strftime("%d%m%y"), "", "", mode))
    vtg = pynmea2.VTG(talker, "VTG", (
        course, "T", "", "M", "%.3f" % knots, "N", "%.3f" % (truth.speed * 3.6), "K", mode))
    gga = pynmea2.GGA(talker, "GGA", (
        hms, lat, lat_dir, lon, lon_dir, str(truth.quality), "%02d" % truth.satellites,
        "%.2f" % truth.hdop, "%.3f" % truth.altitude, "M", "0.000", "M",
        "" if truth.correction_age is None else "%.1f" % truth.correction_age, "0000"))
    out = [str(rmc), str(vtg)]
    if truth.heading is not None:
        out.append(str(pynmea2.HDT(talker, "HDT", ("%.2f" % (truth.heading % 360.0), "T"))))
    out.append(str(gga))
    return out


def corrupt(sentence: str, how: str) -> bytes:
    """One sentence (with CRLF) made corrupt in a way the driver must drop."""
    line = sentence.encode("ascii")
    if how == "checksum":
        cs = int(line[-2:], 16) ^ 0x5A
        return line[:-2] + b"%02X" % cs + b"\r\n"
    if how == "truncate":
        return line[: len(line) // 2]  # no line end: the next "$" cuts it
    if how == "garbage":  # a binary frame (UBX-like header) before the sentence
        return b"\xb5\x62\x01\x07" + os.urandom(12).replace(b"$", b"#") + line + b"\r\n"
    if how == "field":  # valid checksum, impossible value (GGA quality "X")
        body = sentence[1:sentence.index("*")].split(",")
        body[6 if body[0].endswith("GGA") else 2] = "X"
        body_s = ",".join(body)
        return ("$%s*%02X\r\n" % (body_s, pynmea2.NMEASentence.checksum(body_s))).encode()
    raise ValueError(f"unknown corruption {how!r}; use one of {CORRUPTIONS}")


class GnssSimulator(SerialTwin):
    """Writes NMEA epochs for ``source`` to ``port`` at ``rate`` Hz.

    ``source`` is a callable returning the current :class:`GnssTruth` (or None
    to stay silent this epoch), or a ``queue.Queue`` of them (the newest one
    is used; the last one is repeated when the queue is empty). With
    ``at_epoch`` the callable takes the clock time (``mono`` seconds) of the
    epoch being sent and returns the truth at that moment: a receiver's
    solution is for its epoch's time, not for when it was last told something.
    """

    name = "gnss"

    def __init__(self, port: str, source: Source, *, rate: float = 10.0, baudrate: int = 38400,
                 talker: str = "GN", clock: Clock | None = None, at_epoch: bool = False) -> None:
        super().__init__(port, rate=rate, baudrate=baudrate, clock=clock)
        self.source = source
        self.at_epoch = at_epoch
        self.talker = talker
        self.epochs_sent = 0
        self._last: GnssTruth | None = None
        self._last_time: datetime | None = None
        self._corrupt: list[tuple[str, str]] = []
        self._corrupt_lock = threading.Lock()

    def corrupt_next(self, how: str = "checksum", sentence: str = "GGA") -> None:
        """Corrupt the next ``sentence`` (GGA, RMC, VTG or HDT) sent: see :func:`corrupt`."""
        if how not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {how!r}")
        with self._corrupt_lock:
            self._corrupt.append((how, sentence))

    def current(self, at: float | None = None) -> GnssTruth | None:
        """The truth to send; ``at``: the epoch's clock time, for an ``at_epoch`` source."""
        src = self.source
        if hasattr(src, "get_nowait"):
            try:
                while True:
                    self._last = src.get_nowait()
            except queue.Empty:
                pass
            return self._last
        return src(at) if self.at_epoch else src()

    def _period_us(self) -> int:
        return int(round(1e6 / self.rate))

    def tick_interval(self) -> float:
        """Clock seconds to just after the next epoch of the grid."""
        _, utc = self.clock.now()
        period_us = self._period_us()
        # The margin keeps a wake-up that rounding brings a hair early on the new epoch.
        return (period_us - utc.microsecond % period_us) / 1e6 + _GRID_MARGIN

    def epoch_time(self) -> tuple[datetime, float]:
        """The UTC time of the epoch to send now (the grid's, after the last one sent), and the
        clock's ``mono`` at it."""
        mono, utc = self.clock.now()
        period = timedelta(microseconds=self._period_us())
        floor = utc - timedelta(microseconds=utc.microsecond % self._period_us())
        if self._last_time is not None and floor <= self._last_time:
            floor = self._last_time + period
        return floor, mono - (utc - floor).total_seconds()

    def tick(self) -> None:
        when, mono = self.epoch_time()
        truth = self.current(mono)
        if truth is None:
            return
        self._last_time = when
        sentences = build_epoch(truth, when, self.talker)
        data = bytearray()
        for s in sentences:
            data += self._maybe_corrupt(s)
        self.write(bytes(data))
        self.epochs_sent += 1

    def _maybe_corrupt(self, sentence: str) -> bytes:
        kind = sentence[3:6]
        with self._corrupt_lock:
            for i, (how, target) in enumerate(self._corrupt):
                if target == kind:
                    del self._corrupt[i]
                    return corrupt(sentence, how)
        return sentence.encode("ascii") + b"\r\n"

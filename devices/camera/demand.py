"""Reading a camera only while something wants its frames, as Frigate decodes a camera on demand.

A copy camera is recorded by its recorder's ffmpeg; the controller decodes it only for what looks
at its pictures: live-view viewers, a vision sensor, the face watch. Decoding it all the time
costs each camera a decoder's memory and CPU while nobody looks (bench/memory.py: 8 cameras of
640×360 H.264 held about 47 MB). A :class:`DemandReader` starts its :class:`CaptureReader` when the
camera's fan-out gets its first consumer and stops it ``linger`` seconds of the clock after the
last one left, so a page that fetches a snapshot every few seconds keeps one reader running
instead of opening the stream again each time. ``always`` keeps it reading whatever its
consumers: a camera whose consumers come and go but must find frames at once.

For the watchdog it is the camera's reader: an idle reader is not down (there is nothing to
restart), a reader that should be reading and is not, is.
"""

from __future__ import annotations

import threading

from devices.camera.capture import CaptureReader
from devices.camera.frames import FrameFanout
from devices.readings import Clock, SystemClock

LINGER_SECONDS = 30.0  # longer than a page's or the city console's snapshot interval (10 s)


class DemandReader:
    """A :class:`CaptureReader` that reads only while its fan-out has consumers (or ``always``)."""

    kind = "reader"

    def __init__(self, reader: CaptureReader, clock: Clock | None = None, linger: float = LINGER_SECONDS,
                 always: bool = False) -> None:
        if linger < 0:
            raise ValueError(f"linger must not be negative, got {linger}")
        self.reader = reader
        self.camera = reader.camera
        self.fanout: FrameFanout = reader.fanout
        self.clock = clock or SystemClock()
        self.linger = linger
        self.always = always
        self._lock = threading.Lock()
        self._enabled = False  # started and not killed: the watchdog's say
        self._reading = False  # the reader was started for a consumer and not yet stopped as idle
        self._stopping = False  # a stop is joining the reader's thread: no start until it is done
        self._consumers = self.fanout.consumers
        self._idle_since: float | None = None
        self.fanout.listen(self._on_consumers)

    @property
    def url(self) -> str:
        return self.reader.url

    @property
    def state(self) -> str:
        """``idle`` (nobody wants frames, not reading), ``reading``, ``down`` (should read and does
        not: the watchdog restarts it) or ``stopped`` (not started, or killed)."""
        if not self._enabled:
            return "stopped"
        if not self._reading:
            return "idle"
        return "reading" if self.reader.alive() else "down"

    @property
    def consumers(self) -> int:
        return self._consumers

    def _wanted(self) -> bool:
        if self.always or self._consumers:
            return True
        return self._idle_since is not None and self.clock.now()[0] - self._idle_since < self.linger

    def _read(self) -> None:
        """Start reading (the lock held)."""
        if self._stopping:
            return  # the stop starts it again when it is done, if it is still wanted
        if not self.reader.alive():
            self.reader.start()
        self._reading = True

    def _on_consumers(self, count: int) -> None:
        with self._lock:
            self._consumers = count
            if count:
                self._idle_since = None
                if self._enabled and not self._reading:
                    self._read()
            elif self._idle_since is None:
                self._idle_since = self.clock.now()[0]

    def settle(self) -> str:
        """Stop reading if nobody has wanted the frames for ``linger`` seconds; the state after."""
        with self._lock:
            if not self._reading or self._wanted():
                return self.state
            self._reading = False
            self._stopping = True
        self.reader.kill()
        self.fanout.forget()
        self._stopped()
        return self.state

    def _stopped(self) -> None:
        with self._lock:
            self._stopping = False
            if self._enabled and self._wanted():
                self._read()

    # -- the watchdog's part ------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            self._enabled = True
            if self._wanted():
                self._read()

    def kill(self) -> None:
        with self._lock:
            self._enabled = False
            self._reading = False
            self._stopping = True
        self.reader.kill()
        self._stopped()

    def alive(self) -> bool:
        """Alive as the watchdog asks it: reading, or idle on purpose."""
        return not self._reading or self.reader.alive()

    def stalled(self) -> bool:
        return self._reading and self.reader.stalled()

    def reason(self) -> str:
        return self.reader.reason()

"""Frames and their fan-out: a camera is read once, every consumer gets the frames.

Consumers (recorder, live view, vision sensors) each get their own slot
holding only the newest frame, so a slow consumer skips frames instead of
holding up the reader or the other consumers. Whoever produces the frames may
listen to the number of consumers (:meth:`FrameFanout.listen`) to read the
camera only while someone wants its frames (:mod:`devices.camera.demand`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Frame:
    image: np.ndarray  # BGR, height × width × 3
    utc: datetime  # when the picture was taken (the camera's clock, offset applied)
    mono: float  # monotonic time it arrived, for ordering and stall detection
    seq: int  # frame number since the reader (re)started


class FrameSlot:
    """The newest frame for one consumer; ``get`` waits for one newer than the last it returned."""

    def __init__(self, fanout: "FrameFanout") -> None:
        self._fanout = fanout
        self._cond = threading.Condition()
        self._frame: Frame | None = None
        self._fresh = False
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._fresh:
                self.dropped += 1
            self._frame, self._fresh = frame, True
            self._cond.notify_all()

    def get(self, timeout: float | None = None) -> Frame | None:
        with self._cond:
            if not self._fresh and not self._cond.wait_for(lambda: self._fresh, timeout):
                return None
            self._fresh = False
            return self._frame

    def close(self) -> None:
        self._fanout.unsubscribe(self)

    def __enter__(self) -> "FrameSlot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class FrameFanout:
    """Hands every frame of one camera to every subscribed consumer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: list[FrameSlot] = []
        self._listeners: list[Callable[[int], None]] = []
        self.latest: Frame | None = None
        self.frames = 0

    def listen(self, listener: Callable[[int], None]) -> None:
        """Call ``listener`` with the number of consumers each time one subscribes or leaves."""
        self._listeners.append(listener)

    def subscribe(self) -> FrameSlot:
        slot = FrameSlot(self)
        with self._lock:
            self._slots.append(slot)
            count = len(self._slots)
        self._tell(count)
        return slot

    def unsubscribe(self, slot: FrameSlot) -> None:
        with self._lock:
            if slot not in self._slots:
                return
            self._slots.remove(slot)
            count = len(self._slots)
        self._tell(count)

    def _tell(self, count: int) -> None:
        # Outside the lock: a listener may stop the reader, which waits for its last publish.
        for listener in self._listeners:
            listener(count)

    def forget(self) -> None:
        """Drop the newest frame: a camera no longer read leaves no picture that looks live."""
        with self._lock:
            self.latest = None

    def publish(self, frame: Frame) -> None:
        with self._lock:
            self.latest = frame
            self.frames += 1
            slots = list(self._slots)
        for slot in slots:
            slot.put(frame)

    @property
    def consumers(self) -> int:
        with self._lock:
            return len(self._slots)

"""In-process serial cables for lockstep runs: ``lockstep://NAME/a`` and ``lockstep://NAME/b``.

A :class:`LinkCable` is a :class:`~devices.nullmodem.NullModem` without a
kernel: two ends that pyserial opens by URL (``serial.serial_for_url``, the
way every driver and twin already opens its port, pymodbus's client
included), bytes written at one end waiting at the other. Nothing in it runs
on its own: no relay thread, no timeout. A read returns what is waiting at
once (possibly nothing), because in a lockstep run the test is the only one
who moves bytes and time, so waiting for more could only waste wall time.

It offers what the tests do to a null modem: :meth:`LinkCable.unplug` (open
ports fail on their next read or write, and opening fails until
:meth:`LinkCable.replug`), :meth:`LinkCable.set_filter` (a loose wire, a
board answering with another function) and :meth:`LinkCable.inject`. A
polled device answers on the link itself: :meth:`LinkCable.answer` gives a
function that turns each chunk written towards one end into the bytes that
end sends back, at once (a Modbus slave's reply to its request).

A cable made with a ``clock`` (a :class:`~devices.readings.ManualClock`) is
*timed*: :meth:`LinkCable.deliver_at` puts bytes on the line at a clock
instant, and a read that finds too little waiting and has a timeout moves
that clock on to the next delivery or to the end of its timeout, whichever
comes first. A driver that measures its timeouts on the same clock then sees
replies at exactly the instants a test chose (a reply 1 ms after its
timeout, a frame right behind another), however loaded the machine. Its
``wake_lag`` makes the reader a starved thread: a read that waited returns
that many clock seconds after what it waited for (a byte, or the end of its
timeout), with whatever arrived meanwhile, as a loaded host's thread does.

Importing this package registers the ``lockstep://`` URL scheme with pyserial.
"""

from __future__ import annotations

import itertools
import threading
from typing import Callable

import serial

Filter = Callable[[bytes], bytes]
Answer = Callable[[bytes], bytes]

SCHEME = "lockstep"
_cables: dict[str, "LinkCable"] = {}
_names = itertools.count(1)
_registry_lock = threading.Lock()

if __name__ not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append(__name__)


class LinkCable:
    """Two connected in-process serial ends, ``a`` and ``b`` (pyserial URLs)."""

    def __init__(self, name: str | None = None, clock=None) -> None:
        with _registry_lock:
            self.name = name or f"cable{next(_names)}"
            if self.name in _cables:
                raise ValueError(f"a lockstep cable named {self.name!r} exists already")
            _cables[self.name] = self
        self.a = f"{SCHEME}://{self.name}/a"
        self.b = f"{SCHEME}://{self.name}/b"
        self.bytes_relayed = {"a>b": 0, "b>a": 0}
        self._lock = threading.RLock()
        self._waiting = {"a": bytearray(), "b": bytearray()}  # bytes waiting to be read at that end
        self._filters: dict[str, Filter | None] = {"a>b": None, "b>a": None}
        self._answers: dict[str, Answer | None] = {"a": None, "b": None}
        self._plugged = True
        self._generation = 0  # a port opened before an unplug stays dead after the replug
        self.clock = clock  # timed cable: reads with a timeout move it (see module doc)
        self._scheduled: list[tuple[float, int, str, bytes]] = []  # (instant, order, end, data)
        self._order = itertools.count()
        self.wake_lag = 0.0  # timed cable: how late a read that waited wakes (see module doc)

    # -- what a test does to the cable ----------------------------------------

    @property
    def plugged(self) -> bool:
        return self._plugged

    def unplug(self) -> None:
        """Pull the cable: open ports fail, bytes in flight are lost, opening fails until replugged."""
        with self._lock:
            self._plugged = False
            self._generation += 1
            for buf in self._waiting.values():
                buf.clear()

    def replug(self) -> None:
        with self._lock:
            self._plugged = True

    def waiting(self, end: str) -> int:
        """Bytes waiting to be read at ``end`` (a lockstep run steps a reader only when there are)."""
        return len(self._waiting[end])

    def set_filter(self, direction: str, fn: Filter | None) -> None:
        """Pass every chunk travelling ``direction`` ("a>b" or "b>a") through ``fn``."""
        if direction not in self._filters:
            raise ValueError("direction must be 'a>b' or 'b>a'")
        with self._lock:
            self._filters[direction] = fn

    def answer(self, end: str, fn: Answer | None) -> None:
        """``end`` answers every chunk that reaches it with ``fn(chunk)`` (a polled slave's reply)."""
        with self._lock:
            self._answers[end] = fn

    def inject(self, end: str, data: bytes) -> None:
        """Make ``data`` arrive at ``end`` as if the other end sent it."""
        with self._lock:
            self._waiting[end] += data

    def deliver_at(self, end: str, instant: float, data: bytes) -> None:
        """Timed cable: make ``data`` arrive at ``end`` when the clock reaches ``instant``."""
        if self.clock is None:
            raise ValueError("deliver_at needs a cable made with a clock")
        with self._lock:
            self._scheduled.append((instant, next(self._order), end, bytes(data)))
            self._scheduled.sort()

    def now(self) -> float:
        return self.clock.now()[0]

    def close(self) -> None:
        self.unplug()
        with _registry_lock:
            if _cables.get(self.name) is self:
                del _cables[self.name]

    def __enter__(self) -> "LinkCable":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what the ports do ----------------------------------------------------

    def _open(self, end: str) -> int:
        with self._lock:
            if not self._plugged:
                raise serial.SerialException(f"{SCHEME}://{self.name}/{end}: cable unplugged")
            return self._generation

    def _alive(self, end: str, generation: int) -> None:
        if not self._plugged or generation != self._generation:
            raise serial.SerialException(f"{SCHEME}://{self.name}/{end}: cable unplugged")

    def _write(self, end: str, generation: int, data: bytes) -> None:
        other = "b" if end == "a" else "a"
        with self._lock:
            self._alive(end, generation)
            self._deliver(f"{end}>{other}", other, bytes(data))

    def _deliver(self, direction: str, to: str, data: bytes) -> None:
        fn = self._filters[direction]
        if fn is not None:
            data = fn(data)
        if not data:
            return
        self.bytes_relayed[direction] += len(data)
        answer = self._answers[to]
        if answer is None:
            self._waiting[to] += data
            return
        reply = answer(data)
        if reply:
            back = "b" if to == "a" else "a"
            self._deliver(f"{to}>{back}", back, reply)

    def _arrive(self) -> None:
        """Timed cable: move every scheduled delivery that is due into its end's buffer."""
        if self.clock is None:
            return
        now = self.now()
        while self._scheduled and self._scheduled[0][0] <= now:
            _, _, end, data = self._scheduled.pop(0)
            self._waiting[end] += data

    def _wait_for(self, end: str, generation: int, size: int, timeout: float | None) -> None:
        """Timed cable: move the clock on until ``size`` bytes wait at ``end`` or ``timeout`` ran out."""
        if self.clock is None or not timeout:
            return
        with self._lock:
            deadline = self.now() + timeout
            self._arrive()
            waited = False
            while len(self._waiting[end]) < size:
                self._alive(end, generation)
                waited = True
                due = [s[0] for s in self._scheduled if s[2] == end]
                if not due or min(due) > deadline:
                    self.clock.advance_to(deadline)
                    break
                self.clock.advance_to(min(due))
                self._arrive()
            if waited and self.wake_lag:
                self.clock.advance_to(self.now() + self.wake_lag)
            self._arrive()

    def _read(self, end: str, generation: int, size: int) -> bytes:
        with self._lock:
            self._alive(end, generation)
            self._arrive()
            buf = self._waiting[end]
            data = bytes(buf[:size])
            del buf[:size]
            return data

    def _in_waiting(self, end: str, generation: int) -> int:
        with self._lock:
            self._alive(end, generation)
            self._arrive()
            return len(self._waiting[end])


def cable_of(url: str) -> tuple[LinkCable, str]:
    """The cable and end a ``lockstep://NAME/END`` URL names."""
    rest = url.split("://", 1)[1]
    name, _, end = rest.partition("/")
    cable = _cables.get(name)
    if cable is None or end not in ("a", "b"):
        raise serial.SerialException(f"no lockstep cable end {url!r}")
    return cable, end

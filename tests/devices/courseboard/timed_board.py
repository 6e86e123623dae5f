"""A Modbus board whose replies land at instants the test chooses, on a clock the test owns.

The driver under test is the real :class:`CourseBoardDriver` (pymodbus's client opens the
port, pymodbus's RTU framer builds the request); its port is one end of a *timed*
lockstep cable (:mod:`devices.links`) and its timeouts, quiet guards and drains are
measured on the same :class:`ManualClock`. A read that waits moves that clock to the
next byte's instant or to the end of its timeout, so a reply 1 ms after a drain ended or
20.5 ms after another frame arrives exactly then, however loaded the machine: the
timings a loaded host makes by accident are made here on purpose. ``wake_lag`` starves
the driver's thread: every read that waited wakes that much later, with what came meanwhile;
``tap`` receives the driver's raw chunks, as a raw capture does.

``answer(n)`` says what the board puts on the line after request ``n`` (0, 1, ...)
arrives: ``(delay, frame)`` pairs, each frame delivered ``delay`` clock seconds after
that request. A frame may be any bytes: the reply to an older request (late), to this
one, twice, from another unit, damaged. :meth:`TimedBoard.answer_to` builds the honest
reply to request ``n`` as that request asked for it (a read of 16 inputs, or the
driver's probe of 24).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from devices.courseboard.driver import CourseBoardDriver
from devices.links import LinkCable
from devices.readings import ManualClock
from tests.devices.courseboard.peer import reply

Answer = Callable[[int], list[tuple[float, bytes]]]


def content(n: int, count: int = 16) -> list[bool]:
    """The inputs the board reports to request ``n``: unique per request, never all off."""
    return [bool((n + 1) >> i & 1) for i in range(count)]


def number(inputs) -> int:
    """The request whose reply gave these inputs (inverse of :func:`content`)."""
    return sum(1 << i for i, b in enumerate(inputs[:16]) if b) - 1


def answer_to(n: int, count: int = 16, **kwargs) -> bytes:
    """The board's honest reply frame to request ``n``, a read of ``count`` inputs."""
    return reply(content(n, count), **kwargs)


@dataclass
class Poll:
    request: int | None  # number of the request this poll sent (None: it sent none)
    readings: list = field(default_factory=list)


class TimedBoard:
    """The real driver polling a scripted board over a timed lockstep cable (see module doc)."""

    def __init__(self, answer: Answer, wake_lag: float = 0.0, tap=None, **driver_kwargs) -> None:
        self.answer = answer
        self.clock = ManualClock()
        self.cable = LinkCable(clock=self.clock)
        self.cable.wake_lag = wake_lag  # the driver's thread wakes this late from every wait
        self.cable.answer("a", self._request)
        self.requests = 0
        self.arrived: list[float] = []  # clock instant each request reached the board
        self.counts: list[int] = []  # inputs each request asked for (the probe asks for 8 more)
        driver_kwargs.setdefault("timeout", 0.05)
        self.driver = CourseBoardDriver(self.cable.b, unit=1, count=16,
                                        monotonic=lambda: self.clock.now()[0], **driver_kwargs)
        self.driver.tap = tap  # a raw capture's tap(device, direction, data, mono, utc), as the runner sets it
        self.driver.open()

    def _request(self, data: bytes) -> bytes:
        n, now = self.requests, self.clock.now()[0]
        self.requests += 1
        self.arrived.append(now)
        self.counts.append(int.from_bytes(data[4:6], "big"))
        for delay, frame in self.answer(n):
            self.cable.deliver_at("b", now + delay, frame)
        return b""  # nothing at once: every byte comes at its instant

    def answer_to(self, n: int, **kwargs) -> bytes:
        """The honest reply to request ``n`` (already sent), as it asked for it."""
        return answer_to(n, self.counts[n], **kwargs)

    def run(self, polls: int) -> list[Poll]:
        """Poll ``polls`` times at the driver's rate, as its runner does (never bursting)."""
        out: list[Poll] = []
        due = self.clock.now()[0]
        for _ in range(polls):
            self.clock.advance_to(due)
            before = self.requests
            readings = self.driver.poll(self.clock)
            out.append(Poll(before if self.requests > before else None, readings))
            due = max(due + self.driver.poll_interval, self.clock.now()[0])
        return out

    def close(self) -> None:
        self.driver.close()
        self.cable.close()

    def __enter__(self) -> "TimedBoard":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def stale_or_foreign(polls: list[Poll]) -> list[tuple[int | None, int]]:
    """(request of the poll, request whose reply the reading shows) for every false reading."""
    return [(p.request, number(r.inputs)) for p in polls for r in p.readings if number(r.inputs) != p.request]

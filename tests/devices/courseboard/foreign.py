"""A foreign board: a pymodbus RTU server (not the project's code) behind a misbehaving cable.

:func:`run_foreign` polls it with the real :class:`CourseBoard` driver over
a null modem and reports figures. The server is pymodbus's
``ModbusSerialServer`` with a ``SimDevice`` whose register map differs from
the site's (``variant``):

* ``"counter"``: 16 discrete inputs at the site's address, whose values
  change on every read to the read's number (so every reply is unique and a
  reading tells which request it answered). The cable then, per reply,
  passes it, holds it past the driver's timeout (**late**), sends it
  **twice**, rewrites it as coming from **another unit** (CRC recomputed),
  or damages one byte (line noise);
* ``"offset_map"``: its 16 discrete inputs start at address 100 and its
  coils (all on) at 0, where the site reads: pymodbus answers with an
  exception (no readings);
* ``"other_unit"``: the board's unit id is 7, the site polls unit 1
  (pymodbus 3.16's ``SimDevice`` then answers unit 1 with exception 4 anyway:
  a foreign board replying for another unit).

The cable's mistreatment applies in every variant.

Figures: polls, bytes from the peer, readings, exceptions raised in the
driver (must be 0: the runner would count them as port failures,
``reconnects``), false readings (must be 0): a reading whose number is not
that of a reply the cable delivered clean, once, in time, or that goes back.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time

from pymodbus.framer import FramerType
from pymodbus.framer.rtu import FramerRTU
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from devices.courseboard import CourseBoard
from devices.nullmodem import NullModem

BEHAVIOURS = ("pass", "late", "twice", "other_unit", "noise")


def number_bits(n: int) -> list[bool]:
    return [bool(n >> i & 1) for i in range(16)]


def bits_number(bits) -> int:
    return sum(1 << i for i, b in enumerate(bits[:16]) if b)


class ForeignServer:
    """pymodbus's RTU server in its own thread, with a register map unlike the site's."""

    def __init__(self, port: str, variant: str) -> None:
        self.port, self.variant = port, variant
        self.reads = 0
        self._bits = [False] * 16
        self._ready = threading.Event()
        self._loop = self._server = None
        self._thread = threading.Thread(target=self._run, name="foreign-board", daemon=True)

    async def _action(self, function_code, start_address, address, count, registers, set_values):
        if function_code == 2 and self.variant == "counter":
            self.reads += 1
            registers[:1] = SimUtils.bitsToRegisters(number_bits(self.reads % 65536))
        return None

    def _device(self) -> SimDevice:
        reg = SimData(0, count=1, values=0, datatype=DataType.REGISTERS)
        if self.variant == "offset_map":
            inputs = SimData(100, count=16, values=False, datatype=DataType.BITS)
            coils = SimData(0, count=16, values=True, datatype=DataType.BITS)
        else:
            inputs = SimData(0, count=16, values=False, datatype=DataType.BITS)
            coils = SimData(0, count=16, values=False, datatype=DataType.BITS)
        unit = 7 if self.variant == "other_unit" else 1
        return SimDevice(id=unit, simdata=([coils], [inputs], [reg], [reg]), action=self._action)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = ModbusSerialServer(self._device(), framer=FramerType.RTU, port=self.port,
                                              baudrate=19200)
            await self._server.serve_forever(background=True)
            self._ready.set()
            await self._server.serving

        asyncio.run(main())

    def __enter__(self) -> "ForeignServer":
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("pymodbus server did not start")
        return self

    def __exit__(self, *exc) -> None:
        if self._loop is not None and self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(5)
        self._thread.join(5)


class MisbehavingCable:
    """The a>b filter of a null modem that mistreats whole replies (see module doc)."""

    def __init__(self, modem: NullModem, rng: random.Random, timeout: float, weights: dict[str, float]) -> None:
        self.modem, self.rng, self.timeout = modem, rng, timeout
        self.kinds, self.weights = zip(*weights.items())
        self.fate: dict[int, str] = {}  # reply number -> what the cable did to it
        self.bytes = 0
        self.replies = 0
        self.fates: dict[str, int] = dict.fromkeys(BEHAVIOURS, 0)
        self._buf = b""
        self._timers: list[threading.Timer] = []

    def __call__(self, data: bytes) -> bytes:
        self.bytes += len(data)
        self._buf += data
        size = _frame_size(self._buf)
        if size is None or len(self._buf) < size:
            return b""
        reply, self._buf = self._buf, b""
        fate = self.rng.choices(self.kinds, self.weights)[0]
        if len(reply) == 7 and reply[1] == 2:
            self.fate[bits_number(_unpack(reply))] = fate
        self.replies += 1
        self.fates[fate] += 1
        if fate == "late":
            timer = threading.Timer(self.timeout * self.rng.uniform(1.1, 1.6), self.modem.inject, ("b", reply))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            return b""
        if fate == "twice":
            return reply + reply
        if fate == "other_unit":
            body = bytes([reply[0] % 247 + 1]) + reply[1:-2]
            return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")
        if fate == "noise":
            i = self.rng.randrange(len(reply))
            return reply[:i] + bytes([reply[i] ^ (1 << self.rng.randrange(8))]) + reply[i + 1:]
        return reply

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _frame_size(buf: bytes) -> int | None:
    if len(buf) < 3:
        return None
    return 5 if buf[1] & 0x80 else 3 + buf[2] + 2


def _unpack(reply: bytes) -> list[bool]:
    return [bool(reply[3 + i // 8] >> (i % 8) & 1) for i in range(16)]


def run_foreign(variant: str, seconds: float, seed: int = 1, timeout: float = 0.05,
                weights: dict[str, float] | None = None) -> dict:
    """Poll a foreign board for ``seconds`` (wall) and return the figures (see module doc)."""
    rng = random.Random(seed)
    weights = weights or {"pass": 0.6, "late": 0.1, "twice": 0.1, "other_unit": 0.1, "noise": 0.1}
    readings: list = []
    with NullModem() as modem:
        cable = MisbehavingCable(modem, rng, timeout, weights)
        modem.set_filter("a>b", cable)
        # A huge fault limit: the board must keep being polled (and judged) however badly it
        # behaves, so every reply meets the matcher; a real site faults it after 3.
        board = CourseBoard(modem.b, readings.append, unit=1, count=16, timeout=timeout,
                            fault_limit=10**6, fault_window=10**6, backoff_initial=0.05)
        try:
            with ForeignServer(modem.a, variant):
                with board:
                    time.sleep(seconds)  # the run's length, not a wait for a condition
        finally:
            cable.close()
        h = board.health()
    false = 0
    last = -1
    for r in readings:
        n = bits_number(r.inputs)
        # Only the counter board has readable inputs at the site's address; there a reading
        # must be a reply the cable delivered clean, and newer than the last one.
        if variant != "counter" or cable.fate.get(n) != "pass" or n <= last:
            false += 1
        last = n
    return {"variant": variant, "polls": h.extra["polls"], "replies_from_peer": cable.replies,
            "bytes_from_peer": cable.bytes,
            "readings": len(readings), "false_readings": false,
            "driver_exceptions": h.reconnects + h.extra["callback_errors"],
            "exception_replies": h.extra["exceptions"], "timeouts": h.extra["timeouts"],
            "rejected": {k: v for k, v in h.extra["rejected"].items() if v},
            "fates": dict(cable.fates)}

"""A misbehaving Modbus RTU board for tests: answers function 02 requests on a pty, badly on purpose.

It is not the project's twin (that is a pymodbus server); it is a small RTU
slave on a pyserial port whose replies are built with pymodbus's RTU framer,
and whose ``answer(request_number)`` decides what goes on the line: a list of
``(delay_seconds, frame)`` written that long after the request arrived (the
delays are the board's own timing, as a slow or chatty board has). ``all_on``
and ``all_off`` build honest and false-touch frames for the tests to use.
"""

from __future__ import annotations

import threading
import time
from typing import Callable

import serial
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import ReadCoilsResponse, ReadDiscreteInputsResponse

_FRAMER = FramerRTU(DecodePDU(False))


def reply(bits: list[bool], unit: int = 1, function: int = 2) -> bytes:
    """A well-formed RTU reply frame (function 01 or 02) with ``bits``."""
    cls = ReadDiscreteInputsResponse if function == 2 else ReadCoilsResponse
    return _FRAMER.buildFrame(cls(bits=list(bits), dev_id=unit))


def with_crc(body: bytes) -> bytes:
    return body + FramerRTU.compute_CRC(body).to_bytes(2, "big")


class MisbehavingBoard:
    """Reads 8-byte requests on ``port`` and writes what ``answer(n)`` says (n = 0, 1, ...)."""

    def __init__(self, port: str, answer: Callable[[int], list[tuple[float, bytes]]]) -> None:
        self.answer = answer
        self.requests = 0
        self._port = serial.Serial(port, 19200, timeout=0.01)
        self._stop = threading.Event()
        self._pending: list[tuple[float, bytes]] = []
        self._thread = threading.Thread(target=self._run, name="misbehaving-board", daemon=True)

    def __enter__(self) -> "MisbehavingBoard":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self._port.close()

    def _run(self) -> None:
        buf = b""
        while not self._stop.is_set():
            now = time.monotonic()
            due = [p for p in self._pending if p[0] <= now]
            self._pending = [p for p in self._pending if p[0] > now]
            for _, frame in sorted(due, key=lambda p: p[0]):
                self._port.write(frame)
            buf += self._port.read(self._port.in_waiting or 1)
            while len(buf) >= 8:
                request, buf = buf[:8], buf[8:]
                if not FramerRTU.check_CRC(request[:6], int.from_bytes(request[6:], "big")):
                    buf = b""  # resync on the next request
                    break
                arrived = time.monotonic()
                for delay, frame in self.answer(self.requests):
                    if delay <= 0:
                        self._port.write(frame)
                    else:
                        self._pending.append((arrived + delay, frame))
                self.requests += 1

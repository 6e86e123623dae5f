"""Simulated course sensor board: a pymodbus RTU server on a serial port.

The server (``ModbusSerialServer``, pymodbus 3.16) runs in its own thread
with its own asyncio loop. Its discrete inputs are the twin's state, set
from any thread with :meth:`CourseBoardSimulator.set_input`.

Pitfalls (pymodbus 3.16.1):

* ``ModbusDeviceContext`` deep-copies its data blocks into a ``SimDevice``,
  so writing to the ``ModbusSequentialDataBlock`` you passed in later does
  nothing, and it is deprecated. We use ``SimDevice`` directly with an
  ``action`` hook that copies our state into the server's registers on every
  read of function 02. The state is a plain list guarded by a lock: no
  cross-thread asyncio calls are needed to change an input.
* In non-shared mode a discrete-input block holds 16 inputs per register and
  has one extra sentinel register at the end; the hook keeps it.
* The server must be created inside the running loop (its constructor calls
  ``asyncio.get_running_loop()``), and it opens the port ``exclusive=True``.
* ``ignore_missing_devices`` does not work with ``SimDevice`` in 3.16.1
  (``SimCore`` raises KeyError, which the server answers with exception 4
  instead of staying silent), so this twin answers *every* unit id with an
  exception, which a real RS-485 slave would not. To simulate a silent board,
  drop its replies in the null modem (``modem.set_filter("a>b", lambda b: b"")``).
* ``ServerStop()`` stops the *last started* server of the process (a class
  attribute); with several twins we call ``shutdown()`` on our own instance.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable

from pymodbus.framer import FramerType
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.bit_message import ReadDiscreteInputsRequest, ReadDiscreteInputsResponse
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils


class CourseBoardSimulator:
    """A Modbus RTU slave with ``count`` discrete inputs at ``unit`` on ``port``."""

    def __init__(self, port: str, *, unit: int = 1, count: int = 16, baudrate: int = 19200,
                 refresh: Callable[[], None] | None = None) -> None:
        """``refresh``, when given, runs before each read is answered and may set the inputs: a
        board reads its switches when it is polled, so a twin whose world moves on its own clock
        answers with the world at the poll's time."""
        self.port = port
        self.refresh = refresh
        self.unit = unit
        self.count = count
        self.baudrate = baudrate
        self.reads = 0
        self._bits = [False] * (((count + 15) // 16) * 16)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusSerialServer | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    # -- state ---------------------------------------------------------------

    def set_input(self, index: int, value: bool) -> None:
        if not 0 <= index < self.count:
            raise IndexError(index)
        with self._lock:
            self._bits[index] = bool(value)

    def set_inputs(self, values) -> None:
        values = [bool(v) for v in values]
        if len(values) != self.count:
            raise ValueError(f"expected {self.count} values")
        with self._lock:
            self._bits[: self.count] = values

    def inputs(self) -> tuple[bool, ...]:
        with self._lock:
            return tuple(self._bits[: self.count])

    async def _action(self, function_code, start_address, address, count, registers, set_values):
        if function_code == 2:
            self.reads += 1
            if self.refresh is not None:
                self.refresh()
            with self._lock:
                regs = SimUtils.bitsToRegisters(self._bits)
            registers[: len(regs)] = regs
        return None

    # -- the slave's answer without a server (a lockstep link) ------------------

    def answer(self, request: bytes) -> bytes:
        """The reply frame to one request frame, at once: what the server sends, for a lockstep link.

        Built by pymodbus's own RTU framer and PDUs, as the server builds it: function 02
        within the inputs gives them, anything else an exception reply (as this twin's server
        answers every unit id; see the module doc). Bytes that are no request get no answer.
        """
        framer = FramerRTU(DecodePDU(True))
        try:
            _, pdu = framer.handleFrame(request, 0, 0)
        except Exception:
            return b""
        if pdu is None:
            return b""
        if isinstance(pdu, ReadDiscreteInputsRequest) and pdu.dev_id == self.unit \
                and pdu.address + pdu.count <= self.count:
            self.reads += 1
            if self.refresh is not None:
                self.refresh()
            with self._lock:
                bits = self._bits[pdu.address: pdu.address + pdu.count]
            reply = ReadDiscreteInputsResponse(dev_id=pdu.dev_id, bits=bits)
        else:
            reply = ExceptionResponse(pdu.function_code, 2 if pdu.dev_id == self.unit else 4,
                                      device_id=pdu.dev_id)
        return framer.buildFrame(reply)

    # -- life ----------------------------------------------------------------

    def start(self, timeout: float = 5.0) -> "CourseBoardSimulator":
        if self._thread is not None:
            return self
        self._ready.clear()
        self._thread = threading.Thread(target=self._run, name=f"twin-courseboard-{self.unit}",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout) or self._error is not None:
            self.stop()
            raise RuntimeError(f"course board twin did not start on {self.port}: {self._error!r}")
        return self

    def stop(self, timeout: float = 5.0) -> None:
        loop, server = self._loop, self._server
        if loop is not None and server is not None and loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(server.shutdown(), loop).result(timeout)
            except Exception:
                pass
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._loop = self._server = None

    def __enter__(self) -> "CourseBoardSimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _device(self) -> SimDevice:
        nregs = len(self._bits) // 16
        bits = SimData(0, count=nregs * 16, values=False, datatype=DataType.BITS)
        reg = SimData(0, count=1, values=0, datatype=DataType.REGISTERS)
        coil = SimData(0, count=16, values=False, datatype=DataType.BITS)
        # Non-shared layout: (coils, discrete inputs, holding registers, input registers).
        return SimDevice(id=self.unit, simdata=([coil], [bits], [reg], [reg]), action=self._action)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._server = ModbusSerialServer(self._device(), framer=FramerType.RTU, port=self.port,
                                              baudrate=self.baudrate, ignore_missing_devices=True)
            await self._server.serve_forever(background=True)
            self._ready.set()
            await self._server.serving

        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to start()
            self._error = exc
            self._ready.set()

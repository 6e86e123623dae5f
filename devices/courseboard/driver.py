"""Course sensor board driver: Modbus RTU discrete inputs -> :class:`CourseInputs`.

The course's sensor boards (pole-touch, line and bridge switches wired to
generic RS-485 I/O modules) are read by polling function 02 (Read Discrete
Inputs) of one unit id at ``rate`` Hz with pymodbus's sync
``ModbusSerialClient``, which does the RTU framing and CRC-16.

Emission: by default one reading **per successful poll** (20 Hz). The
observation stream is then a regular sample stream: a change reaches the
controller within one poll period, and a missing sample is visible as a gap
(a device fault), not silently bridged. ``on_change_only=True`` emits only
when an input changed plus a heartbeat every ``heartbeat`` seconds, for
large courses where journal volume matters; ``expected_rate`` (and so
"alive") then follows the heartbeat.

Pitfalls with pymodbus 3.16 (why the code looks like this):

* ``retries=0``: pymodbus retries a request internally and only returns the
  final result; with retries we could not count the bad frames in between,
  and a slow retry would delay the next poll. We poll again anyway.
* A response with a bad CRC is consumed silently by pymodbus's framer, which
  then waits for more bytes until ``timeout``; a truncated response waits the
  same way. Both end as ``ModbusIOException``. ``trace_packet`` shows us the
  bytes that arrived, so a failed poll is classified: no bytes -> ``timeouts``;
  bytes with a full frame's length but a bad CRC -> ``crc_errors``; fewer bytes
  -> ``truncated``. CRC errors and truncated frames count as
  ``frames_dropped``. Keep ``timeout`` short (default 0.1 s, a 6-byte reply at
  9600 baud takes 7 ms) so one bad frame costs at most one or two polls.
* Bytes left over from a bad frame are flushed by pymodbus before the next
  request ("Cleanup recv buffer before send"): that is the resync of RTU,
  which has no start-of-frame marker.
* An exception response (e.g. illegal address: the board has fewer inputs
  than configured) is counted in ``exceptions`` and reported as last_error.
* The port vanishing raises ``ConnectionException``; the runner then
  re-opens with back-off.
* The client keyword is ``device_id=`` (``slave=`` was removed).
* Raw capture: the client's ``send``/``recv`` are wrapped (``_TappedClient``)
  so every byte on the bus reaches the runner's tap. A captured reply is
  decoded again by :meth:`CourseBoardDriver.replay_reply` with pymodbus's own
  RTU framer and the same conversion to :class:`CourseInputs` as a live poll.
"""

from __future__ import annotations

from collections import Counter

from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException
from pymodbus.framer import FramerType
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU

from devices.readings import Clock, CourseInputs
from devices.runner import DeviceRunner, Driver, OnReading


class _TappedClient(ModbusSerialClient):
    """A pymodbus serial client that shows every byte sent and received to its driver."""

    def __init__(self, driver: "CourseBoardDriver", *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._driver = driver

    def send(self, request: bytes, addr: tuple | None = None) -> int:
        size = super().send(request, addr)
        self._driver._on_bytes("tx", request)
        return size

    def recv(self, size: int | None) -> bytes:
        data = super().recv(size)
        if data:
            self._driver._on_bytes("rx", data)
        return data


class CourseBoardDriver(Driver):
    kind = "courseboard"

    def __init__(self, port: str, *, device: str = "courseboard", unit: int = 1,
                 address: int = 0, count: int = 16, rate: float = 20.0,
                 baudrate: int = 19200, timeout: float = 0.1,
                 on_change_only: bool = False, heartbeat: float = 1.0,
                 parity: str = "N", bytesize: int = 8, stopbits: float = 1) -> None:
        if not 1 <= count <= 2000:
            raise ValueError("Modbus reads 1..2000 discrete inputs at a time")
        expected = 1.0 / heartbeat if on_change_only else rate
        super().__init__(device, expected)
        self.port = port
        self.unit = unit
        self.address = address
        self.count = count
        self.poll_interval = 1.0 / rate
        self.baudrate = baudrate
        self.parity, self.bytesize, self.stopbits = parity, bytesize, stopbits
        self.timeout = timeout
        self._clock: Clock | None = None
        self._poll_rx = bytearray()
        self.on_change_only = on_change_only
        self.heartbeat = heartbeat
        self.counts: Counter[str] = Counter()
        self._client: ModbusSerialClient | None = None
        self._rx_len = 0
        self._rx_crc_ok = False
        self._last: tuple[bool, ...] | None = None
        self._last_emit: float | None = None
        # unit, function, byte count, data, CRC
        self._response_len = 3 + (count + 7) // 8 + 2

    def open(self) -> None:
        self._client = _TappedClient(self, self.port, framer=FramerType.RTU, baudrate=self.baudrate,
                                     parity=self.parity, bytesize=self.bytesize, stopbits=self.stopbits,
                                     timeout=self.timeout, retries=0, trace_packet=self._trace_packet)
        if not self._client.connect():
            self._client = None
            raise ConnectionError(f"cannot open {self.port}")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None
        self._last = None  # after a reconnect, the first poll is always emitted

    def _trace_packet(self, sending: bool, data: bytes) -> bytes:
        if sending:
            self._rx_len, self._rx_crc_ok = 0, False
        else:  # pymodbus's receive buffer so far (it shrinks after a bad frame is consumed)
            self._rx_len = max(self._rx_len, len(data))
            if len(data) >= 4:
                crc = int.from_bytes(data[-2:], "big")
                self._rx_crc_ok = FramerRTU.check_CRC(data[:-2], crc)
        return data

    def _on_bytes(self, direction: str, data: bytes) -> None:
        if direction == "rx":
            self.bytes_in += len(data)
            self._poll_rx += data  # tapped at the end of the poll, with the reading's stamp
        elif self.tap is not None and self._clock is not None:
            mono, utc = self._clock.now()
            self.tap(self.device, direction, data, mono, utc)

    def poll(self, clock: Clock) -> list[CourseInputs]:
        assert self._client is not None, "poll() before open()"
        self._clock = clock
        self._poll_rx = bytearray()
        self.counts["polls"] += 1
        try:
            rr = self._client.read_discrete_inputs(self.address, count=self.count,
                                                   device_id=self.unit)
        except ModbusIOException as exc:
            self._classify_failure(exc)
            self._tap_reply(*clock.now())
            return []
        mono, utc = clock.now()
        self._tap_reply(mono, utc)
        return self._reply(rr, mono, utc)

    def _tap_reply(self, mono: float, utc) -> None:
        # One chunk per poll with the stamp its reading gets, so a replay gives the same stamps.
        if self.tap is not None and self._poll_rx:
            self.tap(self.device, "rx", bytes(self._poll_rx), mono, utc)

    def replay_chunk(self, direction: str, data: bytes, mono: float, utc) -> list[CourseInputs]:
        return self.replay_reply(data, mono, utc) if direction == "rx" else []

    def replay_reply(self, data: bytes, mono: float, utc) -> list[CourseInputs]:
        """The reading a captured reply gives, decoded as a live poll would decode it."""
        framer = FramerRTU(DecodePDU(False))
        _, pdu = framer.handleFrame(data, self.unit, 0)
        if pdu is None:
            return []
        return self._reply(pdu, mono, utc)

    def _reply(self, rr, mono: float, utc) -> list[CourseInputs]:
        self.frames_ok += 1
        if rr.isError():
            self.counts["exceptions"] += 1
            self.report_error(f"exception response: {rr}")
            return []
        if len(rr.bits) < self.count:
            self.counts["short_replies"] += 1
            self.report_error(f"reply has {len(rr.bits)} inputs, expected {self.count}")
            return []
        inputs = tuple(bool(b) for b in rr.bits[: self.count])
        changed = inputs != self._last
        self._last = inputs
        if changed:
            self.counts["changes"] += 1
        if self.on_change_only and not changed and self._last_emit is not None \
                and mono - self._last_emit < self.heartbeat:
            return []
        self._last_emit = mono
        return [CourseInputs(mono=mono, utc=utc, device=self.device, unit=self.unit, inputs=inputs)]

    def _classify_failure(self, exc: Exception) -> None:
        if self._rx_len == 0:
            self.counts["timeouts"] += 1
            self.report_error(f"no reply from unit {self.unit}")
        elif self._rx_len >= self._response_len and not self._rx_crc_ok:
            self.counts["crc_errors"] += 1
            self.report_error("reply with bad CRC")
        else:
            self.counts["truncated"] += 1
            self.report_error(f"incomplete reply ({self._rx_len} bytes): {exc}")

    @property
    def frames_dropped(self) -> int:
        return self.counts["crc_errors"] + self.counts["truncated"]

    def idle_state(self) -> str:
        return "rejected" if self.counts["exceptions"] else "starting"

    def health_extra(self) -> dict:
        return {
            "unit": self.unit,
            "polls": self.counts["polls"],
            "timeouts": self.counts["timeouts"],
            "crc_errors": self.counts["crc_errors"],
            "truncated": self.counts["truncated"],
            "exceptions": self.counts["exceptions"],
            "inputs": list(self._last) if self._last is not None else None,
        }


class CourseBoard(DeviceRunner):
    """A Modbus RTU course sensor board polled in its own thread.

    ``CourseBoard(port, on_reading, device=..., clock=..., unit=1, count=16,
    rate=20.0, baudrate=19200, timeout=0.1, on_change_only=False)``;
    ``start()``, ``health()``, ``stop()``.
    """

    def __init__(self, port: str, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, device: str = "courseboard",
                 backoff_initial: float = 0.1, backoff_max: float = 5.0, **driver_kwargs) -> None:
        super().__init__(CourseBoardDriver(port, device=device, **driver_kwargs), on_reading,
                         clock=clock, backoff_initial=backoff_initial, backoff_max=backoff_max)

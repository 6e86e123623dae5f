"""Course sensor board driver: Modbus RTU discrete inputs -> :class:`CourseInputs`.

The course's sensor boards (pole-touch, line and bridge switches wired to
generic RS-485 I/O modules) are read by polling function 02 (Read Discrete
Inputs) of one unit id at ``rate`` Hz.

Emission: by default one reading **per accepted reply** (20 Hz). The
observation stream is then a regular sample stream: a change reaches the
controller within one poll period, and a missing sample is visible as a gap
(a device fault), not silently bridged. ``on_change_only=True`` emits only
when an input changed plus a heartbeat every ``heartbeat`` seconds, for
large courses where journal volume matters; ``expected_rate`` (and so
"alive") then follows the heartbeat.

Strict transactions: a reply is accepted only if it is exactly one frame
with the unit id, the function code and the byte count of the request just
sent and a good CRC, complete within ``timeout`` of the request, and the
line stays quiet for ``quiet`` seconds after it (a second frame right after
it means we cannot know which of the two answered us). Every other outcome
is named and counted (``rejected`` in health):

* ``wrong_unit``: a frame from another unit id (two boards with one id, a
  board answering for its neighbour);
* ``wrong_function``: a frame with another function code (a board answering
  a read of inputs with its coils, function 01);
* ``byte_count``: function 02, but not the number of input bytes asked for
  (another register map);
* ``bad_crc``: a frame whose CRC does not match (line noise);
* ``short``: fewer bytes than a frame needs when the timeout ran out;
* ``late``: bytes that arrive after a timeout (a slow board's reply to the
  previous request), or a reply to a read that lands in a later probe's
  window (see owed replies);
* ``unsolicited``: bytes nobody asked for: a frame after the reply, or on
  the line before a request.

Seen in time: a reply's first byte must be *seen* within the timeout, give
or take one RTU frame gap (3.5 characters, the line's own resolution). A
thread that sees it later woke late: the reply came in time to a host that
starved its driver thread, or came late while that thread slept past its
deadline (an idle thread wakes at the deadline and finds nothing). No master
can tell which, so a good reply seen so is not believed: it gives no
reading and is counted ``untimed``, the host's lateness and not the board's
(it answers this request and does not count toward the board's fault; a host
that starves its driver often loses readings, and the reading rate in health
shows it). A frame that is wrong in itself (another unit, another function)
is rejected as it would be in time. The raw capture marks such a reply
``rx_untimed``, so a replay judges it alike.

After a timeout or a rejected reply the line is drained until it has been
quiet for ``timeout`` seconds before the next request, so a late reply
usually arrives there and is named. After a clean reply only what is already
waiting is drained.

Owed replies: draining cannot catch a reply later than the drain (a board,
or a loaded host, slower than ``2 × timeout``), and such a reply, arriving
alone in the next transaction's window, looks exactly like the prompt
answer to the next request: RTU has no transaction id, and a read of the
same inputs has the same unit, function and byte count. So the driver keeps
the stamps of the reads whose replies may still come (its *debt*): a read
goes on it when its window held no reply to a read from our board (silence,
another unit's frame, a late probe reply); every distinct read reply that
arrives later (in a drain, in a probe's window) pays the oldest. While a
read is owed the driver does not send the read but a *probe*: the same
request with ``count + 8`` inputs, one data byte more, so that no read
reply, however late, fits the probe's window, and a late read reply that
lands there is named ``late`` and pays (a board without those inputs answers
the probe with an exception, counted apart as ``probe_exceptions``). When nothing is owed the next
read goes out and its reply is believed. A probe gives no reading. A read
is forgiven ``late_limit`` clock seconds after it went out: the board
dropped it (as a board drops a request a noise burst damaged), and the
probes end then. Replies may come in any order (a store-and-forward link
holds one back while the next passes), so nothing but a reply or the limit
settles a debt. A reply later than ``late_limit`` cannot be told from a
prompt answer by any master, and is then at most one poll stale. A window
holding a damaged frame, or a frame of our unit with another function or a
third size, is taken as the board's (wrong) answer, not as a debt.

Writes are ours too: pyserial's ``write`` with a write timeout raises
``SerialTimeoutException`` when the timeout has run out by the time it looks,
even after the OS took every byte, so a driver thread that waited for the
CPU between the two would report a port failure (and reconnect) for a
request that went out. The driver writes with its own deadline and fails
only when the OS would not take the bytes in time.

Why the receive side is ours and not pymodbus's (3.16.1): its sync
transaction (``TransactionManager.sync_get_response``) accepts a frame of
any function code (a function 01 reply to a function 02 request is returned
as readings), skips frames of other unit ids silently and keeps waiting,
swallows a bad-CRC buffer without a trace, takes whatever arrives first
after the request (an unsolicited or late frame included), and its
``send`` discards bytes waiting on the line with only a log line. So we use
pymodbus for what it does well, and nothing else: the client opens the port
(``exclusive``, line settings), the RTU framer builds the request and
computes the CRC, its PDU table gives a frame's length from its header and
decodes the reply; the driver owns the timing and the matching.

Pitfalls (pymodbus 3.16): the client keyword is ``device_id=`` (``slave=``
was removed); the port vanishing raises ``OSError``/``SerialException``
from pyserial, and the runner re-opens with back-off.

Raw capture: every drained chunk is tapped as ``rx`` when it is drained,
each request as ``tx``, and each transaction's reply as one ``rx`` chunk
(empty after a silent timeout; ``rx_untimed`` when it was seen too late to
time) with the stamp its reading gets.
:meth:`CourseBoardDriver.replay_chunk` replays them through the same
judgement: an ``rx`` chunk that follows a ``tx`` is a reply, any other is
drained bytes, so a replay gives the same readings, counts and faults.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections import Counter, deque
from typing import Callable

from pymodbus.client import ModbusSerialClient
from pymodbus.framer import FramerType
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu.bit_message import ReadDiscreteInputsRequest

from devices.readings import Clock, CourseInputs
from devices.runner import DeviceRunner, Driver, OnReading

FUNCTION = 0x02  # Read Discrete Inputs
# What a reply can be, besides accepted ("ok"), a timeout and an exception reply.
REJECT_KINDS = ("wrong_unit", "wrong_function", "byte_count", "bad_crc", "short", "late", "unsolicited")
REJECT_TEXT = {
    "wrong_unit": "reply from another unit id",
    "wrong_function": "reply with another function code",
    "byte_count": "reply with another number of inputs (register map?)",
    "bad_crc": "reply with bad CRC",
    "short": "incomplete reply",
    "late": "reply after the timeout",
    "unsolicited": "frame nobody asked for",
}


class _BoardClient(ModbusSerialClient):
    """pymodbus's serial client, whose ``send`` hands waiting bytes to the driver.

    pymodbus reads and discards whatever waits on the line before it sends
    ("Cleanup recv buffer before send"); those bytes are unsolicited frames
    that device health must count, so they go to the driver instead.
    """

    def __init__(self, driver: "CourseBoardDriver", *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._driver = driver

    def send(self, request: bytes, addr: tuple | None = None) -> int:
        self._driver._drain_now()
        return self._driver._write(request)


class CourseBoardDriver(Driver):
    kind = "courseboard"

    def __init__(self, port: str, *, device: str = "courseboard", unit: int = 1,
                 address: int = 0, count: int = 16, rate: float = 20.0,
                 baudrate: int = 19200, timeout: float = 0.1, quiet: float = 0.02,
                 fault_limit: int = 3, fault_window: int = 100,
                 on_change_only: bool = False, heartbeat: float = 1.0,
                 parity: str = "N", bytesize: int = 8, stopbits: float = 1,
                 late_limit: float | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        if not 1 <= count <= 2000:
            raise ValueError("Modbus reads 1..2000 discrete inputs at a time")
        if not 1 <= unit <= 247:
            raise ValueError("a Modbus unit id is 1..247")
        if fault_limit < 1 or fault_window < fault_limit:
            raise ValueError("fault_limit must be at least 1 and at most fault_window")
        late_limit = max(1.0, 4 * timeout) if late_limit is None else late_limit
        if late_limit < 2 * timeout:
            raise ValueError("late_limit must be at least two timeouts (a drain already waits that long)")
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
        # RTU's own timing resolution: a frame ends after 3.5 character times of silence.
        self.frame_gap = 3.5 * (1 + bytesize + stopbits + (parity != "N")) / baudrate
        # At least the frame gap; 20 ms by default because USB adapters deliver bytes in
        # bursts (an FTDI latency timer is 16 ms).
        self.quiet = max(quiet, self.frame_gap)
        self.fault_limit = fault_limit
        self.fault_window = fault_window
        # Clock seconds an owed reply may still come (module doc): 1 s, or four timeouts if longer.
        self.late_limit = late_limit
        # Timeouts, quiet guards and drains are measured on this (wall time on a course; a
        # test's manual clock over a timed lockstep cable, so replies land at chosen instants).
        self._monotonic = monotonic
        self.write_timeout = max(1.0, 4 * timeout)  # how long the OS may refuse a request's bytes
        self.on_change_only = on_change_only
        self.heartbeat = heartbeat
        self.counts: Counter[str] = Counter()
        self._client: _BoardClient | None = None
        self._clock: Clock | None = None
        self._framer = FramerRTU(DecodePDU(False))
        self._request = self._framer.buildFrame(
            ReadDiscreteInputsRequest(address=address, count=count, dev_id=unit))
        self._data_bytes = (count + 7) // 8
        # The probe: the same read with one data byte more (module doc: owed replies). More,
        # not fewer: a board with fewer inputs than configured (another register map) must
        # not look like a probe's answer.
        probe = count + 8 if count + 8 <= 2000 else count - 8
        self._probe = self._framer.buildFrame(
            ReadDiscreteInputsRequest(address=address, count=probe, dev_id=unit))
        self._size = {"read": self._data_bytes, "probe": (probe + 7) // 8}
        # How the last transaction ended: "ok", "timeout" or "rejected". After anything but
        # "ok" the line is drained until quiet for ``timeout`` before the next request.
        self._after = "ok"
        self._armed = False  # replay: a request was sent and its reply chunk not seen yet
        self._sent: float | None = None  # clock stamp of the request just sent (its tx chunk)
        self._probed: float | None = None  # clock stamp of the last probe sent
        self._shape = "read"  # what the request just sent was: "read" or "probe"
        # Clock stamps of the reads whose replies may still come, oldest first (module doc).
        self._debt: list[float] = []
        self._rejections: deque[int] = deque()  # poll numbers of rejected replies
        self._lock = threading.Lock()  # _rejections: the driver thread writes, health() reads
        self._last: tuple[bool, ...] | None = None
        self._last_emit: float | None = None

    # -- port ----------------------------------------------------------------

    def open(self) -> None:
        self._client = _BoardClient(self, self.port, framer=FramerType.RTU, baudrate=self.baudrate,
                                    parity=self.parity, bytesize=self.bytesize, stopbits=self.stopbits,
                                    timeout=self.timeout, retries=0)
        if not self._client.connect():
            self._client = None
            raise ConnectionError(f"cannot open {self.port}")
        self._after = "rejected"  # whatever a previous connection left on the line is not ours

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None
        self._last = None  # after a reconnect, the first poll is always emitted

    # -- one poll ------------------------------------------------------------

    def time_line_on(self, monotonic: Callable[[], float]) -> None:
        """Measure the line's timeouts, quiet guards and drains on ``monotonic`` from now on.

        A lockstep course gives its board a clock of the board's own, which the board's timed cable
        moves as the driver waits: a poll then takes no wall time, and a loaded host cannot make a
        reply that was on the line at once look untimed (it did, on a 2 ms wall-time timeout)."""
        self._monotonic = monotonic

    def poll(self, clock: Clock) -> list[CourseInputs]:
        assert self._client is not None, "poll() before open()"
        self._clock = clock
        if not self._drain(self.timeout if self._after != "ok" else 0.0):
            self.counts["busy_line"] += 1
            return []  # the line never went quiet: no request into a babbling bus
        # Counted when the request goes out, as a replay counts its tx chunks: the fault
        # window is counted in polls, and live and replay must agree on it.
        self.counts["polls"] += 1
        self._forgive(clock.now()[0])
        shape = "probe" if self._debt else "read"
        request = self._probe if shape == "probe" else self._request
        if shape == "probe":
            self.counts["probes"] += 1
        self._client.send(request)
        self._sent, sent_utc = clock.now()
        self._shape = shape
        self._tap("tx", request, self._sent, sent_utc)
        reply, mono, utc, untimed = self._receive(clock)
        self._tap("rx_untimed" if untimed else "rx", reply, mono, utc)
        return self._settle(reply, mono, utc, untimed)

    def _write(self, request: bytes) -> int:
        """Write the request; fail only if the OS would not take it within ``write_timeout``.

        The deadline is checked only when bytes are left over: a request the OS took is
        sent, however long this thread waited for the CPU meanwhile (see the module doc).
        """
        sock = self._client.socket
        if sock is None:
            raise ConnectionError(f"{self.port} closed")
        fd = getattr(sock, "fd", None)
        if not isinstance(fd, int):
            return sock.write(request)  # an in-process port (lockstep://, loop://) takes it all
        view = memoryview(request)
        deadline = self._monotonic() + self.write_timeout
        while view:
            try:
                view = view[os.write(fd, view):]  # pyserial opens the port non-blocking
            except BlockingIOError:
                pass
            if not view:
                break
            left = deadline - self._monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.port}: {len(view)} of {len(request)} request bytes not taken "
                                   f"in {self.write_timeout:g} s")
            select.select([], [fd], [], left)
        return len(request)

    def _read(self, wait: float) -> bytes:
        """What arrives within ``wait`` seconds (returns as soon as something did)."""
        sock = self._client.socket
        if sock is None:
            raise ConnectionError(f"{self.port} closed")
        waiting = sock.in_waiting
        if waiting or wait <= 0:
            return sock.read(waiting) if waiting else b""
        sock.timeout = wait
        data = sock.read(1)
        if data and sock.in_waiting:
            data += sock.read(sock.in_waiting)
        return data

    def _receive(self, clock: Clock) -> tuple[bytes, float, object, bool]:
        """Collect one transaction's reply: until its frame is complete and the line quiet, or the timeout.

        The last value is True when its first byte was seen only past the timeout and the frame
        gap (module doc: seen in time).
        """
        buf = bytearray()
        untimed = False
        start = self._monotonic()
        deadline = start + self.timeout
        complete_at = None
        last_byte = start
        while True:
            now = self._monotonic()
            if complete_at is not None:
                limit = max(complete_at, last_byte) + self.quiet
            elif buf and self._frame_length(buf) is None and len(buf) >= 2:
                # Unknown function code: the frame's length is unknown; RTU ends a frame
                # with silence, so the line going quiet ends it (or the timeout does).
                limit = min(deadline, last_byte + self.quiet)
            else:
                limit = deadline
            # Past the limit, only what already waits is read: the rest of a frame that began
            # in time, a second frame behind it, or the first bytes of a late reply.
            data = self._read(0.0 if now >= limit else limit - now)
            if not data:
                if now >= limit:
                    break
                continue
            last_byte = self._monotonic()
            if not buf:
                untimed = last_byte > deadline + self.frame_gap
            buf += data
            if complete_at is None:
                length = self._frame_length(buf)
                if length is not None and len(buf) >= length:
                    complete_at = last_byte
            if len(buf) > 4 * 256:
                break  # a babbling line: judged (and rejected) with what we have
        # Stamped when the reply is known to be alone on the line (the guard's end), which is
        # when the controller gets the reading: a replay orders chunks by these stamps, and a
        # signal frame that arrived during the guard must stay before it there too.
        mono, utc = clock.now()
        return bytes(buf), mono, utc, untimed

    def _drain(self, quiet: float) -> bool:
        """Read until the line has been quiet for ``quiet`` s (0: only what waits now).

        Once bytes were found, at least ``self.quiet`` of silence is needed. False: the line
        never went quiet (a babbling bus), so no request should be sent into it.
        """
        got = bytearray()
        cap = self._monotonic() + 4 * self.timeout + quiet
        while True:
            data = self._read(quiet)
            if not data:
                break
            got += data
            quiet = max(quiet, self.quiet)
            if self._monotonic() > cap:
                self._drained(bytes(got))
                return False
        if got:
            self._drained(bytes(got))
        return True

    def _drain_now(self) -> None:
        sock = self._client.socket if self._client is not None else None
        if sock is not None and sock.in_waiting:
            self._drained(sock.read(sock.in_waiting))

    def _drained(self, data: bytes) -> None:
        mono, utc = self._clock.now() if self._clock is not None else (None, None)
        self._tap("rx", data, mono, utc)
        self._count_drained(data, mono)

    def _tap(self, direction: str, data: bytes, mono: float | None = None, utc=None) -> None:
        if direction == "rx":
            self.bytes_in += len(data)
        if self.tap is None or self._clock is None:
            return
        if mono is None:
            mono, utc = self._clock.now()
        self.tap(self.device, direction, data, mono, utc)

    # -- judgement (live and replay) -----------------------------------------

    def _frame_length(self, buf: bytes) -> int | None:
        """Length of the RTU frame that starts ``buf``, from its header (pymodbus's PDU table)."""
        if len(buf) < 2:
            return None
        if buf[1] & 0x80:
            return 5  # unit, function | 0x80, exception code, CRC
        try:
            pdu_class = self._framer.decoder.lookupPduClass(bytes(buf))
            size = pdu_class.calculateRtuFrameSize(bytes(buf)) if pdu_class is not None else 0
        except Exception:  # pymodbus 3.16: IndexError on a short MEI (0x2B) header,
            return None    # NotImplementedException for classes without an RTU size
        return size or None

    def judge(self, reply: bytes, data_bytes: int | None = None) -> tuple[str, tuple[bool, ...] | None]:
        """What one transaction's reply bytes are: ("ok", inputs) or (a named kind, None).

        ``data_bytes``: the byte count the request asked for (the read's by default).
        """
        if not reply:
            return "timeout", None
        length = self._frame_length(reply)
        if length is None:
            if len(reply) < 4:
                return "short", None
            if not self._crc_ok(reply):
                return "bad_crc", None
            return ("wrong_unit" if reply[0] != self.unit else "wrong_function"), None
        if len(reply) < length:
            return "short", None
        frame = reply[:length]
        if not self._crc_ok(frame):
            return "bad_crc", None
        if len(reply) > length:
            return "unsolicited", None  # more after the frame: which one answered us?
        if frame[0] != self.unit:
            return "wrong_unit", None
        if frame[1] == FUNCTION | 0x80:
            return "exception", None
        if frame[1] != FUNCTION:
            return "wrong_function", None
        if frame[2] != (data_bytes or self._data_bytes):
            return "byte_count", None
        pdu = self._framer.decoder.decode(frame[1:-2])
        if pdu is None:
            return "byte_count", None
        return "ok", tuple(bool(b) for b in pdu.bits[: self.count])

    @staticmethod
    def _crc_ok(frame: bytes) -> bool:
        return FramerRTU.check_CRC(frame[:-2], int.from_bytes(frame[-2:], "big"))

    def replies_in(self, data: bytes) -> set[tuple[str, bytes]]:
        """The distinct frames in ``data`` that answer a read or a probe of ours: (shape, frame).

        Our unit, function 02, the byte count of the read or of the probe, good CRC.
        Distinct, because a frame sent twice must not pay for two requests.
        """
        shapes = {size: shape for shape, size in self._size.items()}
        found, i = set(), 0
        while i < len(data) - 4:
            shape = shapes.get(data[i + 2]) if data[i] == self.unit and data[i + 1] == FUNCTION else None
            frame = data[i:i + 5 + data[i + 2]] if shape else b""
            if shape and len(frame) == 5 + data[i + 2] and self._crc_ok(frame):
                found.add((shape, bytes(frame)))
                i += len(frame)
            else:
                i += 1
        return found

    def _forgive(self, before: float | None) -> None:
        """Forget owed replies to reads sent more than ``late_limit`` before ``before``."""
        if before is not None:
            self._debt = [sent for sent in self._debt if before - sent <= self.late_limit]

    def _pay(self, replies: set[tuple[str, bytes]]) -> None:
        """Read replies came: each pays the oldest owed read (probe replies owe nothing)."""
        del self._debt[:sum(1 for shape, _ in replies if shape == "read")]

    def _count_drained(self, data: bytes, mono: float | None = None) -> None:
        # After a timeout the bytes are that request's reply, too late; after a clean
        # reply they are frames nobody asked for (or a reply still owed: late). After a
        # rejected reply they are the rest of what was already counted. Every reply of
        # ours among them pays an owed one (module doc).
        self._forgive(mono)
        owed = bool(self._debt)
        self._pay(self.replies_in(data))
        if self._after == "timeout" or (self._after == "ok" and owed):
            self._reject("late")
        elif self._after == "ok":
            self._reject("unsolicited")
        self._after = "rejected"

    def _reject(self, kind: str) -> None:
        self.counts[kind] += 1
        with self._lock:
            self._rejections.append(self.counts["polls"])
        self.report_error(f"{REJECT_TEXT[kind]} (unit {self.unit})")

    def _settle(self, reply: bytes, mono: float, utc, untimed: bool = False) -> list[CourseInputs]:
        shape, sent = self._shape, self._sent if self._sent is not None else mono
        self._shape, self._sent = "read", None
        if shape == "probe":
            self._probed = sent
        kind, inputs = self.judge(reply, self._size[shape])
        replies = self.replies_in(reply)
        if self._probed is None or sent - self._probed > self.late_limit:
            # No probe of ours can still be answered: a frame of its size is another map's.
            replies = {(s, f) for s, f in replies if s == "read"}
        if shape == "probe":
            # Sent because a read was owed: read replies here are late ones, and pay.
            self._pay(replies)
            if any(s == "read" for s, _ in replies) and kind == "byte_count":
                kind = "late"
        elif kind in ("timeout", "wrong_unit", "unsolicited", "byte_count") \
                and not any(s == "read" for s, _ in replies) and (kind != "byte_count" or replies):
            # Nothing from our board that answers a read (silence, another unit's frame, a
            # late probe reply): this read's reply may still come.
            self._debt.append(sent)
            if kind == "byte_count":
                kind = "late"  # a probe's reply, after its window
        # An exception reply is a valid answer: nothing else is on its way.
        self._after = kind if kind in ("ok", "timeout") else "ok" if kind == "exception" else "rejected"
        if kind == "timeout":
            self.counts["timeouts"] += 1
            self.report_error(f"no reply from unit {self.unit}")
            return []
        if kind == "exception" and shape == "probe":
            self.frames_ok += 1
            self.counts["probe_exceptions"] += 1  # a board without the probe's extra inputs
            return []
        if kind == "exception":
            self.frames_ok += 1
            self.counts["exceptions"] += 1
            self.report_error(f"exception response from unit {self.unit}: code {reply[2]}")
            return []
        if kind != "ok":
            self._reject(kind)
            return []
        self.frames_ok += 1
        if shape == "probe":
            self.counts["probe_replies"] += 1
            return []  # the probe is not the read: no reading from it
        if untimed:
            self.counts["untimed"] += 1
            self.report_error(f"reply from unit {self.unit} seen only after the timeout "
                              "(the host's driver thread woke late): no reading")
            return []
        if self.faulted:
            self.report_error(self.fault_reason())
            return []
        self.counts["replies"] += 1
        changed = inputs != self._last
        self._last = inputs
        if changed:
            self.counts["changes"] += 1
        if self.on_change_only and not changed and self._last_emit is not None \
                and mono - self._last_emit < self.heartbeat:
            return []
        self._last_emit = mono
        return [CourseInputs(mono=mono, utc=utc, device=self.device, unit=self.unit, inputs=inputs)]

    # -- replay --------------------------------------------------------------

    def replay_chunk(self, direction: str, data: bytes, mono: float, utc) -> list[CourseInputs]:
        if direction == "tx":
            self.counts["polls"] += 1
            self._armed = True
            self._sent = mono
            self._shape = "probe" if data == self._probe else "read"
            if self._shape == "probe":
                self.counts["probes"] += 1
            return []
        if not self._armed:
            self._count_drained(data, mono)
            return []
        self._armed = False
        return self._settle(data, mono, utc, untimed=direction == "rx_untimed")

    def replay_reply(self, data: bytes, mono: float, utc) -> list[CourseInputs]:
        """The reading one reply to our request gives, judged as a live poll judges it."""
        self.counts["polls"] += 1
        return self._settle(data, mono, utc)

    # -- health --------------------------------------------------------------

    @property
    def rejected_recent(self) -> int:
        oldest = self.counts["polls"] - self.fault_window
        with self._lock:
            while self._rejections and self._rejections[0] <= oldest:
                self._rejections.popleft()
            return len(self._rejections)

    @property
    def faulted(self) -> bool:
        return self.rejected_recent >= self.fault_limit

    def fault_reason(self) -> str:
        kinds = ", ".join(f"{k} {self.counts[k]}" for k in REJECT_KINDS if self.counts[k])
        return (f"faulted: {self.rejected_recent} rejected replies in the last {self.fault_window} polls "
                f"(limit {self.fault_limit}; {kinds})")

    @property
    def frames_dropped(self) -> int:
        # Frames that arrived and were refused. A late reply is the tail of a timeout (a slow
        # board, or a twin starved by a loaded host), which was never a dropped frame; it
        # still counts toward the fault limit.
        return sum(self.counts[k] for k in REJECT_KINDS if k != "late")

    def idle_state(self) -> str:
        return "rejected" if self.counts["exceptions"] else "starting"

    def line_fault(self) -> str | None:
        return "mismatch" if self.faulted else None

    def health_extra(self) -> dict:
        return {
            "unit": self.unit,
            "polls": self.counts["polls"],
            "timeouts": self.counts["timeouts"],
            "exceptions": self.counts["exceptions"],
            "probes": self.counts["probes"],  # requests sent while a read's reply was owed
            "untimed": self.counts["untimed"],  # good replies seen too late to time (module doc)
            "owed": len(self._debt),
            "rejected": {k: self.counts[k] for k in REJECT_KINDS},
            "rejected_recent": self.rejected_recent,
            "faulted": self.faulted,
            "fault_limit": self.fault_limit,
            "inputs": list(self._last) if self._last is not None else None,
        }


class CourseBoard(DeviceRunner):
    """A Modbus RTU course sensor board polled in its own thread.

    ``CourseBoard(port, on_reading, device=..., clock=..., unit=1, count=16,
    rate=20.0, baudrate=19200, timeout=0.1, quiet=0.02, fault_limit=3,
    on_change_only=False, late_limit=None)``; ``start()``, ``health()``, ``stop()``.
    """

    def __init__(self, port: str, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, device: str = "courseboard",
                 backoff_initial: float = 0.1, backoff_max: float = 5.0, **driver_kwargs) -> None:
        super().__init__(CourseBoardDriver(port, device=device, **driver_kwargs), on_reading,
                         clock=clock, backoff_initial=backoff_initial, backoff_max=backoff_max)

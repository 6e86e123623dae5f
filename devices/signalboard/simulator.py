"""Simulated vehicle signal board: true signal state in, ``$EXSIG`` bytes out.

Like the real board it sends every ``1 / rate`` seconds (20 Hz) *and*
immediately when the flags or the gear change (a roll change alone waits
for the next periodic sentence). The state comes from a callable, checked
every ``check_interval`` clock seconds; call :meth:`wake` after changing the
state to send at once. Tests can corrupt the next sentence.
"""

from __future__ import annotations

import threading
from typing import Callable

from devices.framing import with_checksum
from devices.readings import Clock
from devices.signalboard.protocol import MOTORCYCLE, SignalState, encode
from devices.twin import SerialTwin


class SignalBoardSimulator(SerialTwin):
    name = "signalboard"

    def __init__(self, port: str, source: Callable[[], SignalState], *,
                 present: frozenset[str] = MOTORCYCLE, rate: float = 20.0,
                 check_interval: float = 0.005, baudrate: int = 115200,
                 clock: Clock | None = None) -> None:
        super().__init__(port, rate=rate, baudrate=baudrate, clock=clock)
        self.source = source
        self.present = frozenset(present)
        self.check_interval = check_interval
        self.seq = 0
        self.sent = 0
        self._last_key = None
        self._last_sent_mono: float | None = None
        self._corrupt: list[str] = []
        self._corrupt_lock = threading.Lock()

    def corrupt_next(self, how: str = "checksum") -> None:
        """"checksum", "truncate" (half a sentence, no line end) or "field" (bad gear, valid checksum)."""
        if how not in ("checksum", "truncate", "field"):
            raise ValueError(how)
        with self._corrupt_lock:
            self._corrupt.append(how)

    def tick_interval(self) -> float:
        return self.check_interval

    def next_due(self, now: float) -> float:
        # Between periodic sentences only a change sends, and a change wakes the twin.
        if self._last_sent_mono is None:
            return now + self.check_interval
        return max(now + self.check_interval, self._last_sent_mono + 1.0 / self.rate - 1e-9)

    def tick(self) -> None:
        state = self.source()
        mono, _ = self.clock.now()
        key = (state.flags & self.present, state.gear)
        due = self._last_sent_mono is None or mono - self._last_sent_mono >= 1.0 / self.rate - 1e-9
        if key != self._last_key or due:
            self.send(state)
            self._last_key = key
            self._last_sent_mono = mono

    def send(self, state: SignalState) -> None:
        sentence = encode(self.seq, self.present, state)
        self.seq = (self.seq + 1) % 65536
        with self._corrupt_lock:
            how = self._corrupt.pop(0) if self._corrupt else None
        line = sentence.encode("ascii") + b"\r\n"
        if how == "checksum":
            line = sentence[:-2].encode() + b"%02X" % (int(sentence[-2:], 16) ^ 0x21) + b"\r\n"
        elif how == "truncate":
            line = sentence.encode()[: len(sentence) // 2]
        elif how == "field":
            body = sentence[1:sentence.index("*")].split(",")
            body[4] = "9"
            line = with_checksum(",".join(body)).encode() + b"\r\n"
        self.write(line)
        self.sent += 1

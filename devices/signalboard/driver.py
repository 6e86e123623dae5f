"""Vehicle signal board driver: ``$EXSIG`` sentences -> :class:`SignalFrame`.

Layers: transport -> :class:`~devices.framing.SentenceFramer` (``$`` resync,
checksum, 64-byte limit) -> :func:`~devices.signalboard.protocol.decode`
(strict fields) -> SignalFrame. Sentences of other types on the same line
are ignored (counted as ``other_sentences``), so a board that shares a UART
with a GNSS receiver does not make this driver drop frames.

Health extras: ``sequence_gaps`` (sentences lost between two received ones,
by sequence number: lost bytes the framer never saw), ``present`` (the wired
inputs of the last frame) and the drop counters by reason.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from devices.framing import SentenceFramer
from devices.readings import Clock, SignalFrame
from devices.runner import DeviceRunner, OnReading, StreamDriver
from devices.signalboard.protocol import MAX_LENGTH, MalformedSentence, decode, is_signal_sentence


class SignalBoardDriver(StreamDriver):
    kind = "signalboard"

    def __init__(self, port: str, *, device: str = "signalboard", baudrate: int = 115200,
                 rate: float = 20.0, read_timeout: float = 0.05,
                 parity: str = "N", bytesize: int = 8, stopbits: float = 1) -> None:
        super().__init__(port, device, rate, baudrate, read_timeout, parity, bytesize, stopbits)
        self.framer = SentenceFramer(max_length=MAX_LENGTH)
        self.counts: Counter[str] = Counter()
        self._last_seq: int | None = None
        self._present: frozenset[str] | None = None

    def feed(self, data: bytes, mono: float, utc: datetime) -> list[SignalFrame]:
        out: list[SignalFrame] = []
        for sentence in self.framer.feed(data):
            if not is_signal_sentence(sentence):
                self.counts["other_sentences"] += 1
                continue
            try:
                d = decode(sentence)
            except MalformedSentence:
                self.counts["malformed_fields"] += 1
                continue
            if self._last_seq is not None:
                gap = (d.sequence - self._last_seq - 1) % 65536
                if gap and gap < 32768:  # a large "gap" is a board restart, not loss
                    self.counts["sequence_gaps"] += gap
            self._last_seq = d.sequence
            self._present = d.present
            self.frames_ok += 1
            out.append(SignalFrame(mono=mono, utc=utc, device=self.device, sequence=d.sequence,
                                   flags=d.flags, present=d.present, gear=d.gear, roll=d.roll))
        return out

    def on_disconnect(self) -> None:
        self.framer.reset()
        self._last_seq = None

    @property
    def frames_dropped(self) -> int:
        return self.framer.dropped + self.counts["malformed_fields"]

    def health_extra(self) -> dict:
        return {
            "sequence_gaps": self.counts["sequence_gaps"],
            "present": sorted(self._present) if self._present is not None else None,
            "drops": {**{k: v for k, v in self.framer.counts.items() if v},
                      "malformed_fields": self.counts["malformed_fields"]},
        }


class SignalBoard(DeviceRunner):
    """A vehicle signal board on a serial port, read in its own thread.

    ``SignalBoard(port, on_reading, device=..., clock=..., baudrate=115200,
    rate=20.0)``; ``start()``, ``health()``, ``stop()``.
    """

    def __init__(self, port: str, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, device: str = "signalboard",
                 backoff_initial: float = 0.1, backoff_max: float = 5.0, **driver_kwargs) -> None:
        super().__init__(SignalBoardDriver(port, device=device, **driver_kwargs), on_reading,
                         clock=clock, backoff_initial=backoff_initial, backoff_max=backoff_max)

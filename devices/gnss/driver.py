"""GNSS receiver driver: serial NMEA 0183 -> :class:`GnssFix` per epoch.

Layers: transport (:func:`devices.transport.open_serial`) -> framer
(:class:`devices.framing.SentenceFramer`: boundaries, checksum, resync) ->
decoder (:class:`devices.gnss.decoder.NmeaEpochDecoder`: pynmea2, epochs).
:meth:`GnssDriver.feed` is pure, so :func:`replay` runs a capture through the
same code without a port.

Timing: every fix is stamped by its receiver epoch
(:class:`devices.gnss.epoch_clock.EpochClock`, given to the decoder), not by
the arrival of the sentence that completed it, so a reader thread that was
starved and reads several epochs at once still gives each its own time.

Health extras: ``fix_quality`` (0 = no fix, 4 = RTK fixed, 5 = RTK float),
``satellites``, ``hdop``, ``correction_age``, ``no_fix_epochs``,
``fixes_without_speed`` and ``speed_missing_streak`` (fixes in a row whose
epoch had no RMC or VTG: their ``speed`` is None, never 0), the learned
``sentence_order`` (``epoch_end="auto"``), and the drop counters by reason. ``frames_dropped`` is everything the framer dropped plus
sentences that passed the checksum but held impossible values; sentences
that are valid but unused (GSV, ...) and late ones are not drops.
"""

from __future__ import annotations

from datetime import datetime, timezone

from devices.framing import SentenceFramer
from devices.gnss.decoder import TALKERS, NmeaEpochDecoder
from devices.gnss.epoch_clock import EpochClock, LogClock
from devices.readings import Clock, GnssFix
from devices.runner import DeviceRunner, OnReading, StreamDriver


class GnssDriver(StreamDriver):
    kind = "gnss"

    def __init__(self, port: str, *, device: str = "gnss", baudrate: int = 38400,
                 rate: float = 10.0, epoch_end: str | None = "GGA",
                 talkers: tuple[str, ...] = TALKERS, max_sentence: int = 200,
                 read_timeout: float = 0.05,
                 parity: str = "N", bytesize: int = 8, stopbits: float = 1,
                 timing: EpochClock | LogClock | None = None) -> None:
        super().__init__(port, device, rate, baudrate, read_timeout, parity, bytesize, stopbits)
        # Kept across reconnects: a re-opened port does not change the line's latency, a
        # receiver that restarted with another time is caught by the clock's step rule, and a
        # raw capture (which records no reconnects) replays to the same stamps.
        self.timing = timing if timing is not None else EpochClock()
        self.framer = SentenceFramer(max_length=max_sentence)
        self.decoder = NmeaEpochDecoder(device, epoch_end=epoch_end, talkers=talkers,
                                        timing=self.timing)

    def feed(self, data: bytes, mono: float, utc: datetime) -> list[GnssFix]:
        fixes: list[GnssFix] = []
        sentences = self.framer.feed(data)
        marks = self.framer.drop_marks
        m = 0
        for i, sentence in enumerate(sentences):
            # Tell the decoder where bytes were lost, between which sentences: an untimed
            # VTG/HDT is only tied to an epoch across an intact stretch of the stream.
            while m < len(marks) and marks[m] <= i:
                self.decoder.note_damage()
                m += 1
            self.frames_ok += 1
            fixes += self.decoder.push(sentence, mono, utc)
        if m < len(marks):
            self.decoder.note_damage()  # after the last sentence of this read
        return fixes

    def idle_state(self) -> str:
        # Valid sentences but no fix reading: the receiver reports epochs without a position.
        return "no_fix" if self.decoder.status.fix_quality == 0 else "starting"

    def on_disconnect(self) -> None:
        self.framer.reset()
        self.decoder.reset()

    @property
    def frames_dropped(self) -> int:
        return self.framer.dropped + self.decoder.malformed

    def health_extra(self) -> dict:
        st = self.decoder.status
        return {
            "fix_quality": st.fix_quality,
            "satellites": st.satellites,
            "hdop": st.hdop,
            "correction_age": st.correction_age,
            "no_fix_epochs": st.counts["no_fix_epochs"],
            "late_sentences": st.counts["late"],
            "fixes_without_speed": st.counts["fixes_without_speed"],
            "speed_missing_streak": st.speed_missing_streak,
            # speeds and courses refused because the RTK track contradicted them (decoder doc)
            "track_disagrees": st.counts["track_disagrees"],
            # values one sentence alone reported that no vehicle could reach from the fixes beside
            # them (devices/gnss/neighbours.py): refused, the fix sent without them
            "neighbours_disagree": st.counts["neighbours_disagree"],
            "unwitnessed": st.counts["unwitnessed"],  # ... or that no fix beside them could confirm
            # of neighbours_disagree: values off the turn through the fixes before and after them
            "next_fix_disagrees": st.counts["next_fix_disagrees"],
            "sentence_order": list(self.decoder.learned_order) if self.decoder.learned_order else None,
            "drops": {**{k: v for k, v in self.framer.counts.items() if v},
                      "malformed_fields": self.decoder.malformed},
        }


class GnssReceiver(DeviceRunner):
    """A GNSS receiver on a serial port, read in its own thread.

    ``GnssReceiver(port, on_reading, device=..., clock=..., baudrate=38400,
    rate=10.0, epoch_end="GGA")``; ``start()``, ``health()``, ``stop()``.
    """

    def __init__(self, port: str, on_reading: OnReading | None = None, *,
                 clock: Clock | None = None, device: str = "gnss",
                 backoff_initial: float = 0.1, backoff_max: float = 5.0, **driver_kwargs) -> None:
        super().__init__(GnssDriver(port, device=device, **driver_kwargs), on_reading,
                         clock=clock, backoff_initial=backoff_initial, backoff_max=backoff_max)


def replay(data: bytes, *, device: str = "replay", epoch_end: str | None = "GGA",
           chunk: int = 4096, mono: float = 0.0,
           utc: datetime = datetime(2000, 1, 1, tzinfo=timezone.utc)) -> tuple[list[GnssFix], GnssDriver]:
    """Run captured bytes through the driver's framer and decoder, without a port.

    Bare bytes have no arrival times, so the receiver's epochs time the fixes
    (:class:`~devices.gnss.epoch_clock.LogClock`): the first timed fix gets
    ``mono``/``utc``, later ones that plus their epoch's distance from it.
    Returns the fixes and the driver (for its counters).
    """
    drv = GnssDriver("replay://", device=device, epoch_end=epoch_end, timing=LogClock())
    fixes: list[GnssFix] = []
    for i in range(0, len(data), chunk):
        fixes += drv.feed(data[i:i + chunk], mono, utc)
    fixes += drv.decoder.flush(mono, utc)
    return fixes, drv

"""A million random and a million mutated bytes through each framer: no exception, no false reading.

Random bytes must give no reading at all. Mutated streams (valid frames with
bytes substituted, inserted, deleted or cut) may lose readings, but every
reading that comes out must be one that was really sent.

The damage rate matters for NMEA: its 8-bit XOR misses some multi-byte
damage inside one sentence (two equal characters lost). At 2 damaged bytes
per kB (a very bad line; a good one has < 1 per MB) the learned sentence
order and the GGA/RMC cross-check leave no false fix in a million bytes; at 8
per kB about 0.6 % of epochs still carry a neighbour's heading or speed and
0.1 % a wrong position (see docs/devices.md). The signal board and Modbus
streams are held to "never false" at 8 per kB. The drivers are fed
in random chunk sizes, as serial reads split a stream anywhere. The Modbus
course board is fed reply by reply, as it polls (each poll frames what
arrived since its request, with pymodbus's RTU framer and CRC).
"""

import random
from datetime import datetime, timedelta, timezone

import pytest
from pymodbus.pdu.bit_message import ReadDiscreteInputsResponse
from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU

from devices.courseboard.driver import CourseBoardDriver
from devices.gnss import GnssDriver, GnssTruth, build_epoch
from devices.signalboard.driver import SignalBoardDriver
from devices.signalboard.protocol import MOTORCYCLE, SignalState, encode

pytestmark = pytest.mark.own_clock  # a million bytes take seconds of CPU, but no port, process or thread

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
MILLION = 1_000_000


def random_bytes(rng: random.Random, n: int) -> bytes:
    # Mostly uniform bytes, with stretches biased towards the framing characters, so the
    # framers see many "$", "*", digits and line ends, not only noise they reject at once.
    out = bytearray(rng.randbytes(n))
    alphabet = b"$*,\r\n0123456789ABCDEFGNPRMCVT.-"
    for _ in range(n // 50):
        i = rng.randrange(n)
        out[i:i + 8] = bytes(rng.choice(alphabet) for _ in range(8))
    return bytes(out[:n])


def mutate(rng: random.Random, data: bytes, per_kb: int = 8) -> bytes:
    out = bytearray(data)
    # Damage is spread as a rate: short inputs get damage with the right probability.
    damage = len(data) * per_kb / 1024
    for _ in range(int(damage) + (rng.random() < damage % 1)):
        i = rng.randrange(len(out))
        op = rng.randrange(4)
        if op == 0:
            out[i] = rng.randrange(256)
        elif op == 1:
            out.insert(i, rng.randrange(256))
        elif op == 2:
            del out[i]
        else:
            out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def feed_chunked(driver, rng: random.Random, data: bytes) -> list:
    out, i = [], 0
    while i < len(data):
        n = rng.randint(1, 512)
        out += driver.feed(data[i:i + n], 0.0, T0)
        i += n
    return out


def test_gnss_framer_and_decoder():
    rng = random.Random(1)
    assert feed_chunked(GnssDriver("fuzz://"), rng, random_bytes(rng, MILLION)) == []

    # A receiver sends each epoch as one burst, 0.1 s apart: each burst is damaged, split
    # into random reads and stamped with its arrival time, as a live driver sees it
    # (the decoder does not use the stamps to group sentences).
    drv, fixes, sent, size, k = GnssDriver("fuzz://", rate=10), [], {}, 0, 0
    while size < MILLION:
        truth = GnssTruth(30.0 + k * 1e-6, 114.0 + k * 1e-6, speed=k % 7, course=float(k % 360),
                          heading=float(k % 360), quality=4 if k % 3 else 5, satellites=10 + k % 20)
        when = T0 + timedelta(seconds=k * 0.1)
        burst = "".join(s + "\r\n" for s in build_epoch(truth, when)).encode()
        sent[when.strftime("%H%M%S") + ".%02d" % (when.microsecond // 10000)] = truth
        damaged = mutate(rng, burst, per_kb=2)
        size += len(damaged)
        i = 0
        while i < len(damaged):
            n = rng.randint(1, 256)
            fixes += drv.feed(damaged[i:i + n], k * 0.1 + i * 1e-5, when)
            i += n
        k += 1
    assert len(fixes) > k // 2  # most epochs survive 2 damaged bytes per kB
    for f in fixes:
        truth = sent[f.receiver_time]
        assert f.latitude == pytest.approx(truth.latitude, abs=1e-8)
        assert f.longitude == pytest.approx(truth.longitude, abs=1e-8)
        assert f.quality == truth.quality
        # An epoch whose GGA was destroyed is emitted from its RMC: no satellites, no altitude.
        assert f.satellites in (None, truth.satellites) and f.heading in (None, truth.heading)
        assert f.speed is None or f.speed == pytest.approx(truth.speed, abs=1e-3)


def test_signal_board_framer_and_decoder():
    rng = random.Random(2)
    assert feed_chunked(SignalBoardDriver("fuzz://"), rng, random_bytes(rng, MILLION)) == []

    names = sorted(MOTORCYCLE)
    sent = {}
    stream = bytearray()
    seq = 0
    while len(stream) < MILLION:
        state = SignalState(frozenset(n for n in names if rng.random() < 0.3), rng.choice("NR123"),
                            round(rng.uniform(-30, 30), 1))
        stream += encode(seq, MOTORCYCLE, state).encode() + b"\r\n"
        sent[seq] = state
        seq = (seq + 1) % 65536
    frames = feed_chunked(SignalBoardDriver("fuzz://"), rng, mutate(rng, bytes(stream)))
    assert len(frames) > len(sent) // 2
    # Sequence numbers wrap after 65536 sentences; the stream holds fewer, so each is unique.
    assert len(stream) // 35 < 65536
    for f in frames:
        state = sent[f.sequence]
        assert (f.flags, f.gear, f.roll) == (state.flags, state.gear, state.roll)


def rtu_reply(unit: int, bits: list[bool]) -> bytes:
    pdu = ReadDiscreteInputsResponse(bits=bits, dev_id=unit)
    return FramerRTU(DecodePDU(False)).buildFrame(pdu)


def test_modbus_rtu_replies():
    # The driver's judgement of one transaction's bytes (what a live poll and a replay both run);
    # the driver's fault (too many rejections) would hide readings, so the judgement is fuzzed.
    rng = random.Random(3)
    drv = CourseBoardDriver("fuzz://", unit=1, count=16)
    total, accepted = 0, 0
    while total < MILLION:
        reply = rng.randbytes(rng.randint(1, 40))
        accepted += drv.judge(reply)[0] == "ok"
        total += len(reply)
    assert accepted == 0

    total, good, bad = 0, 0, 0
    while total < MILLION:
        bits = [rng.random() < 0.5 for _ in range(16)]
        reply = rtu_reply(1, bits)
        damaged = mutate(rng, reply, per_kb=rng.choice((0, 100, 300)))
        total += len(damaged)
        kind, inputs = drv.judge(damaged)
        if kind == "ok":
            if damaged == reply:
                good += 1
            else:
                bad += 1
            assert list(inputs) == bits
    assert good > 0

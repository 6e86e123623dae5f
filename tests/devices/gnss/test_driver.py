"""GnssReceiver against GnssSimulator over the null modem, and a fuzz of feed()."""

import queue
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from devices.gnss import GnssDriver, GnssReceiver, GnssSimulator, GnssTruth, build_epoch
from devices.rawcapture import RawChunk, replay_arrivals
from devices.readings import ScaledClock
from devices.runner import DeviceRunner
from devices.transport import open_serial
from tests.devices.conftest import wait_for
from tests.devices.mutation import MUTATIONS, mutate

TRUTH = GnssTruth(30.5123456, 114.2543210, altitude=21.5, speed=3.0, course=45.0, heading=47.0,
                  quality=4, satellites=22, hdop=0.6, correction_age=1.0)


def test_fix_arrives_with_right_values(modem):
    got = []
    with GnssSimulator(modem.a, lambda: TRUTH, rate=50), GnssReceiver(modem.b, got.append) as rx:
        wait_for(lambda: len(got) >= 5)
        h = rx.health()
    f = got[-1]
    assert f.latitude == pytest.approx(TRUTH.latitude, abs=1e-8)
    assert f.longitude == pytest.approx(TRUTH.longitude, abs=1e-8)
    assert (f.altitude, f.quality, f.satellites, f.hdop, f.correction_age) == (21.5, 4, 22, 0.6, 1.0)
    assert f.speed == pytest.approx(3.0, abs=1e-3) and f.course == 45.0 and f.heading == 47.0
    assert f.device == "gnss" and f.utc.tzinfo is not None
    assert all(a.mono <= b.mono for a, b in zip(got, got[1:]))
    assert h.frames_dropped == 0 and h.extra["fix_quality"] == 4 and h.extra["satellites"] == 22


def test_queue_source_and_health_alive(modem):
    q = queue.Queue()
    q.put(TRUTH)
    got = []
    with GnssSimulator(modem.a, q, rate=20), GnssReceiver(modem.b, got.append, rate=20) as rx:
        wait_for(lambda: len(got) >= 3)
        q.put(GnssTruth(31.0, 115.0, quality=5))
        wait_for(lambda: got[-1].quality == 5)
        wait_for(lambda: rx.health().rate > 5)
        assert rx.health().alive
    assert got[-1].latitude == pytest.approx(31.0)


@pytest.mark.parametrize("how,sentence", [("checksum", "GGA"), ("truncate", "GGA"),
                                          ("garbage", "RMC"), ("field", "GGA")])
def test_corrupt_sentence_counted_not_delivered(modem, how, sentence):
    seen = []
    truths = iter(range(10**9))

    def source():  # every epoch has its own latitude, so a lost epoch is identifiable
        return GnssTruth(30.0 + next(truths) * 1e-5, 114.0)

    with GnssSimulator(modem.a, source, rate=50) as sim, GnssReceiver(modem.b, seen.append) as rx:
        wait_for(lambda: len(seen) >= 3)
        sim.corrupt_next(how, sentence)
        wait_for(lambda: rx.health().frames_dropped >= 1)
        n = len(seen)
        wait_for(lambda: len(seen) >= n + 3)  # and it goes on
        h = rx.health()
    assert h.frames_dropped == 1
    lats = [round((f.latitude - 30.0) / 1e-5) for f in seen]
    assert lats == sorted(lats) and len(set(lats)) == len(lats)  # in order, never twice
    # Without its GGA an epoch is still emitted from its RMC when the next epoch starts
    # (time change), with RMC's quality (mode R = RTK fixed) but no altitude/satellites.
    assert sum(f.altitude is None for f in seen) <= 1
    for f in seen:
        assert f.quality == 4


def test_scaled_clock_stamps(modem):
    clock = ScaledClock(10.0)
    got = []
    with GnssSimulator(modem.a, lambda: TRUTH, rate=10, clock=clock), \
            GnssReceiver(modem.b, got.append, clock=clock) as rx:
        # Twenty intervals: at 10x an epoch is 10 ms of real time, and a read that takes two
        # epochs stamps both alike; over four intervals that alone moved the span by half.
        wait_for(lambda: len(got) >= 22)
        h = rx.health()
    span = got[-1].mono - got[1].mono
    assert span == pytest.approx((len(got) - 2) * 0.1, rel=0.5)  # 10 Hz in clock time
    assert h.alive and 5 < h.rate < 20


T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
EPOCHS = [build_epoch(GnssTruth(30.0 + i * 1e-4, 114.0, heading=float(i)), T0.replace(second=i))
          for i in range(4)]  # four: a sentence the checksum drops leaves three of its type to confirm the layout
STREAM = "".join(s + "\r\n" for ep in EPOCHS for s in ep).encode()
SENT = {round(30.0 + i * 1e-4, 7) for i in range(4)}


def feed(data, chunk):
    drv = GnssDriver("unused://")
    out = []
    for i in range(0, len(data), chunk):
        out += drv.feed(data[i:i + chunk], 0.0, T0)
    return out, drv


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=800), st.integers(1, 64))
def test_fuzz_random_bytes_no_exception(data, chunk):
    out, _ = feed(data, chunk)
    assert out == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(STREAM) - 1), st.integers(0, 255), st.sampled_from(MUTATIONS),
       st.integers(1, 64))
def test_fuzz_single_mutation_never_invents_a_fix(pos, byte, op, chunk):
    data = mutate(STREAM, pos, byte, op)
    out, _ = feed(data, chunk)
    for f in out:
        assert round(f.latitude, 7) in SENT and f.longitude == pytest.approx(114.0)
        assert f.heading == round((f.latitude - 30.0) / 1e-4) or f.heading is None
    assert len(out) >= 2


def test_fixes_read_in_a_burst_keep_their_epoch_spacing(modem):
    """A reader that gets several epochs at once (here: they were held back and written in one
    go, as a starved reader thread finds them buffered) still stamps each at its epoch."""
    rx_start = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)  # the receiver's own UTC

    def epoch(k):
        truth = GnssTruth(30.0 + k * 1e-5, 114.0, quality=4)
        return "".join(s + "\r\n" for s in build_epoch(truth, rx_start + timedelta(seconds=k / 10))).encode()

    got = []
    port = open_serial(modem.a, 38400, timeout=0.05)
    try:
        with GnssReceiver(modem.b, got.append) as rx:
            wait_for(lambda: rx.health().extra["connected"], what="the driver to open its port")
            start = time.monotonic()

            def send_at(k, data):
                # Not a wait for anything: the receiver's own pace, an epoch every 0.1 s of real
                # time, is what the stamps are checked against (on a real pty, read by a thread).
                time.sleep(max(0.0, start + k / 10 - time.monotonic()))
                port.write(data)

            for k in range(20):
                send_at(k, epoch(k))
            send_at(24, b"".join(epoch(k) for k in range(20, 25)))  # 20..23 held back 0.1-0.4 s
            burst_written = time.monotonic()
            for k in range(25, 30):
                send_at(k, epoch(k))
            wait_for(lambda: len(got) >= 30)
    finally:
        port.close()
    by_k = {round((f.latitude - 30.0) / 1e-5): f for f in got}
    assert sorted(by_k) == list(range(30))
    for k, f in by_k.items():
        assert f.mono >= start + k / 10 - 1e-6  # never before the epoch was sent
        assert f.receiver_date == "010524"
    offset = by_k[19].mono - (start + 1.9)  # the least latency of the timely epochs
    assert 0.0 <= offset < 0.1
    for k in range(20, 24):
        assert by_k[k].mono - (start + k / 10) == pytest.approx(offset, abs=1e-6)
        # In seconds: pytest.approx does not take a timedelta's tolerance (it compared them exactly,
        # and the stamps' microsecond rounding made 0.099999 s of 0.1 s a failure now and then).
        assert (by_k[k].utc - by_k[19].utc).total_seconds() == pytest.approx((k - 19) / 10, abs=1e-5)
    assert by_k[20].mono < burst_written - 0.35  # arrival stamps would all be after this
    assert all(a.mono <= b.mono for a, b in zip(got, got[1:]))


def test_twin_sends_each_epoch_right_after_its_time(modem):
    got = []
    with GnssSimulator(modem.a, lambda: TRUTH, rate=10), GnssReceiver(modem.b, got.append):
        wait_for(lambda: len(got) >= 12)
    for f in got[2:]:
        epoch = datetime.strptime(f.receiver_date + f.receiver_time, "%d%m%y%H%M%S.%f").replace(
            tzinfo=timezone.utc)
        # The fix's time is its epoch plus the least latency of the line: the twin ticks on the
        # epoch grid, so that is a wake-up and a pty hop, not up to a whole period.
        assert timedelta(0) <= f.utc - epoch < timedelta(milliseconds=30)


class SetClock:
    """A clock the test sets: the driver thread reads whatever time the test has put."""

    def __init__(self, mono: float) -> None:
        self.mono = mono

    def now(self):
        return self.mono, T0 + timedelta(seconds=self.mono)


def test_health_counts_arrivals_not_epoch_stamps():
    clock = SetClock(100.0)
    drv = GnssDriver("loop://", rate=10)
    got = []
    with DeviceRunner(drv, got.append, clock=clock) as runner:
        wait_for(lambda: drv._serial is not None)
        # epochs -2 and -1 are held until epoch 0 confirms their layout; epoch 2 is read 0.25 s late
        for k, arrival in ((-2, 99.8), (-1, 99.9), (0, 100.0), (1, 100.1), (2, 100.45)):
            clock.mono = arrival
            drv._serial.write("".join(s + "\r\n" for s in build_epoch(TRUTH, T0 + timedelta(seconds=k / 10)))
                              .encode())
            wait_for(lambda: k < 0 or len(got) > k + 2)
        assert got[4].mono == pytest.approx(100.2)  # stamped at its epoch
        clock.mono = 100.6  # 0.4 s after that stamp, 0.15 s after it arrived
        h = runner.health()
    assert h.alive and h.last_reading_mono == 100.45


def test_capture_replay_gives_fixes_their_arrivals_and_epoch_stamps():
    def epoch(k):
        return "".join(s + "\r\n" for s in build_epoch(TRUTH, T0 + timedelta(seconds=k / 10))).encode()

    # epochs 0..4 read in time, 5..8 read together with 9 after a stall
    chunks = [RawChunk(50.0 + k / 10, T0, "rx", epoch(k)) for k in range(5)]
    chunks.append(RawChunk(50.9, T0, "rx", b"".join(epoch(k) for k in range(5, 10))))
    timed = replay_arrivals(GnssDriver("replay://"), chunks)
    # the first two epochs come out with the third, which confirms their layout
    assert [arrival for arrival, _ in timed] == [50.2, 50.2, 50.2, 50.3, 50.4] + [50.9] * 5
    assert [fix.mono for _, fix in timed] == pytest.approx([50.0 + k / 10 for k in range(10)])

"""The epoch clock on synthetic arrivals: fixes get their receiver epoch's local time back."""

import random
from datetime import datetime, timedelta, timezone

import pytest

from devices.gnss.epoch_clock import STEP, WINDOW, EpochClock, LogClock, ReceiverTimeline
from devices.rawcapture import PREROLL, RawCapture

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

# The receiver's UTC and the controller's clocks need not agree: the local clock here starts at
# mono 1000.0 / 2024-05-01 09:13:07.5 UTC while the receiver's first epoch is 07:59:58.0 UTC.
RX0 = datetime(2024, 5, 1, 7, 59, 58, tzinfo=timezone.utc)
MONO0 = 1000.0
UTC0 = datetime(2024, 5, 1, 9, 13, 7, 500000, tzinfo=timezone.utc)


def hms(t: datetime) -> str:
    return t.strftime("%H%M%S") + ".%02d" % (t.microsecond // 10000)


def ddmmyy(t: datetime) -> str:
    return t.strftime("%d%m%y")


class Receiver:
    """Epoch k is measured at local mono MONO0 + k/10 and leaves the receiver at once."""

    def __init__(self, clock=None, dated: bool = True, start: datetime = RX0) -> None:
        self.clock = clock or EpochClock()
        self.dated = dated
        self.start = start

    def epoch(self, k: int) -> datetime:
        return self.start + timedelta(milliseconds=100 * k)

    @staticmethod
    def true_mono(k: int) -> float:
        return MONO0 + k / 10

    def stamp(self, k: int, arrival: float, time_raw: str | None = "", date: bool = True):
        t = self.epoch(k)
        raw = hms(t) if time_raw == "" else time_raw
        utc = UTC0 + timedelta(seconds=arrival - MONO0)
        return self.clock.stamp(raw, ddmmyy(t) if (self.dated and date) else None, arrival, utc)


def test_constant_latency_keeps_the_arrival():
    rx = Receiver()
    for k in range(100):
        arrival = rx.true_mono(k) + 0.046
        mono, utc = rx.stamp(k, arrival)
        assert mono == arrival
        assert utc == UTC0 + timedelta(seconds=arrival - MONO0)
    assert rx.clock.skipped == 0


def test_jitter_gives_the_least_latency_and_even_spacing():
    rng = random.Random(7)
    rx = Receiver()
    stamps = []
    for k in range(200):
        arrival = rx.true_mono(k) + 0.030 + rng.uniform(0.0, 0.040)
        mono, utc = rx.stamp(k, arrival)
        assert mono <= arrival
        # utc moves back with mono: the pair stays one reading of the local clock
        arrival_utc = UTC0 + timedelta(seconds=arrival - MONO0)
        assert (arrival_utc - utc).total_seconds() == pytest.approx(arrival - mono, abs=1e-6)
        stamps.append(mono)
    # Once the window holds a few dozen arrivals, every fix is its epoch plus ~30 ms: the jitter
    # (up to 40 ms) is gone from the stamps.
    for k in range(30, 200):
        assert stamps[k] - rx.true_mono(k) == pytest.approx(0.030, abs=0.004)
        if k > 30:
            assert stamps[k] - stamps[k - 1] == pytest.approx(0.1, abs=0.004)


def test_burst_after_a_400_ms_stall_gets_its_epoch_times_back():
    rx = Receiver()
    for k in range(30):
        rx.stamp(k, rx.true_mono(k) + 0.020)
    # The reader thread is starved for 400 ms: epochs 30..34 wait in the buffer and are read in
    # one go, all "arriving" when epoch 34 arrives.
    burst_arrival = rx.true_mono(34) + 0.020
    burst = [rx.stamp(k, burst_arrival)[0] for k in range(30, 35)]
    assert burst_arrival - rx.true_mono(30) == pytest.approx(0.420)
    for k, mono in zip(range(30, 35), burst):
        assert mono == pytest.approx(rx.true_mono(k) + 0.020, abs=0.002)
    # and the next epochs, read in time again, go on as before
    for k in range(35, 40):
        assert rx.stamp(k, rx.true_mono(k) + 0.021)[0] == pytest.approx(rx.true_mono(k) + 0.020, abs=0.002)
    assert rx.clock.skipped == 0


def test_a_low_latency_is_forgotten_after_the_window():
    rx = Receiver()
    for k in range(30):  # 3 s over a fast path, then for good over a slower one
        rx.stamp(k, rx.true_mono(k) + 0.01)
    stamps = {k: rx.stamp(k, rx.true_mono(k) + 0.05)[0] for k in range(30, 120)}
    assert stamps[30] == pytest.approx(rx.true_mono(30) + 0.01)
    last_fast = rx.true_mono(29) + 0.01
    for k, mono in stamps.items():
        expected = 0.05 if rx.true_mono(k) + 0.05 - WINDOW >= last_fast else 0.01
        assert mono - rx.true_mono(k) == pytest.approx(expected, abs=1e-6), k


def test_a_stall_longer_than_step_is_stamped_on_arrival_then_recovers():
    rx = Receiver()
    for k in range(20):
        rx.stamp(k, rx.true_mono(k) + 0.02)
    n = int(STEP * 10) + 3
    arrival = rx.true_mono(20 + n) + 0.02 + 0.05  # waits of STEP + 0.35 s, ... 0.15, 0.05 s
    stamps = [rx.stamp(k, arrival)[0] for k in range(20, 21 + n)]
    # The first fixes waited longer than a receiver-time step: nothing tells them from one, so
    # they keep their arrival; the rest of the burst may not go back before them.
    assert stamps == [arrival] * (n + 1)  # no worse than stamping on arrival
    assert rx.clock.skipped == sum(arrival - rx.true_mono(k) - 0.02 > STEP for k in range(20, 21 + n)) > 0
    k = 21 + n
    assert rx.stamp(k, rx.true_mono(k) + 0.05)[0] == pytest.approx(rx.true_mono(k) + 0.02, abs=1e-6)


@pytest.mark.parametrize("dated", [True, False], ids=["with RMC date", "time only"])
def test_midnight_wrap(dated):
    rx = Receiver(dated=dated, start=datetime(2024, 5, 31, 23, 59, 59, tzinfo=timezone.utc))
    rng = random.Random(3)
    stamps = []
    for k in range(30):  # 23:59:59.0 .. 00:00:01.9, across midnight and the month's end
        arrival = rx.true_mono(k) + 0.03 + rng.uniform(0, 0.02)
        stamps.append(rx.stamp(k, arrival)[0])
    assert hms(rx.epoch(10)) == "000000.00"
    assert rx.clock.skipped == 0
    for k in range(11, 30):
        assert stamps[k] - stamps[k - 1] == pytest.approx(0.1, abs=0.021)
    assert stamps[10] == pytest.approx(rx.true_mono(10) + 0.03, abs=0.021)


def test_timeline_puts_an_undated_time_on_the_nearest_day():
    line = ReceiverTimeline()
    assert line.seconds("235959.90") == pytest.approx(86399.9)
    assert line.seconds("000000.00") == pytest.approx(86400.0)
    assert line.seconds("235959.95") == pytest.approx(86399.95)  # a late one from before midnight
    assert line.seconds("000000.10", "010624") - line.seconds("000000.20") == pytest.approx(-0.1)
    assert line.seconds("") is None and line.seconds(None) is None and line.seconds("99xx00") is None
    assert line.seconds("250000.00") is None and line.seconds("126100.00") is None


def test_receiver_restart_with_another_time_resets_the_window():
    rng = random.Random(5)
    rx = Receiver()
    for k in range(50):
        rx.stamp(k, rx.true_mono(k) + 0.02 + rng.uniform(0, 0.01))
    # Restarted, it reports GPS time without the 18 leap seconds until it has the almanac:
    # its epochs read 18 s earlier than before for the same instants.
    restarted = Receiver(rx.clock, start=RX0 - timedelta(seconds=18))
    first = rx.true_mono(60) + 0.05
    mono, _ = restarted.stamp(60, first)
    assert mono == first  # not 18 s before its arrival
    assert rx.clock.skipped == 1
    for k in range(61, 80):
        arrival = rx.true_mono(k) + 0.05 + (0.3 if k == 70 else 0.0)  # one slow read
        mono, _ = restarted.stamp(k, arrival)
        assert mono == pytest.approx(rx.true_mono(k) + 0.05, abs=1e-6)
    # Its time corrected (+18 s again) while arrivals from before the restart are still in the
    # window: those apply again.
    k = 80
    assert rx.stamp(k, rx.true_mono(k) + 0.09)[0] == pytest.approx(rx.true_mono(k) + 0.02, abs=0.01)


def test_undated_day_change_after_a_long_gap_is_a_step():
    clock = EpochClock()
    assert clock.stamp("120000.00", None, 10.0, UTC0) == (10.0, UTC0)
    # 13 h later by the local clock the receiver says 01:00: nearest to 12:00 is the same day,
    # 11 h *before*: a step of 24 h, so the fix keeps its arrival.
    later = 10.0 + 13 * 3600
    assert clock.stamp("010000.00", None, later, UTC0)[0] == later
    assert clock.stamp("010000.10", None, later + 0.15, UTC0)[0] == pytest.approx(later + 0.1)


def test_a_fix_without_receiver_time_keeps_its_arrival():
    rx = Receiver()
    for k in range(10):
        rx.stamp(k, rx.true_mono(k) + 0.02)
    arrival = rx.true_mono(10) + 0.05
    for raw in (None, "", "9x0000.00"):
        assert rx.stamp(10, arrival, time_raw=raw) == (arrival, UTC0 + timedelta(seconds=arrival - MONO0))
    assert rx.stamp(11, rx.true_mono(11) + 0.25)[0] == pytest.approx(rx.true_mono(11) + 0.02)


def test_stamps_never_go_back():
    clock = EpochClock()
    clock.stamp("080000.00", None, 5.00, UTC0)
    clock.stamp("080000.10", None, 5.10, UTC0)
    # A receiver time 0.5 s back (less than STEP) would put this fix before the previous one.
    mono, _ = clock.stamp("075959.60", None, 5.20, UTC0)
    assert mono == pytest.approx(5.10)


def arrivals(seed: int, n: int):
    """A receiver's (time, date, arrival) with jitter, stalls and a time step."""
    rng = random.Random(seed)
    out, stall_until = [], None
    for k in range(n):
        t = RX0 + timedelta(milliseconds=100 * k) - (timedelta(seconds=18) if 300 <= k < 360 else timedelta())
        arrival = MONO0 + k / 10 + 0.02 + rng.uniform(0, 0.02)
        if stall_until is None and rng.random() < 0.03:
            stall_until = arrival + rng.uniform(0.1, 1.5)
        if stall_until is not None:
            if arrival < stall_until:
                arrival = stall_until
            else:
                stall_until = None
        out.append((hms(t), ddmmyy(t), arrival))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_a_replay_that_holds_the_window_gives_the_live_stamps(seed):
    """What a raw capture relies on: the stamps depend only on the last WINDOW of arrivals."""
    data = arrivals(seed, 600)
    live, late = EpochClock(), EpochClock()
    start = data[150][2] - WINDOW - 1.0  # the replay starts a window and a second before fix 150
    for i, (raw, date, arrival) in enumerate(data):
        utc = UTC0 + timedelta(seconds=arrival - MONO0)
        stamp = live.stamp(raw, date, arrival, utc)
        if arrival > start:
            again = late.stamp(raw, date, arrival, utc)
            if i >= 150:
                assert again == stamp, i
    assert live.skipped > 0  # the data had steps and long stalls in it


def test_raw_capture_preroll_holds_the_window():
    assert PREROLL >= WINDOW + 1.0
    assert RawCapture().preroll == PREROLL


def test_log_clock_spaces_fixes_by_their_epochs():
    clock = LogClock()
    t0 = datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert clock.stamp("235959.50", "310524", 0.0, t0) == (0.0, t0)
    assert clock.stamp(None, None, 0.0, t0) == (0.0, t0)
    mono, utc = clock.stamp("000000.70", "010624", 0.0, t0)
    assert mono == pytest.approx(1.2) and utc == t0 + timedelta(seconds=1.2)
    assert clock.stamp("000001.70", None, 0.0, t0)[0] == pytest.approx(2.2)

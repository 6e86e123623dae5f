"""Receivers in any sentence order: epochs grouped right, speed never invented, never lost to order.

Corpus: the captures in ``captures/`` (written from the NMEA sentence formats
by ``captures/write.py``, one receiver order each, Hemisphere's HDT, GGA, VTG
among them). The oracle recomputes each epoch's true values from the
sentence time. Property: for a receiver's fixed order (any permutation of
the sentences it sends per epoch), the fixes are the same as for the
canonical order, with and without arrival timing, and from a stream that
starts in the middle of an epoch when the arrival timing shows the bursts.
"""

import glob
import os
import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from devices.gnss import GnssDriver
from devices.gnss.driver import replay
from devices.gnss.epoch_clock import LogClock
from devices.gnss.epoch_order import EPOCHS as LEARN_EPOCHS
from tests.devices.gnss.captures.write import EPOCHS, ORDERS, T0, epoch, truth

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

HERE = os.path.join(os.path.dirname(__file__), "captures")
CAPTURES = sorted(glob.glob(os.path.join(HERE, "*.nmea")))


def epoch_number(receiver_time: str) -> int:
    t = datetime.strptime(receiver_time, "%H%M%S.%f").replace(year=T0.year, month=T0.month, day=T0.day,
                                                              tzinfo=timezone.utc)
    return round((t - T0) / timedelta(seconds=0.1))


def test_every_order_has_a_capture():
    assert {os.path.basename(p)[:-5] for p in CAPTURES} == set(ORDERS)


@pytest.mark.parametrize("path", CAPTURES, ids=os.path.basename)
def test_capture_fixes_carry_their_own_epochs_speed_and_heading(path):
    order = ORDERS[os.path.basename(path)[:-5]]
    fixes, drv = replay(open(path, "rb").read(), epoch_end="auto")
    assert [epoch_number(f.receiver_time) for f in fixes] == list(range(EPOCHS))
    assert drv.decoder.learned_order == order
    for f in fixes:
        k = epoch_number(f.receiver_time)
        v = truth(k)
        assert f.latitude == pytest.approx(v["lat"], abs=1e-9)
        # While the order is learned (the first LEARN_EPOCHS epochs) VTG and HDT cannot be placed
        # yet: those fixes go out without them (missing, never a neighbour's, never 0).
        learning = k < LEARN_EPOCHS and "RMC" not in order
        if "VTG" in order or "RMC" in order:
            if learning and f.speed is None:
                assert f.course is None
            else:
                assert f.speed == pytest.approx(v["speed"], abs=1e-3)
                assert f.course == pytest.approx(v["course"], abs=1e-6)
        else:
            assert f.speed is None and f.course is None  # missing, not 0
        if "HDT" in order and not (k < LEARN_EPOCHS and f.heading is None):
            assert f.heading == pytest.approx(v["heading"])
        elif "HDT" not in order:
            assert f.heading is None
    assert all(f.heading is not None for f in fixes[LEARN_EPOCHS:]) or "HDT" not in order
    assert all(f.speed is not None for f in fixes[LEARN_EPOCHS:]) or not {"VTG", "RMC"} & set(order)


def stream(order, epochs, first=0):
    return [s + "\r\n" for k in range(first, first + epochs)
            for s in epoch(k, order).split("\r\n") if s]


def decode(lines, timed_bursts: bool, order_len: int, chunk: int = 97):
    """Fixes from sentences; with timed_bursts each epoch's sentences arrive together, 0.1 s apart."""
    drv = GnssDriver("test://", epoch_end="auto", timing=LogClock())
    fixes = []
    if timed_bursts:
        for i in range(0, len(lines), order_len):
            fixes += drv.feed("".join(lines[i:i + order_len]).encode(), i / order_len * 0.1, T0)
    else:
        data = "".join(lines).encode()
        for i in range(0, len(data), chunk):
            fixes += drv.feed(data[i:i + chunk], 0.0, T0)
    fixes += drv.decoder.flush(99.0, T0)
    return [(f.receiver_time, f.latitude, f.longitude, f.quality, f.satellites, f.speed, f.course, f.heading)
            for f in fixes]


SENT = ("GGA", "RMC", "VTG", "HDT")


@settings(max_examples=60, deadline=None)
@given(st.sets(st.sampled_from(SENT), min_size=1).map(sorted).flatmap(st.permutations),
       st.integers(6, 14), st.booleans(), st.integers(1, 300))
def test_any_order_gives_the_same_fixes(order, epochs, timed_bursts, chunk):
    order = tuple(order)
    if not {"GGA", "RMC"} & set(order):
        return  # no timed sentence: no epoch time, no fix in any order
    canonical = tuple(k for k in ("RMC", "VTG", "HDT", "GGA") if k in order)
    expected = decode(stream(canonical, epochs), False, len(order))
    got = decode(stream(order, epochs), timed_bursts, len(order), chunk)
    assert got == expected
    assert len(got) == epochs


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([o for o in ORDERS.values() if len(o) > 1]), st.integers(1, 3))
def test_a_stream_joined_mid_epoch_is_placed_by_the_receivers_bursts(order, skip):
    """The port opens in the middle of an epoch: the arrival gaps between bursts give the phase."""
    lines = stream(order, 12)
    skip = skip % len(order) or 1
    drv = GnssDriver("test://", epoch_end="auto", timing=LogClock())
    fixes = []
    for i in range(skip, len(lines)):
        k = i // len(order)
        fixes += drv.feed(lines[i].encode(), k * 0.1 + (i % len(order)) * 0.002, T0)
    assert drv.decoder.learned_order == order
    for f in fixes:
        v = truth(epoch_number(f.receiver_time))
        if f.heading is not None:
            assert f.heading == pytest.approx(v["heading"])
        if f.speed is not None:
            assert f.speed == pytest.approx(v["speed"], abs=1e-3)
    assert len(fixes) >= 10


def test_hemisphere_order_with_a_lost_sentence_never_borrows_a_neighbours_speed():
    lines = stream(("HDT", "GGA", "VTG"), 20)
    rng = random.Random(5)
    for _ in range(3):
        del lines[rng.randrange(15, len(lines))]  # after the order is learned
    fixes, _ = replay("".join(lines).encode(), epoch_end="auto")
    for f in fixes:
        v = truth(epoch_number(f.receiver_time))
        assert f.speed is None or f.speed == pytest.approx(v["speed"], abs=1e-3)
        assert f.heading is None or f.heading == pytest.approx(v["heading"])


def test_a_type_the_learnt_order_lacks_is_learnt_again():
    # A receiver sends RMC, GGA; after 10 epochs it is set to send its heading too, HDT first.
    # By the old order every HDT would open an epoch whose timed opener was lost (orphaned): the
    # order is learnt again, from the bursts, and the headings are used.
    from devices.gnss.decoder import NmeaEpochDecoder
    from devices.gnss.simulator import GnssTruth, build_epoch

    dec = NmeaEpochDecoder("t", epoch_end="auto")
    fixes = []
    for k in range(24):
        truth = GnssTruth(30.5 + k * 1e-6, 114.25, speed=1.0, course=0.0, heading=10.0 + k, quality=4)
        by_type = {s[3:6]: s for s in build_epoch(truth, T0 + timedelta(seconds=k / 10))}
        order = ("RMC", "GGA") if k < 10 else ("HDT", "RMC", "GGA")
        for i, kind in enumerate(order):  # one burst per epoch, as a receiver sends it
            fixes += dec.push(by_type[kind], k * 0.1 + i * 0.003, T0)
    assert dec.counts["order_relearned"] == 1 and dec.learned_order == ("HDT", "RMC", "GGA")
    assert [epoch_number(f.receiver_time) for f in fixes] == list(range(24))
    for f in fixes:
        k = epoch_number(f.receiver_time)
        assert f.heading is None or f.heading == pytest.approx(10.0 + k)  # never a neighbour's
    assert all(f.heading is not None for f in fixes[-8:])

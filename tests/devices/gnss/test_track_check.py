"""The decoder's track check: a speed or course the receiver's own RTK positions contradict is
refused (the fix goes out as one without speed and course), and honest streams never trip it."""

import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from devices.gnss.decoder import KNOT, NmeaEpochDecoder
from devices.gnss.simulator import GnssTruth, build_epoch

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
M_PER_DEG = 6371000.0 * math.pi / 180.0


def track(n, speed, course, turn=0.0, rate=10.0, quality=4, lat=30.5, lon=114.25):
    """Truths of a vehicle driving ``speed`` m/s, starting on ``course`` and turning ``turn`` °/s,
    sampled at the epochs of a ``rate`` Hz receiver (its positions are those of the epoch's time)."""
    dt, out = 1.0 / rate, []
    for k in range(n):
        if k:  # integrate in small steps: an arc, not a polygon with the epochs' course
            for _ in range(20):
                h = math.radians(course + turn * dt / 40)
                lat += speed * dt / 20 * math.cos(h) / M_PER_DEG
                lon += speed * dt / 20 * math.sin(h) / (M_PER_DEG * math.cos(math.radians(lat)))
                course += turn * dt / 20
        out.append(GnssTruth(lat, lon, speed=speed, course=course % 360.0, quality=quality))
    return out


def sentences(truths, rate=10.0, types=("RMC", "GGA")):
    out = []
    for k, t in enumerate(truths):
        out += [s for s in build_epoch(t, T0 + timedelta(seconds=k / rate)) if s[3:6] in types]
    return out


def decode(lines, epoch_end="GGA"):
    dec = NmeaEpochDecoder("test", epoch_end=epoch_end)
    fixes = []
    for s in lines:
        fixes += dec.push(s, 1.0, T0)
    return fixes + dec.flush(2.0, T0), dec


def test_the_damage_the_xor_cannot_see_is_refused():
    # 12 m/s = 23.326 kn on course 359.00; a receiver that sends RMC and GGA (no VTG). Losing the
    # two 3s of "23.326" and "359.00" keeps the XOR, every format and the layout:
    # 23.326 -> 2.326 kn (1.2 m/s, a near standstill), 359.00 -> 59.00.
    lines = sentences(track(8, 12.0, 359.0))
    k = 2 * 5  # the RMC of epoch 5
    assert ",23.326,359.00," in lines[k]
    damaged = lines[k].replace(",23.326,359.00,", ",2.326,59.00,")
    assert damaged.split("*")[1] == lines[k].split("*")[1]  # the same checksum: the XOR is blind
    for epoch_end in ("GGA", "auto"):
        fixes, dec = decode(lines[:k] + [damaged] + lines[k + 1:], epoch_end)
        by_time = {f.receiver_time: f for f in fixes}
        f = by_time["080000.50"]
        assert f.speed is None and f.course is None  # refused, as an epoch without speed
        assert dec.counts["track_disagrees"] == 1
        assert dec.counts["fixes_without_speed"] == 1
        for other in fixes:
            if other is not f:
                assert other.speed is None or abs(other.speed - 12.0) < 1e-3
                assert other.course is None or abs(other.course - 359.0) < 1e-6


def test_without_the_damage_nothing_is_refused():
    fixes, dec = decode(sentences(track(8, 12.0, 359.0)))
    assert len(fixes) == 8 and all(f.speed is not None for f in fixes)
    assert dec.counts["track_disagrees"] == 0 and dec.counts["track_checked"] == 7


def test_a_refused_speed_counts_toward_a_missing_speed_streak():
    lines = sentences(track(6, 12.0, 359.0))
    for k in (6, 8):  # epochs 3 and 4
        lines[k] = lines[k].replace(",23.326,359.00,", ",2.326,59.00,")
    fixes, dec = decode(lines)
    assert [f.speed is None for f in fixes] == [False, False, False, True, True, False]
    assert dec.counts["track_disagrees"] == 2 and dec.counts["fixes_without_speed"] == 2


def test_what_the_track_cannot_check_the_neighbours_refuse():
    # The track check skips the first fix, the first after a gap or a reconnect, and fixes that are
    # not RTK fixed; there the fixes beside the damaged one refuse it (devices/gnss/neighbours.py):
    # 12 m/s cannot become 1.2 m/s within an epoch. Never is the damaged speed used.
    lines = sentences(track(6, 12.0, 359.0))
    bad = lines[2].replace(",23.326,359.00,", ",2.326,59.00,")
    fixes, dec = decode([bad] + lines[1:])  # the first fix: the next one witnesses it
    assert dec.counts["track_checked"] == 5 and dec.counts["track_disagrees"] == 0
    # Which of the two was damaged the two cannot say: both go without; the third is confirmed.
    assert [f.speed is None for f in fixes[:2]] == [True, True] and all(f.speed for f in fixes[2:])
    gap = lines[:4] + lines[6:8]  # epochs 0, 1, 3: epoch 3's previous fix is 0.2 s before
    gap[4] = gap[4].replace(",23.326,359.00,", ",2.326,59.00,")
    fixes, dec = decode(gap)
    assert dec.counts["track_checked"] == 1
    assert [f.speed is None for f in fixes] == [False, False, True]
    dec = NmeaEpochDecoder("test")
    longer = sentences(track(8, 12.0, 359.0))  # after the reconnect, five epochs: the last continues a turn
    for s in longer[:6]:
        dec.push(s, 1.0, T0)
    dec.reset()  # a reconnect
    out = []
    for s in [longer[6].replace(",23.326,359.00,", ",2.326,59.00,")] + longer[7:]:
        out += dec.push(s, 1.0, T0)
    out += dec.flush(2.0, T0)
    assert out[0].speed is None and all(f.speed for f in out[2:]) and dec.counts["track_disagrees"] == 0
    float_lines = sentences(track(6, 12.0, 359.0, quality=5))  # RTK float: too noisy to tell
    float_lines[6] = float_lines[6].replace(",23.326,359.00,", ",2.326,59.00,")
    fixes, dec = decode(float_lines)
    assert dec.counts["track_checked"] == 0
    assert [f.speed is None for f in fixes] == [False, False, False, True, False, False]
    assert dec.counts["neighbours_disagree"] == 1


# The demo's scenarios (examroom/simulation/scenarios.py) drive at up to 2.5 m/s and turn at up to
# 108°/s (bridge_drop, at 1.2 m/s); the property goes to 8 m/s, and to 108°/s at any speed.
@settings(max_examples=60, deadline=None, derandomize=True)
@given(speed=st.floats(0.5, 8.0), course=st.floats(0.0, 359.99), turn=st.floats(-108.0, 108.0),
       rate=st.sampled_from([10.0, 5.0]), straight=st.booleans(), vtg=st.booleans())
def test_the_simulator_never_trips_it(speed, course, turn, rate, straight, vtg):
    truths = track(12, speed, course, 0.0 if straight else turn, rate)
    types = ("RMC", "VTG", "GGA") if vtg else ("RMC", "GGA")
    fixes, dec = decode(sentences(truths, rate, types))
    assert len(fixes) == 12
    assert dec.counts["track_disagrees"] == 0
    assert dec.counts["track_course_differs"] == 0  # a physical stream: the course check holds too
    assert all(f.speed is not None and f.course is not None for f in fixes)
    assert dec.counts["track_checked"] == 11


def test_a_course_alone_is_counted_by_the_track_and_refused_by_the_neighbours():
    # "100.00" -> "1.00" (two 0s lost from the course only): the speed is intact. The track check
    # only counts a course off the track (the twin reports its vehicle's heading as its course);
    # the fixes beside it refuse it, as no vehicle turns 99° in 0.1 s.
    lines = sentences(track(6, 12.0, 100.0))
    assert ",23.326,100.00," in lines[6]
    lines[6] = lines[6].replace(",23.326,100.00,", ",23.326,1.00,")
    fixes, dec = decode(lines)
    assert fixes[3].course is None and fixes[3].speed is None
    assert all(f.course is not None for f in fixes[:3] + fixes[4:])
    assert dec.counts["track_course_differs"] == 1 and dec.counts["track_disagrees"] == 0
    assert dec.counts["neighbours_disagree"] == 1


def test_a_position_jump_is_no_track():
    # The twin puts a vehicle back at its start between attempts (45 m in one epoch, standing).
    truths = track(3, 0.0, 90.0) + track(3, 0.0, 90.0, lat=30.5004)
    fixes, dec = decode(sentences(truths))
    assert all(f.speed == 0.0 for f in fixes) and dec.counts["track_disagrees"] == 0

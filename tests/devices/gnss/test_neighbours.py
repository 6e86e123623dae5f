"""What one sentence alone reports is confirmed by the fixes beside it (devices/gnss/neighbours.py):
an honest drive keeps every value, a value no vehicle could reach from its neighbour is refused,
never replaced, and the bounds hold to the digit."""

from collections import Counter
from datetime import datetime, timedelta, timezone

import math

import pytest
from hypothesis import given, settings, strategies as st

from devices.gnss import motion_bounds as bound
from devices.gnss.decoder import NmeaEpochDecoder
from devices.gnss.neighbours import (HEADING, MOTION, NeighbourWitness, Reported, could_continue, could_follow,
                                     on_turn)
from devices.gnss.simulator import GnssTruth, build_epoch
from devices.readings import GnssFix
from tests.devices.fuzz_harness import DRIVE_TURN, DRIVE_YAW_ACCEL, drives as fuzz_drives

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)
DT = 0.1  # 10 Hz


def heading_limit(dt=DT, tol=0.0):
    return bound.MAX_TURN * (dt + bound.TIME_SLACK) + 2 * bound.HEADING_NOISE + 2 * tol


def speed_limit(dt=DT):
    return bound.MAX_ACCEL * (dt + bound.TIME_SLACK) + 2 * bound.SPEED_NOISE


# -- the bounds, to the digit ---------------------------------------------------------------------

@pytest.mark.parametrize("start", [0.0, 100.0, 355.0])
def test_a_heading_turns_at_most_the_bound_between_two_epochs(start):
    a = Reported(0.0, heading=start, heading_alone=True)
    inside = Reported(DT, heading=(start + heading_limit() - 0.01) % 360.0, heading_alone=True)
    outside = Reported(DT, heading=(start + heading_limit() + 0.01) % 360.0, heading_alone=True)
    assert could_follow(a, inside, HEADING)
    assert not could_follow(a, outside, HEADING)
    backwards = Reported(DT, heading=(start - heading_limit() - 0.01) % 360.0, heading_alone=True)
    assert not could_follow(a, backwards, HEADING)


def test_a_speed_changes_at_most_the_bound_between_two_epochs():
    a = Reported(0.0, speed=12.0, motion_alone=True)
    assert could_follow(a, Reported(DT, speed=12.0 - speed_limit() + 0.001, motion_alone=True), MOTION)
    assert not could_follow(a, Reported(DT, speed=12.0 - speed_limit() - 0.001, motion_alone=True), MOTION)
    assert not could_follow(a, Reported(DT, speed=12.0 + speed_limit() + 0.001, motion_alone=True), MOTION)
    # Over a longer interval (an epoch lost between) the bound grows with it.
    assert could_follow(a, Reported(3 * DT, speed=12.0 - speed_limit(3 * DT) + 0.001, motion_alone=True), MOTION)


def test_a_course_is_bounded_while_moving_and_free_at_a_standstill():
    moving = Reported(0.0, speed=10.0, course=100.0, motion_alone=True)
    limit = (bound.MAX_TURN * (DT + bound.TIME_SLACK) + 2 * bound.COURSE_NOISE)
    # The Doppler course's noise at 10 m/s (atan(0.1 / 10) ≈ 0.57° each) is on top of the turn.
    assert could_follow(moving, Reported(DT, speed=10.0, course=100.0 + limit + 1.0, motion_alone=True), MOTION)
    assert not could_follow(moving, Reported(DT, speed=10.0, course=100.0 + limit + 1.2, motion_alone=True), MOTION)
    standing = Reported(0.0, speed=0.0, course=100.0, motion_alone=True)
    assert could_follow(standing, Reported(DT, speed=0.0, course=280.0, motion_alone=True), MOTION)
    # Receivers leave the course empty at a standstill: the speed decides.
    assert could_follow(standing, Reported(DT, speed=0.0, course=None, motion_alone=True), MOTION)


def continue_limit(d1=DT, d2=DT, noise=bound.HEADING_NOISE + 0.005):
    """How far a third value may be from the turn of the two before it carried on (could_continue)."""
    r = d2 / d1
    return bound.MAX_YAW_ACCEL / 2 * (d1 + d2) * d2 + (2 + 2 * r) * noise


@pytest.mark.parametrize("start,rate", [(10.0, 0.0), (350.0, 80.0), (5.0, -100.0)])
def test_a_heading_changes_its_turn_rate_at_most_the_bound(start, rate):
    a = Reported(0.0, heading=start, heading_tol=0.005, heading_alone=True)
    b = Reported(DT, heading=(start + rate * DT) % 360.0, heading_tol=0.005, heading_alone=True)
    predicted = start + 2 * rate * DT
    for sign in (1, -1):
        inside = Reported(2 * DT, heading=(predicted + sign * (continue_limit() - 0.01)) % 360.0, heading_tol=0.005)
        outside = Reported(2 * DT, heading=(predicted + sign * (continue_limit() + 0.01)) % 360.0, heading_tol=0.005)
        assert could_continue(a, b, inside, HEADING)
        assert not could_continue(a, b, outside, HEADING)


def test_the_second_order_bound_grows_with_an_epoch_lost_between():
    # The last confirmed value two epochs old: the turn is carried on over 0.2 s.
    a, b = Reported(0.0, heading=100.0, heading_tol=0.005), Reported(DT, heading=105.0, heading_tol=0.005)
    limit = continue_limit(DT, 2 * DT)
    assert could_continue(a, b, Reported(3 * DT, heading=115.0 + limit - 0.01, heading_tol=0.005), HEADING)
    assert not could_continue(a, b, Reported(3 * DT, heading=115.0 + limit + 0.01, heading_tol=0.005), HEADING)


def test_a_course_changes_its_turn_rate_within_its_doppler_noise():
    # At 10 m/s each course may be atan(0.1 / 10) ≈ 0.57° off on top of COURSE_NOISE.
    noise = bound.COURSE_NOISE + 0.5729 + 0.005
    a = Reported(0.0, speed=10.0, course=90.0, course_tol=0.005)
    b = Reported(DT, speed=10.0, course=92.0, course_tol=0.005)
    limit = continue_limit(noise=noise)
    assert could_continue(a, b, Reported(2 * DT, speed=10.0, course=94.0 + limit - 0.01, course_tol=0.005), MOTION)
    assert not could_continue(a, b, Reported(2 * DT, speed=10.0, course=94.0 + limit + 0.02, course_tol=0.005),
                              MOTION)
    # Standing, a course means nothing: no turn of it is refused.
    still = [Reported(k * DT, speed=0.0, course=c, course_tol=0.005) for k, c in enumerate((90.0, 92.0, 270.0))]
    assert could_continue(*still, MOTION)


def between_limit(noise=bound.HEADING_NOISE + 0.005, d=DT):
    """How far a value may be from the turn through the fixes one epoch before and after it (on_turn)."""
    return bound.MAX_YAW_ACCEL / 2 * d * d + 2 * noise


@pytest.mark.parametrize("start,rate", [(10.0, 0.0), (355.0, 80.0), (5.0, -100.0)])
def test_a_heading_between_two_fixes_is_bounded_twice_as_tight(start, rate):
    a = Reported(0.0, heading=start, heading_tol=0.005)
    c = Reported(2 * DT, heading=(start + 2 * rate * DT) % 360.0, heading_tol=0.005)
    mid = start + rate * DT
    for sign in (1, -1):
        inside = Reported(DT, heading=(mid + sign * (between_limit() - 0.001)) % 360.0, heading_tol=0.005)
        outside = Reported(DT, heading=(mid + sign * (between_limit() + 0.001)) % 360.0, heading_tol=0.005)
        assert on_turn(a, c, inside, HEADING)
        assert not on_turn(a, c, outside, HEADING)
    # 355.xx -> 3.xx (8°): refused between two fixes, not after them.
    assert between_limit() < 8.0 < continue_limit()
    # What goes out at once: within the second-order bound's curvature term at 10 Hz (no noise).
    assert bound.STEADY == pytest.approx(bound.MAX_YAW_ACCEL / 2 * (2 * DT) * DT)


def test_a_course_between_two_fixes_is_bounded_by_its_doppler_noise():
    def noise(speed):
        return bound.COURSE_NOISE + math.degrees(math.atan2(bound.SPEED_NOISE, speed)) + 0.005

    for speed in (10.0, 5.0, 2.0):
        a = Reported(0.0, speed=speed, course=350.0, course_tol=0.005)
        c = Reported(2 * DT, speed=speed, course=354.0, course_tol=0.005)
        limit = between_limit(noise(speed))
        assert on_turn(a, c, Reported(DT, speed=speed, course=352.0 + limit - 0.001, course_tol=0.005), MOTION)
        assert not on_turn(a, c, Reported(DT, speed=speed, course=352.0 + limit + 0.001, course_tol=0.005), MOTION)
    # 353.xx -> 5.xx (12°) is refused between two fixes at 2 m/s and above; 355.xx -> 3.xx (8°)
    # at 10 m/s, not at 5 m/s, where the Doppler noise of three courses allows more (what passes).
    assert between_limit(noise(2.0)) < 12.0 and between_limit(noise(10.0)) < 8.0 < between_limit(noise(5.0))


def test_an_honest_value_just_inside_the_bound_between_its_neighbours_is_kept():
    # 104.009 does not continue a still heading to within STEADY (4°): it waits for the next fix.
    # Between two fixes at 100 the truth may be 2° off (MAX_YAW_ACCEL) and each of the three values
    # 1.005° (noise and rounding): 4.01° in all. Just inside it is kept, as the fixes after it.
    out, counts = run([100.0, 100.0, 100.0, 104.009, 100.0, 100.0, 100.0])
    assert [f.heading for f in out] == [100.0, 100.0, 100.0, 104.009, 100.0, 100.0, 100.0]
    assert counts["next_fix_disagrees"] == 0 and counts["neighbours_disagree"] == 0
    out, counts = run([100.0, 100.0, 100.0, 104.02, 100.0, 100.0, 100.0])
    assert [f.heading for f in out] == [100.0, 100.0, 100.0, None, 100.0, 100.0, 100.0]
    assert counts["next_fix_disagrees"] == 1 and counts["neighbours_disagree"] == 1


def test_a_value_that_waits_and_gets_no_fix_after_it_goes_out_unknown():
    # A stream of two fixes: a heading 18° on is within the first-order bound of the one before
    # it, but with no turn to carry on it waits for a fix after it, and none comes: nothing could
    # place it between its neighbours, so it goes out unknown (the stream's first is witnessed by
    # it). After two fixes that did not turn, the second-order bound refuses it outright.
    out, counts = run([100.0, 118.0])
    assert [f.heading for f in out] == [100.0, None]
    assert counts["unwitnessed"] == 1 and counts["neighbours_disagree"] == 0
    out, counts = run([100.0, 100.0, 100.0, 118.0])
    assert [f.heading for f in out] == [100.0, 100.0, 100.0, None]
    assert counts["neighbours_disagree"] == 1 and counts["next_fix_disagrees"] == 0
    # A last value that continues the turn of the two before it goes out as it came.
    out, counts = run([100.0, 102.0, 104.0, 106.0])
    assert [f.heading for f in out] == [100.0, 102.0, 104.0, 106.0] and not counts["unwitnessed"]


def test_a_value_that_waits_before_a_gap_goes_out_unknown():
    # 105 does not continue the still heading to within STEADY: it waits, and the next fix comes
    # after a gap of more than MAX_DT, too late to place it.
    counts = Counter()
    w = NeighbourWitness(counts)
    out = []
    for k, h in ((0, 100.0), (1, 100.0), (2, 100.0), (3, 105.0), (30, 105.0), (31, 105.0), (32, 105.0)):
        out += w.push(fix(k, heading=h), rep(k, h))
    out += w.flush()
    assert [f.heading for f in out] == [100.0, 100.0, 100.0, None, 105.0, 105.0, 105.0]
    assert counts["unwitnessed"] == 1


def test_a_value_with_one_witness_is_checked_between_it_and_the_next():
    # 353.72 -> 5.72 (two 3s lost), the stream's second fix: within the first-order bound of the
    # one before it (2°), 12° off the turn through the one before and the one after it.
    out, counts = run([3.72, 5.72, 343.72, 335.04, 328.61, 322.0])
    assert [f.heading for f in out] == [3.72, None, 343.72, 335.04, 328.61, 322.0]
    assert counts["next_fix_disagrees"] == 1 and counts["neighbours_disagree"] == 1
    # Damage to the stream's first value (12° off, 17° from the next: within the first-order
    # bound): the turn through the two after it, carried back, refuses it; the second, checked
    # between the damaged first and the third, goes too (which of the two is wrong, the two
    # cannot say).
    out, counts = run([20.72, 3.72, 358.72, 353.72, 348.72])
    assert [f.heading for f in out] == [None, None, 358.72, 353.72, 348.72]
    assert counts["next_fix_disagrees"] == 2



def test_a_value_within_the_second_order_bound_is_checked_between_its_neighbours():
    # 355.72 -> 3.72 (two 5s lost), 8° on from the turn of the two before it: within the
    # second-order bound (8.02°), 8° off the turn through the one before and the one after it
    # (4.01°). The fix before the damage went on with its turn and went out at once: it keeps
    # its value.
    out, counts = run([27.72, 19.72, 11.72, 3.72, 3.72, 347.72, 339.72])
    assert [f.heading for f in out] == [27.72, 19.72, 11.72, 3.72, None, 347.72, 339.72]
    assert counts["next_fix_disagrees"] == 1 and counts["neighbours_disagree"] == 1


# -- the witness: which neighbour, and when ------------------------------------------------------

def fix(k, speed=None, course=None, heading=None):
    return GnssFix(mono=k * DT, utc=T0 + timedelta(seconds=k * DT), device="t", latitude=30.0, longitude=114.0,
                   altitude=None, quality=4, satellites=None, hdop=None, correction_age=None,
                   speed=speed, course=course, heading=heading)


def rep(k, heading):
    return Reported(k * DT, heading=heading, heading_tol=0.005, heading_alone=True)


def run(headings, start=0):
    counts = Counter()
    w = NeighbourWitness(counts)
    out = []
    for k, h in enumerate(headings, start):
        out += w.push(fix(k, heading=h), rep(k, h))
    return out + w.flush(), counts


def test_the_first_fix_waits_for_the_two_after_it():
    counts = Counter()
    w = NeighbourWitness(counts)
    assert w.push(fix(0, heading=10.0), rep(0, 10.0)) == []  # nothing before it: it waits
    assert w.push(fix(1, heading=15.0), rep(1, 15.0)) == []  # its turn needs one more
    out = w.push(fix(2, heading=20.0), rep(2, 20.0))
    # Then both go out, in order, and the third with them: it goes on with their turn.
    assert [f.heading for f in out] == [10.0, 15.0, 20.0]
    assert [f.heading for f in w.push(fix(3, heading=25.0), rep(3, 25.0))] == [25.0]
    alone, _ = run([10.0])
    assert [f.heading for f in alone] == [None]  # the stream ended: no witness came


def test_a_damaged_heading_is_refused_and_the_next_is_confirmed_by_the_one_before():
    # 227.43 -> 7.43: two 2s lost (the XOR is blind to it), 140° in 0.1 s.
    out, counts = run([220.0, 223.0, 227.43, 7.43, 235.0, 238.0])
    assert [f.heading for f in out] == [220.0, 223.0, 227.43, None, 235.0, 238.0]
    assert counts["neighbours_disagree"] == 1


def test_a_damaged_first_heading_costs_its_witness_too():
    # Which of the first two is wrong, the two cannot say; the third is confirmed by the second.
    out, counts = run([7.43, 230.0, 233.0, 236.0, 239.0])
    assert [f.heading for f in out] == [None, None, 233.0, 236.0, 239.0]


def test_after_a_real_jump_the_fix_after_it_is_confirmed():
    # The twin puts its vehicle back at the start, facing another way: one fix goes without.
    out, _ = run([90.0, 90.0, 90.0, 0.0, 0.0, 0.0, 0.0])
    assert [f.heading for f in out] == [90.0, 90.0, 90.0, None, 0.0, 0.0, 0.0]


def test_after_a_gap_the_first_fix_waits_for_a_witness():
    counts = Counter()
    w = NeighbourWitness(counts)
    out = []
    for k in (0, 1, 2, 3, 30, 31, 32):  # 2.6 s without a fix between epochs 3 and 30
        out += w.push(fix(k, heading=45.0), rep(k, 45.0))
        if k == 31:  # the first after the gap waits for the turn of the two after it
            assert [f.mono for f in out] == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert [f.mono for f in out] == pytest.approx([0.0, 0.1, 0.2, 0.3, 3.0, 3.1, 3.2])
    assert all(f.heading == 45.0 for f in out)


def test_values_a_second_sentence_confirmed_are_not_compared():
    counts = Counter()
    w = NeighbourWitness(counts)
    both = Reported(0.0, speed=12.0, course=90.0, motion_alone=False)
    jump = Reported(DT, speed=0.0, course=270.0, motion_alone=False)  # RMC and VTG agreed on it
    out = w.push(fix(0, 12.0, 90.0), both) + w.push(fix(1, 0.0, 270.0), jump) + w.flush()
    assert [(f.speed, f.course) for f in out] == [(12.0, 90.0), (0.0, 270.0)]
    assert not counts


def test_a_reconnect_drops_the_fix_waiting_for_a_witness():
    dec = NmeaEpochDecoder("t")
    # Four epochs, then one 3 s later (after a gap it waits for the next), then the port drops.
    lines = [s for k in (0, 1, 2, 3, 30) for s in build_epoch(
        GnssTruth(30.0, 114.0, speed=0.0, course=0.0, heading=5.0), T0 + timedelta(seconds=k * DT))]
    out = []
    for s in lines:
        out += dec.push(s, 0.0, T0)
    assert len(out) == 4
    dec.reset()
    assert dec.counts["unwitnessed_at_reconnect"] == 1


# -- through the decoder: honest drives keep everything ------------------------------------------

def sentences(values, types):
    out, lat = [], 30.0
    for k, (speed, course, heading, quality) in enumerate(values):
        truth = GnssTruth(lat + k * 1e-6, 114.0, speed=speed, course=course, heading=heading, quality=quality)
        out += [s for s in build_epoch(truth, T0 + timedelta(seconds=k * DT)) if s[3:6] in types]
    return out


def assert_kept_but(got, sent, skip=()):
    """Each value ``got`` is what was ``sent`` but at the indices in ``skip``; the stream's last may
    be unknown (a value that waited for a fix after it, and none came), never another value."""
    last = len(sent) - 1
    for k, (value, truth) in enumerate(zip(got, sent)):
        if k in skip:
            continue
        if k == last and value is None:
            continue
        assert value == pytest.approx(truth, abs=1e-6), (k, got, sent)
    assert len(got) == len(sent)


drives = fuzz_drives(qualities=(1, 5), min_size=4)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives, types=st.sampled_from([("RMC", "HDT", "GGA"), ("VTG", "HDT", "GGA"), ("RMC", "GGA")]))
def test_an_honest_drive_keeps_every_value(values, types):
    # Float and autonomous fixes only: the RTK track check does not apply, the neighbours do.
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, types):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert len(fixes) == len(values) and dec.counts["neighbours_disagree"] == 0
    for f, (speed, course, heading, _) in zip(fixes, values):
        assert f.speed == pytest.approx(speed, abs=1e-3)
        if "HDT" in types:
            assert f.heading == pytest.approx(heading, abs=1e-6)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives.filter(lambda v: len(v) >= 6), at=st.integers(3, 4),
       loss=st.sampled_from([8.0, 12.0, 19.0, 21.0, -8.0, -12.0, -19.0, -21.0]))
def test_a_heading_two_lost_digits_turn_on_is_refused(values, at, loss):
    # 355.xx -> 3.xx (8°), 353.xx -> 5.xx (12°), 344.xx -> 3.xx (19°), 343.xx -> 4.xx (21°): within
    # what a vehicle turns in an epoch, but not within how fast its turn rate changes (the honest
    # drive's, at most DRIVE_YAW_ACCEL, is 3° off a steady turn in an epoch; the bound allows 8°,
    # and 4° between the fixes before and after it, where the 8° are refused).
    assert DRIVE_YAW_ACCEL * DT**2 + continue_limit() < 12.0
    values = list(values)
    speed, course, heading, quality = values[at]
    values[at] = (speed, course, round((heading + loss) % 360.0, 2), quality)
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, ("RMC", "VTG", "HDT", "GGA")):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert fixes[at].heading is None
    assert_kept_but([f.heading for f in fixes], [v[2] for v in values], skip=(at,))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives, loss=st.sampled_from([8.0, 12.0, 19.0, 21.0, -8.0, -12.0, -19.0, -21.0]))
def test_a_stream_s_last_heading_two_lost_digits_turn_goes_out_unknown(values, loss):
    # No fix after it to place it between its neighbours: damage that leaves it within what a
    # vehicle turns in an epoch takes it off the turn of the two before it by more than STEADY,
    # so it waits, and none comes. The fixes before it keep their values.
    values = list(values)
    speed, course, heading, quality = values[-1]
    values[-1] = (speed, course, round((heading + loss) % 360.0, 2), quality)
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, ("RMC", "VTG", "HDT", "GGA")):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert fixes[-1].heading is None
    assert_kept_but([f.heading for f in fixes[:-1]], [v[2] for v in values[:-1]])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives.filter(lambda v: len(v) >= 6), at=st.integers(2, 4), off=st.floats(0.0, 1.0))
def test_a_heading_no_vehicle_could_turn_to_is_refused(values, at, off):
    # Any heading further from both neighbours than the bound, as damage leaves it.
    values = list(values)
    speed, course, heading, quality = values[at]
    far = heading_limit(tol=0.5) + 2 * DRIVE_TURN * DT + 0.1 + off * 100.0
    values[at] = (speed, course, round((heading + far) % 360.0, 2), quality)
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, ("RMC", "HDT", "GGA")):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert fixes[at].heading is None
    # The next is confirmed by at - 1 (the stream's last may go out unknown: nothing after it).
    following = fixes[at + 1].heading
    assert (following is None and at + 1 == len(values) - 1) \
        or following == pytest.approx(values[at + 1][2], abs=1e-6)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives.filter(lambda v: len(v) >= 6), at=st.integers(3, 4),
       loss=st.sampled_from([12.0, 19.0, 21.0, 30.0, -12.0, -19.0, -21.0, -30.0]))
def test_a_moving_course_two_lost_digits_turn_is_refused_between_its_neighbours(values, at, loss):
    # An RMC without VTG: its speed and course alone. 353.xx -> 5.xx (12°) and the rest, at 7 m/s
    # and more (the drive's speeds moved up by 7 m/s, its accelerations kept), where the bound
    # between two fixes is 7.7° at most; within the second-order bound (16°) where the turn rate
    # changed the same way. Refused with the speed beside it; the fix before it keeps its values.
    values = [(speed + 7.0, course, heading, quality) for speed, course, heading, quality in values]
    speed, course, heading, quality = values[at]
    values[at] = (speed, round((course + loss) % 360.0, 2), heading, quality)
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, ("RMC", "GGA")):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert (fixes[at].speed, fixes[at].course) == (None, None)
    assert_kept_but([f.course for f in fixes], [v[1] for v in values], skip=(at,))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(values=drives.filter(lambda v: len(v) >= 5),
       loss=st.sampled_from([8.0, 12.0, 19.0, -8.0, -12.0, -19.0]))
def test_a_stream_s_second_heading_is_checked_between_its_neighbours(values, loss):
    # One witness before it (the stream's first fix), so no turn to carry on: the first-order
    # bound (20°) let these through; the turn through the fixes before and after it does not.
    # The first and third may go with it (which of them is wrong, the first values cannot say);
    # from the fourth on every value is kept.
    values = list(values)
    speed, course, heading, quality = values[1]
    values[1] = (speed, course, round((heading + loss) % 360.0, 2), quality)
    dec = NmeaEpochDecoder("t", epoch_end="GGA")
    fixes = []
    for s in sentences(values, ("RMC", "VTG", "HDT", "GGA")):
        fixes += dec.push(s, 0.0, T0)
    fixes += dec.flush(0.0, T0)
    assert len(fixes) == len(values) and fixes[1].heading is None
    assert_kept_but([f.heading for f in fixes], [v[2] for v in values], skip=range(3))

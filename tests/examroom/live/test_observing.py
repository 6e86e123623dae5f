from dataclasses import replace
from datetime import datetime, timezone

import pymap3d
import pynmea2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.gnss.motion_bounds import SPEED_NOISE
from devices.readings import CourseInputs, GnssFix, SignalFrame
from examroom.live.observing import CourseInputTracker, CourseOrigin, pose_from_fix, signals_from_frame
from scoring.observations import FixQuality, Gear
from tests.shared_data import NMEA_DIR

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
ORIGIN = CourseOrigin(33.40, 104.92, 1000.0)
KNOT = 1852 / 3600  # m/s


def _fix(lat, lon, quality=4, heading=None, course=87.0):
    return GnssFix(mono=1.0, utc=UTC, device="V1.gnss", latitude=lat, longitude=lon, altitude=1000.0,
                   quality=quality, satellites=20, hdop=0.6, correction_age=1.0, speed=1.5,
                   course=course, heading=heading)


def test_fix_lands_in_course_metres():
    lat, lon, _ = pymap3d.enu2geodetic(12.5, -3.25, 0.0, ORIGIN.latitude, ORIGIN.longitude, ORIGIN.altitude)
    pose = pose_from_fix(_fix(lat, lon), "V1", ORIGIN)
    assert pose.x == pytest.approx(12.5, abs=1e-4) and pose.y == pytest.approx(-3.25, abs=1e-4)
    assert pose.fix is FixQuality.RTK_FIXED and pose.heading == 87.0


def test_dual_antenna_heading_wins_over_course():
    pose = pose_from_fix(_fix(33.4, 104.92, heading=91.5), "V1", ORIGIN)
    assert pose.heading == 91.5


@pytest.mark.parametrize("quality, fix", [(0, FixQuality.NONE), (1, FixQuality.SINGLE), (2, FixQuality.DGPS),
                                          (5, FixQuality.RTK_FLOAT), (9, FixQuality.NONE)])
def test_quality_map(quality, fix):
    assert pose_from_fix(_fix(33.4, 104.92, quality=quality), "V1", ORIGIN).fix is fix


def test_signals_absent_inputs_are_none():
    frame = SignalFrame(mono=1.0, utc=UTC, device="V1.signals", sequence=7,
                        flags=frozenset({"ignition", "engine", "helmet"}),
                        present=frozenset({"ignition", "engine", "starter", "helmet", "left_footpeg"}),
                        gear="2", roll=-3.5)
    sig = signals_from_frame(frame, "V1")
    assert sig.engine and not sig.starter and sig.helmet is True and sig.left_footpeg is False
    assert sig.seatbelt is None and sig.parking_brake is None and sig.gear is Gear.G2 and sig.roll == -3.5


def test_course_tracker_reports_changes_only():
    tracker = CourseInputTracker(["pile_e.pole1", None, "bridge_e.A"])
    first = tracker.changes(CourseInputs(mono=1, utc=UTC, device="B1", unit=1, inputs=(False, True, False)))
    assert [(o.element, o.active) for o in first] == [("pile_e.pole1", False), ("bridge_e.A", False)]
    assert tracker.changes(CourseInputs(mono=2, utc=UTC, device="B1", unit=1, inputs=(False, False, False))) == []
    change = tracker.changes(CourseInputs(mono=3, utc=UTC, device="B1", unit=1, inputs=(True, False, False)))
    assert [(o.element, o.active, o.t) for o in change] == [("pile_e.pole1", True, 3)]


def test_a_fix_without_speed_is_not_a_standing_vehicle():
    assert pose_from_fix(replace(_fix(33.4, 104.92), speed=None), "V1", ORIGIN) is None
    assert pose_from_fix(replace(_fix(33.4, 104.92), speed=0.0), "V1", ORIGIN).speed == 0.0


# --- a course over ground stands in for the heading only while the vehicle travels ---------------

def _moving(speed, course=87.0, heading=None):
    return replace(_fix(33.4, 104.92, heading=heading, course=course), speed=speed)


@given(speed=st.floats(0.0, SPEED_NOISE), course=st.floats(0.0, 359.99))
def test_a_course_standing_still_is_no_heading(speed, course):
    """At or below the receiver's speed noise a course is noise (or damage nothing checks): the
    pose goes out with a null heading, which the judge holds from before the standstill."""
    pose = pose_from_fix(_moving(speed, course), "V1", ORIGIN)
    assert pose.heading is None and pose.speed == speed


@given(speed=st.floats(SPEED_NOISE, 70.0, exclude_min=True), course=st.floats(0.0, 359.99))
def test_a_course_just_above_the_speed_noise_is_the_heading(speed, course):
    assert pose_from_fix(_moving(speed, course), "V1", ORIGIN).heading == course


@given(speed=st.floats(0.0, 70.0), heading=st.floats(0.0, 359.99))
def test_a_true_heading_is_the_heading_at_any_speed(speed, heading):
    assert pose_from_fix(_moving(speed, course=12.0, heading=heading), "V1", ORIGIN).heading == heading


def test_a_standing_receivers_real_courses_give_no_heading():
    """The MT3339 capture standing still (0–0.03 kn): every course it reports is dropped."""
    with open(NMEA_DIR / "mt3339.log", errors="replace") as log:
        rmcs = [pynmea2.parse(line.strip()) for line in log if line.startswith("$GPRMC")]
    courses = {m.true_course for m in rmcs if m.true_course}
    assert len(courses) >= 10 and max(courses) - min(courses) > 90  # the noise is real
    for m in rmcs:
        fix = _moving(float(m.spd_over_grnd) * KNOT, m.true_course)
        assert pose_from_fix(fix, "V1", ORIGIN).heading is None

from datetime import datetime, timezone

import pymap3d
import pytest

from devices.readings import CourseInputs, GnssFix, SignalFrame
from examroom.live.observing import CourseInputTracker, CourseOrigin, pose_from_fix, signals_from_frame
from scoring.observations import FixQuality, Gear

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
ORIGIN = CourseOrigin(33.40, 104.92, 1000.0)


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
    from dataclasses import replace

    assert pose_from_fix(replace(_fix(33.4, 104.92), speed=None), "V1", ORIGIN) is None
    assert pose_from_fix(replace(_fix(33.4, 104.92), speed=0.0), "V1", ORIGIN).speed == 0.0

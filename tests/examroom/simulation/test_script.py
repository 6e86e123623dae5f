"""The script engine: smooth paths, speed ramps and a timeline that a vehicle could drive."""

from __future__ import annotations

import math

import numpy as np
import pytest

from examroom.coursetools.path import Path, blend_corners
from examroom.simulation.profile import SpeedProfile
from examroom.simulation.script import Script, Set


def _angle_step(a: float, b: float) -> float:
    return abs((b - a + 180.0) % 360.0 - 180.0)


def test_blended_corners_keep_ends_and_straights():
    pts = blend_corners([(0, 0), (0, 10), (5, 10), (5, 20)], radius=2.0)
    assert pts[0] == (0.0, 0.0) and pts[-1] == (5.0, 20.0)
    path = Path(pts)
    assert path.heading_at(3.0) == pytest.approx(0.0, abs=1e-9)  # straight run stays exact
    assert path.curvature_at(9.5) == pytest.approx(0.5, rel=1e-3)  # right turn, r = 2 m


def test_heading_has_no_jumps_at_corners():
    path = Path.smooth([(0, 0), (0, 6), (3, 9), (3, 14), (-2, 16)], radius=1.5)
    headings = [path.heading_at(s) for s in np.arange(0.0, path.length, 0.01)]
    assert max(_angle_step(a, b) for a, b in zip(headings, headings[1:])) < 0.5


def test_speed_profile_reaches_length_and_is_smooth():
    profile = SpeedProfile.plan(20.0, cruise=2.0, v0=0.0, v1=0.0, accel=0.8, decel=0.8)
    end_s, end_v = profile.at(profile.duration)
    assert end_s == pytest.approx(20.0) and end_v == pytest.approx(0.0, abs=1e-9)
    times = np.arange(0.0, profile.duration, 0.01)
    speeds = [profile.at(t)[1] for t in times]
    accels = np.diff(speeds) / 0.01
    assert max(speeds) == pytest.approx(2.0)
    assert max(abs(accels)) <= 0.8 * 1.5 + 1e-6  # smoothstep peak is 1.5x the mean rate


def test_short_run_lowers_the_peak():
    profile = SpeedProfile.plan(1.0, cruise=3.0)
    assert profile.peak < 3.0
    assert profile.at(profile.duration)[0] == pytest.approx(1.0)


def test_script_timeline_signals_motion_and_events():
    path = Path.smooth([(0, 0), (0, 10), (4, 14)], radius=2.0)
    script = Script(0.0, 0.0, 0.0, dict(engine=False, gear="N", helmet=True))
    script.start_engine(hold=0.8, crank=0.4).command("start").set(gear="1")
    script.drive(path, speed=2.0, events=[(5.0, Set(left_footpeg=False)), (6.0, Set(left_footpeg=True))])
    script.wait(1.0).rollback(0.4)
    timeline = script.compile()
    assert timeline.state(0.1).starter and not timeline.state(0.1).engine
    assert timeline.state(0.5).engine and timeline.state(0.5).starter
    assert not timeline.state(0.9).starter and timeline.state(0.9).gear == "1"
    assert timeline.commands == ((0.8, "start"),)
    off = [t for t in timeline.times(0.05) if timeline.state(t).left_footpeg is False]
    assert off, "the footpeg event fired"
    x, y, *_ = timeline.pose(off[0])
    assert path.project((x, y)) == pytest.approx(5.0, abs=0.15)
    end = timeline.state(timeline.duration)
    assert end.speed == pytest.approx(0.0, abs=1e-9)
    rolling = [timeline.state(t) for t in timeline.times(0.05) if timeline.state(t).reversing]
    stop = timeline.state(timeline.motion[-2].t0)  # waiting before the rollback
    assert math.hypot(end.x - stop.x, end.y - stop.y) == pytest.approx(0.4, abs=1e-6)
    assert rolling and all(abs(s.heading - stop.heading) < 1e-9 for s in rolling)


def test_script_refuses_what_a_vehicle_cannot_do():
    path = Path([(0, 0), (0, 5)])
    with pytest.raises(ValueError, match="engine off"):
        Script(0, 0, 0, dict(engine=False)).drive(path, 2.0).compile()
    with pytest.raises(ValueError, match="away from the vehicle"):
        Script(1, 0, 0).drive(path, 2.0).compile()
    with pytest.raises(ValueError, match="off the vehicle heading"):
        Script(0, 0, 90).drive(path, 2.0).compile()
    with pytest.raises(ValueError, match="standstill"):
        Script(0, 0, 0).drive(path, 2.0, end_speed=1.0).compile()

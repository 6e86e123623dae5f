"""A frames-only camera recorded by encoding: segments, their times, and the watchdog."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from devices.camera import CameraSpec
from devices.readings import ScaledClock
from examroom.records.database import session_factory
from examroom.simulation.cameras import CourseRenderer, SimCamera
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.simulation.world import VehicleTruth
from examroom.video.calibration import frame_errors
from examroom.video.index import VideoIndex
from examroom.video.recorder import SegmentRecorder
from examroom.video.segments import SegmentMaintainer
from examroom.video.watchdog import RecorderPart, Watchdog
from scoring.course import load_course
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
SEGMENT = 2
FPS = 10.0


@pytest.fixture
def rig(engine, tmp_path):
    course = load_course(DEMO_COURSE_PATH)
    clock = ScaledClock(1.0)
    model = course.vehicle("E-01")
    camera = SimCamera("top", CourseRenderer(course, {"V1": model}, 640, 360),
                       lambda mono: {"V1": VehicleTruth(x=5.0, y=0.0, heading=90.0, speed=1.0)}, clock, FPS).start()
    index = VideoIndex(session_factory(engine))
    recorder = SegmentRecorder(CameraSpec("top", "sim:top", mode="encode", fps=FPS), tmp_path / "cache",
                               fanout=camera.fanout, segment_seconds=SEGMENT)
    watchdog = Watchdog(index, interval=0.2)
    maintainer = SegmentMaintainer(tmp_path / "cache", tmp_path / "recordings", index,
                                   lambda: {recorder.run_dir} if recorder.alive() else set(),
                                   on_segment=watchdog.segment_added)
    recorder.start()
    watchdog.register(RecorderPart(recorder))
    watchdog.start()
    yield camera, recorder, watchdog, maintainer, index, tmp_path / "recordings"
    watchdog.stop()
    recorder.stop()
    camera.stop()


def test_crashed_and_stalled_recorders_come_back_and_each_outage_is_a_gap(rig):
    camera, recorder, watchdog, maintainer, index, recordings = rig
    wait_for(lambda: maintainer.run() is None or len(index.all_segments("top")) >= 2,
             timeout=15, interval=0.1, what="two segments")
    first = index.all_segments("top")[1]
    assert max(abs(e) for e in frame_errors(recordings, first)) < 0.002  # frames on the grid of their own times
    # The recorder's ffmpeg runs with one malloc arena (RECORDER_ENV): the setting reaches it.
    assert b"MALLOC_ARENA_MAX=1" in Path(f"/proc/{recorder.process.pid}/environ").read_bytes().split(b"\0")

    recorder.kill()  # a crash: the open segment is lost
    wait_for(lambda: maintainer.run() is None or [e for e in index.events("top", "gap") if e.end_utc],
             timeout=15, interval=0.1, what="the crash gap")
    camera.stop()  # the source stalls: no frames
    wait_for(lambda: maintainer.run() is None or len(index.events("top", "gap")) == 2,
             timeout=15, interval=0.1, what="the stall gap")
    assert "no frame" in index.events("top", "gap")[1].detail
    camera.start()
    wait_for(lambda: maintainer.run() is None or all(e.end_utc for e in index.events("top", "gap")),
             timeout=20, interval=0.1, what="recording again")

    gaps = index.events("top", "gap")
    segments = index.all_segments("top")
    for gap in gaps:
        before = [s for s in segments if s.end_utc <= gap.start_utc]
        after = [s for s in segments if s.start_utc >= gap.end_utc]
        assert before and after, "each gap lies between recorded footage"
        assert before[-1].end_utc == gap.start_utc and after[0].start_utc == gap.end_utc
        assert not [s for s in segments if gap.start_utc < s.start_utc < gap.end_utc]
    assert (gaps[1].end_utc - gaps[1].start_utc) >= timedelta(seconds=2)
    assert watchdog.restarts("top") >= 2

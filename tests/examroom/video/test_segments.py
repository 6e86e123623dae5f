"""The maintainer's check of a listed segment: times, rebasing, filing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import av
import numpy as np

from examroom.records.database import session_factory
from examroom.video.index import VideoIndex
from examroom.video.recorder import LIST_NAME, RUN_NAME
from devices.camera.capture import FFMPEG_CAPTURE_OPTIONS
from examroom.video.segments import SegmentMaintainer, first_frame_decodes
from tests.examroom.video.footage import probe

FPS = 15
EPOCH_START = 1_795_936_268.5  # a wall-clock stamp, as a stream-copy run's first segment keeps it


def _write(path, first_seconds: float, frames: int = 30) -> None:
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "g": str(FPS)})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        first = round(first_seconds * FPS)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), i * 8 % 255, np.uint8), format="bgr24")
            frame.pts, frame.time_base = first + i, Fraction(1, FPS)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _run(tmp_path, first_seconds: float, listed: str, name: str = "seg000000.mp4"):
    """A stream-copy run's folder holding one segment, ``name``, and the list ``listed``."""
    run_dir = tmp_path / "cache" / "chase-V1" / "run-1"
    run_dir.mkdir(parents=True)
    (run_dir / RUN_NAME).write_text(json.dumps({"camera": "chase-V1", "mode": "copy", "origin": 0.0, "offset": 0.0}))
    _write(run_dir / name, first_seconds)
    (run_dir / LIST_NAME).write_text(listed)
    return run_dir / name


def _maintainer(engine, tmp_path) -> SegmentMaintainer:
    return SegmentMaintainer(tmp_path / "cache", tmp_path / "recordings", VideoIndex(session_factory(engine)),
                             lambda: set())


def test_a_segment_stamped_with_the_wall_clock_is_filed_starting_at_zero(engine, tmp_path):
    # ffmpeg lists a stream-copy run's first segment from 0 s: the list does not tell how long it is.
    raw = _run(tmp_path, EPOCH_START, f"seg000000.mp4,0.000000,{EPOCH_START + 2:.6f}\n")
    assert probe(raw).start > 1  # as ffmpeg leaves a stream-copy run's first segment
    [info] = _maintainer(engine, tmp_path).run()
    filed = probe(tmp_path / "recordings" / info.path)
    assert filed.frames_ok and filed.start == 0.0
    assert abs(filed.duration - 2.0) < 0.07
    assert info.end_utc == datetime.fromtimestamp(EPOCH_START + 2, timezone.utc)
    assert abs((info.end_utc - info.start_utc) - timedelta(seconds=filed.duration)) < timedelta(milliseconds=1)
    with av.open(str(tmp_path / "recordings" / info.path)) as container:
        shades = [int(f.to_ndarray(format="gray").mean()) for f in container.decode(video=0)]
    assert len(shades) == 30 and all(abs(shade - i * 8) <= 4 for i, shade in enumerate(shades))  # all, in order


def test_a_later_segment_already_at_zero_is_filed_untouched_with_its_listed_times(engine, tmp_path):
    raw = _run(tmp_path, 0.0, f"seg000000.mp4,0.000000,{EPOCH_START:.6f}\n"  # the run's first, filed before
                              f"seg000001.mp4,{EPOCH_START:.6f},{EPOCH_START + 2:.6f}\n", name="seg000001.mp4")
    before = raw.read_bytes()
    [info] = _maintainer(engine, tmp_path).run()
    assert (tmp_path / "recordings" / info.path).read_bytes() == before
    assert info.start_utc == datetime.fromtimestamp(EPOCH_START, timezone.utc) and info.duration == 2.0
    assert info.end_utc == datetime.fromtimestamp(EPOCH_START + 2, timezone.utc)


def test_a_segment_that_does_not_decode_is_dropped(engine, tmp_path):
    raw = _run(tmp_path, 0.0, f"seg000000.mp4,{EPOCH_START:.6f},{EPOCH_START + 2:.6f}\n")
    raw.write_bytes(raw.read_bytes()[:2000])  # cut short, as a write the disk refused
    maintainer = _maintainer(engine, tmp_path)
    assert maintainer.run() == [] and maintainer.rejected == 1
    assert not raw.exists() and not list((tmp_path / "recordings").glob("**/*.mp4"))


def test_a_segment_of_one_keyframe_interval_decodes_with_the_live_readers_options(tmp_path, monkeypatch):
    # A network camera's reader sets OpenCV's capture options for the whole process (fflags nobuffer).
    monkeypatch.setenv("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_CAPTURE_OPTIONS)
    short = tmp_path / "seg000009.mp4"
    _write(short, 0.0, frames=8)  # one keyframe, as a run's last segment cut short by a stop
    assert first_frame_decodes(short)

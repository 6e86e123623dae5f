"""Calibrating a camera's offset: how late its recorded times are against the picture.

Point the camera at a screen showing the time code of :mod:`examroom.video.timecode`
(the simulated cameras stamp it into every frame), record a segment or two,
and compare the time each decoded frame shows with the time the recording
gives that frame. The median difference is the camera's offset; the maintainer
adds it to every segment so a deduction's time lands on the right frame.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

from examroom.video import timecode
from examroom.video.index import SegmentInfo


def frame_errors(recordings_dir: Path, segment: SegmentInfo, limit: int = 300) -> list[float]:
    """Seconds by which each decoded frame's time code differs from its recorded time."""
    # Imported here: calibration is done on demand, and PyAV's libraries would otherwise stay mapped
    # in the controller (the camera readers and the segment check use OpenCV's FFmpeg).
    import av

    errors = []
    with av.open(str(Path(recordings_dir) / segment.path)) as container:
        stream = container.streams.video[0]
        for i, frame in enumerate(container.decode(stream)):
            if i >= limit:
                break
            shown = timecode.read(frame.to_ndarray(format="bgr24"))
            if shown is None or frame.time is None:
                continue
            recorded = segment.start_utc + timedelta(seconds=frame.time)
            errors.append((shown - recorded).total_seconds())
    return errors


def measure_offset(recordings_dir: Path, segments: list[SegmentInfo]) -> float:
    """The offset (seconds) to add to this camera's recorded times, from segments showing the time code."""
    errors = [e for segment in segments for e in frame_errors(recordings_dir, segment)]
    if not errors:
        raise ValueError("no frame with a readable time code in the given segments")
    return statistics.median(errors)

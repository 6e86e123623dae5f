"""Test footage: H.264 MP4 segments whose every frame shows, as a time code, the moment it stands for."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import av
import numpy as np

from examroom.video import timecode


def write_time_coded_segment(path: Path, start: datetime, seconds: float, fps: int, width: int, height: int,
                             **encoder: str) -> None:
    """``seconds`` of frames at ``fps``, frame i stamped ``start + i / fps``; ``encoder``: extra x264 options."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=fps, options={"preset": "ultrafast", **encoder})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(round(seconds * fps)):
            image = np.full((height, width, 3), 90, np.uint8)
            timecode.stamp(image, start + timedelta(seconds=i / fps))
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@dataclass(frozen=True)
class Probe:
    duration: float
    frames_ok: bool
    start: float = 0.0  # presentation time of the first frame, seconds


def probe(path: Path) -> Probe | None:
    """What the file itself says: its video's duration and start time, and whether its first frame
    decodes (None if it cannot be opened). Read with PyAV, apart from the maintainer's OpenCV and
    segment list, so a test compares the maintainer's account with the file's."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            duration = None
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / 1_000_000
            start = container.start_time / 1_000_000 if container.start_time is not None else 0.0
            decoded = False
            for frame in container.decode(stream):
                decoded = frame.width > 0
                break
            return Probe(duration or 0.0, decoded, start)
    except (av.FFmpegError, IndexError, OSError):
        return None

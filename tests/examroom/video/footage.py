"""Test footage: H.264 MP4 segments whose every frame shows, as a time code, the moment it stands for."""

from __future__ import annotations

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

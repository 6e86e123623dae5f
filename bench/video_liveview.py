"""Live-view delay: from the moment a frame shows to the moment a browser-side client decodes it.

The demo course runs at real speed with its cameras; an HTTP client reads each
camera's MJPEG stream from the controller's live-view server, decodes each
JPEG, reads the frame's burned-in UTC time code and compares it with the clock.
The chase camera's frames travel the network-camera path (H.264 over TCP, the
recorder's stream copy and local re-stream, OpenCV decode); the top camera's
frames are in-process.

    python bench/video_liveview.py --frames 150
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examroom.simulation.demo import DemoCourse  # noqa: E402
from examroom.video import timecode  # noqa: E402


def delays(url: str, count: int, clock) -> list[float]:
    out = []
    with urllib.request.urlopen(url, timeout=10) as response:
        buffer = b""
        while len(out) < count:
            buffer += response.read1(65536)
            start = buffer.find(b"\xff\xd8")
            end = buffer.find(b"\xff\xd9", start + 2)
            if start >= 0 and end > 0:
                image = cv2.imdecode(np.frombuffer(buffer[start:end + 2], np.uint8), cv2.IMREAD_COLOR)
                buffer = buffer[end + 2:]
                shown = timecode.read(image)
                if shown is not None:
                    out.append((clock.now()[1] - shown).total_seconds())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = DemoCourse(Path(tmp), 1.0, cameras=True).start()
        try:
            time.sleep(4)
            video = demo.service.video
            for camera in video.live.sources:
                d = sorted(delays(f"{video.live.url}{camera}.mjpg", args.frames, demo.clock))
                print(f"live view {camera}: delay median {statistics.median(d) * 1000:.0f} ms, "
                      f"p95 {d[int(len(d) * 0.95) - 1] * 1000:.0f} ms, max {d[-1] * 1000:.0f} ms over {len(d)} frames")
        finally:
            demo.stop()


if __name__ == "__main__":
    main()

"""A camera stream for reader tests: real ffmpeg encoding a test picture to H.264 over local UDP, live."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator

from devices.camera import CameraSpec
from devices.camera.ffmpeg import ffmpeg_exe
from examroom.video.system import free_udp_port

WIDTH, HEIGHT, FPS = 320, 240, 15


@contextlib.contextmanager
def udp_camera() -> Iterator[tuple[CameraSpec, str]]:
    """A camera's spec and the URL its reader opens, while ffmpeg sends it (as a recorder re-serves a copy camera)."""
    port = free_udp_port()
    process = subprocess.Popen(
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi",
         "-i", f"testsrc2=size={WIDTH}x{HEIGHT}:rate={FPS}", "-c:v", "libx264", "-preset", "ultrafast",
         "-tune", "zerolatency", "-g", str(FPS), "-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"],
        stdin=subprocess.DEVNULL)
    try:
        yield (CameraSpec("cam", f"udp://127.0.0.1:{port}", fps=FPS, width=WIDTH, height=HEIGHT),
               f"udp://127.0.0.1:{port}?overrun_nonfatal=1&fifo_size=16384")
    finally:
        process.terminate()
        process.wait(timeout=10)

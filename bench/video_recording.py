"""CPU per recorded stream, copy and encode modes, and streams per core.

Copy: a live-paced H.264 MPEG-TS source on a local TCP socket (ffmpeg testsrc2,
x264) recorded by the recorder's ffmpeg with ``-c copy`` into segments.
Encode: frames pushed from Python at the camera's rate (the simulated camera's
renderer at 640×360, and plain frames at 704×576 25 fps as a D1 camera) encoded
once by the recorder's ffmpeg (libx264 ultrafast). CPU is the recorder
process's user+system time from /proc over the run (plus, for encode, the
Python thread writing frames), divided by wall time.

    python bench/video_recording.py --seconds 30
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.camera import CameraSpec, Frame, FrameFanout  # noqa: E402
from devices.camera.ffmpeg import ffmpeg_exe  # noqa: E402
from examroom.simulation.cameras import free_tcp_port  # noqa: E402
from examroom.video.recorder import SegmentRecorder  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def copy_mode(seconds: float, size: str, rate: int, bitrate: str) -> float:
    port = free_tcp_port()
    source = subprocess.Popen([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
                               f"testsrc2=size={size}:rate={rate}", "-c:v", "libx264", "-preset", "ultrafast",
                               "-tune", "zerolatency", "-b:v", bitrate, "-g", str(2 * rate), "-f", "mpegts",
                               f"tcp://127.0.0.1:{port}?listen=1"])
    time.sleep(0.5)
    with tempfile.TemporaryDirectory() as tmp:
        recorder = SegmentRecorder(CameraSpec("bench", f"tcp://127.0.0.1:{port}", mode="copy"), Path(tmp))
        recorder.start()
        time.sleep(2)  # past connection set-up
        pid = recorder.process.pid
        c0, t0 = cpu_seconds(pid), time.monotonic()
        time.sleep(seconds)
        share = (cpu_seconds(pid) - c0) / (time.monotonic() - t0)
        recorder.stop()
    source.kill()
    source.wait()
    return share


def encode_mode(seconds: float, width: int, height: int, fps: float, renderer=None) -> tuple[float, float]:
    fanout = FrameFanout()
    stop = threading.Event()
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (height, width * 2, 3), dtype=np.uint8)

    def produce():
        n, start = 0, time.monotonic()
        utc0 = datetime.now(timezone.utc)
        while not stop.is_set():
            if renderer is not None:
                image = renderer(n)
            else:  # a panning textured picture with noise, like a camera's
                shift = (n * 4) % width
                image = base[:, shift:shift + width].copy()
                image[::7] = rng.integers(0, 255, image[::7].shape, dtype=np.uint8)
            fanout.publish(Frame(image, utc0 + timedelta(seconds=n / fps), time.monotonic(), n))
            n += 1
            time.sleep(max(0.0, start + n / fps - time.monotonic()))

    with tempfile.TemporaryDirectory() as tmp:
        recorder = SegmentRecorder(CameraSpec("bench", "sim:bench", mode="encode", fps=fps, width=width,
                                              height=height), Path(tmp), fanout=fanout)
        recorder.start()
        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        time.sleep(2)
        pid = recorder.process.pid
        c0, p0, t0 = cpu_seconds(pid), time.thread_time(), time.monotonic()
        own0 = time.process_time()
        time.sleep(seconds)
        wall = time.monotonic() - t0
        ffmpeg_share = (cpu_seconds(pid) - c0) / wall
        python_share = (time.process_time() - own0) / wall  # frame production + pipe writes, this process
        stop.set()
        recorder.stop()
    return ffmpeg_share, python_share


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.seconds:g} s per run; shares are of one core")
    for size, rate, bitrate in (("704x576", 25, "1200k"), ("1280x720", 25, "2000k")):
        share = copy_mode(args.seconds, size, rate, bitrate)
        print(f"copy   {size} {rate} fps {bitrate}: {share * 100:.2f} % of a core per stream "
              f"-> {1 / max(share, 1e-6):.0f} streams per core")
    from examroom.simulation.cameras import CourseRenderer
    from examroom.simulation.scenarios import DEMO_COURSE_PATH, scenario
    from scoring.course import load_course

    course = load_course(DEMO_COURSE_PATH)
    sc = scenario("C4", "clean")
    states = list(sc.samples(1 / 15))
    renderer = CourseRenderer(course, {"V": course.vehicle(sc.vehicle_model)}, 640, 360)
    runs = (("simulated top camera 640x360", 640, 360, 15.0,
             lambda n: renderer.render({"V": states[n % len(states)].vehicle}, "")),
            ("D1 camera 704x576", 704, 576, 25.0, None))
    for name, width, height, fps, render in runs:
        ffmpeg_share, python_share = encode_mode(args.seconds, width, height, fps, render)
        print(f"encode {name} {fps:g} fps: ffmpeg x264 {ffmpeg_share * 100:.1f} % + Python frames "
              f"{python_share * 100:.1f} % of a core -> {1 / max(ffmpeg_share, 1e-6):.1f} streams per core "
              f"(encoder only)")


if __name__ == "__main__":
    main()

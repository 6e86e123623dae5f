"""One camera's recorder: an ffmpeg process writing 10 s MP4 segments into a cache folder.

Two ways in, one way out:

* ``copy``: a camera that sends H.264 (RTSP, HTTP, TCP) is opened by ffmpeg and
  its stream copied into segments (``-c copy``), never re-encoded. Packets are
  stamped with the wall clock as they arrive, so segment times are UTC; the
  camera's calibrated offset covers its capture and network delay.
* ``encode``: a source that only gives frames (a USB camera read by OpenCV, a
  simulated camera) is encoded once to H.264 by ffmpeg's libx264 from a pipe.
  The frames are laid on a fixed frame-rate grid from the first frame's UTC
  time (a late frame is repeated, an early one dropped), so frame *n* of the
  run shows the moment ``origin + n / fps``.

Each run gets its own cache folder holding ``run.json`` (how to turn stream
times into UTC), the segments, and ``list.csv`` — ffmpeg's segment list, which
names a segment only once it is complete. The maintainer
(:mod:`examroom.video.segments`) takes segments from there.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import signal
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from devices.camera import CameraSpec, FrameFanout
from devices.camera.ffmpeg import ffmpeg_exe

log = logging.getLogger(__name__)

SEGMENT_SECONDS = 10
LIST_NAME = "list.csv"
RUN_NAME = "run.json"
# A frames-only source that sends nothing for this long has stalled: the run ends and the
# watchdog starts a new one (a new run also gets a new time origin).
FRAME_STALL_SECONDS = 3.0
# One malloc arena per recorder: glibc gives each of ffmpeg's threads (demuxer, muxers) an arena of
# its own, which keeps what it freed. A copy recorder of a 640×360 800 kbit/s stream held 9.7 MB
# private after 90 s with them, 8.8 MB with one arena (a few packets a second: no contention to speak of).
RECORDER_ENV = {"MALLOC_ARENA_MAX": "1"}


def segment_output(run_dir: Path, segment_seconds: int) -> list[str]:
    """ffmpeg's output options for MP4 segments in ``run_dir``, each listed in its ``list.csv`` when closed."""
    return ["-f", "segment", "-segment_time", str(segment_seconds), "-reset_timestamps", "1",
            "-segment_format", "mp4", "-segment_format_options", "movflags=+faststart",
            "-segment_list", str(run_dir / LIST_NAME), "-segment_list_type", "csv",
            str(run_dir / "seg%06d.mp4")]


def _input_options(url: str) -> list[str]:
    if url.startswith("rtsp://"):
        return ["-rtsp_transport", "tcp", "-timeout", "5000000"]
    if url.split(":", 1)[0] in ("tcp", "http", "https", "udp"):
        return ["-rw_timeout", "5000000"]
    return []


class SegmentRecorder:
    """Records one camera; a new run (process + cache folder) on every :meth:`start`."""

    def __init__(self, spec: CameraSpec, cache_dir: Path, fanout: FrameFanout | None = None,
                 segment_seconds: int = SEGMENT_SECONDS, restream_port: int | None = None) -> None:
        if spec.mode == "encode" and fanout is None:
            raise ValueError(f"camera {spec.id}: mode 'encode' needs a frame source")
        self.spec = spec
        self.cache_dir = Path(cache_dir) / spec.id
        self.fanout = fanout
        self.segment_seconds = segment_seconds
        self.restream_port = restream_port  # copy mode: re-serve the stream for live view/analysis
        self.process: subprocess.Popen | None = None
        self.run_dir: Path | None = None
        self.started_mono = 0.0
        self.runs = 0
        self._writer: threading.Thread | None = None
        self._stop_writer = threading.Event()
        self.ended_reason = ""

    # -- commands -------------------------------------------------------------------
    def command(self, run_dir: Path) -> list[str]:
        spec = self.spec
        head = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
        if spec.mode == "copy":
            cmd = head + _input_options(spec.url) + ["-use_wallclock_as_timestamps", "1", "-i", spec.url,
                                                     "-map", "0:v:0", "-c", "copy", "-copyts"]
            cmd += segment_output(run_dir, self.segment_seconds)
            if self.restream_port:
                # muxdelay 0: the MPEG-TS muxer would otherwise hold 0.7 s of stream back.
                cmd += ["-map", "0:v:0", "-c", "copy", "-muxdelay", "0", "-muxpreload", "0", "-flush_packets", "1", "-f", "mpegts",
                        f"udp://127.0.0.1:{self.restream_port}?pkt_size=1316"]
            return cmd
        gop = max(1, round(spec.fps * 2))
        return head + ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{spec.width}x{spec.height}",
                       "-framerate", f"{spec.fps:g}", "-i", "pipe:0",
                       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-threads", "1",
                       "-g", str(gop), "-force_key_frames", f"expr:gte(t,n_forced*{self.segment_seconds})",
                       ] + segment_output(run_dir, self.segment_seconds)

    # -- life -----------------------------------------------------------------------
    def start(self) -> None:
        self.runs += 1
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
        self.run_dir = self.cache_dir / f"run-{stamp}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.started_mono = time.monotonic()
        self.ended_reason = ""
        if self.spec.mode == "copy":
            # Stream times are wall-clock epoch seconds already (-use_wallclock_as_timestamps + -copyts).
            self._write_run(origin=0.0)
        self.process = subprocess.Popen(self.command(self.run_dir), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, env={**os.environ, **RECORDER_ENV})
        threading.Thread(target=self._drain_stderr, args=(self.process,), daemon=True).start()
        if self.spec.mode == "encode":
            self._stop_writer.clear()
            self._writer = threading.Thread(target=self._write_frames, args=(self.process, self.run_dir),
                                            name=f"rec-{self.spec.id}", daemon=True)
            self._writer.start()

    def _write_run(self, origin: float, run_dir: Path | None = None) -> None:
        run_dir = run_dir or self.run_dir
        info = {"camera": self.spec.id, "mode": self.spec.mode, "origin": origin, "offset": self.spec.offset,
                "fps": self.spec.fps}
        partial = run_dir / (RUN_NAME + ".new")
        partial.write_text(json.dumps(info))
        partial.replace(run_dir / RUN_NAME)  # the maintainer never reads half a file

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            text = line.decode("utf-8", "replace").strip()
            if text:
                self.ended_reason = text[:300]
                log.warning("recorder %s: %s", self.spec.id, text)

    def _write_frames(self, process: subprocess.Popen, run_dir: Path) -> None:
        origin = None
        written = 0
        fps = self.spec.fps
        with self.fanout.subscribe() as slot:
            try:
                while not self._stop_writer.is_set() and process.poll() is None:
                    frame = slot.get(timeout=FRAME_STALL_SECONDS)
                    if frame is None:
                        self.ended_reason = f"no frame for {FRAME_STALL_SECONDS:g} s"
                        break
                    if frame.image.shape[:2] != (self.spec.height, self.spec.width):
                        self.ended_reason = (f"frame size {frame.image.shape[1]}x{frame.image.shape[0]} is not "
                                             f"the configured {self.spec.width}x{self.spec.height}")
                        break
                    if origin is None:
                        origin = frame.utc
                        self._write_run(origin.timestamp(), run_dir)
                    target = round((frame.utc - origin).total_seconds() * fps)
                    if target - written > FRAME_STALL_SECONDS * fps:
                        self.ended_reason = f"frames jumped {(target - written) / fps:.1f} s ahead"
                        break
                    data = frame.image.tobytes()
                    while written <= target:
                        process.stdin.write(data)
                        written += 1
            except (BrokenPipeError, OSError):
                pass
            finally:
                try:
                    process.stdin.close()  # ffmpeg finishes the open segment and lists it
                except OSError:
                    pass

    def set_offset(self, offset: float) -> None:
        """Use a newly calibrated offset, from the segments of the current run on."""
        self.spec = dataclasses.replace(self.spec, offset=offset)
        if self.run_dir is not None and (self.run_dir / RUN_NAME).exists():
            info = json.loads((self.run_dir / RUN_NAME).read_text())
            info["offset"] = offset
            partial = self.run_dir / (RUN_NAME + ".new")
            partial.write_text(json.dumps(info))
            partial.replace(self.run_dir / RUN_NAME)  # the maintainer never reads half a file

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """End the run cleanly: ffmpeg closes and lists the open segment."""
        process = self.process
        if process is None:
            return
        self._stop_writer.set()
        if process.poll() is None:
            if self.spec.mode == "copy":
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._writer is not None:
            self._writer.join(timeout=timeout)
            self._writer = None

    def kill(self) -> None:
        """End the run at once, as a crash would (the open segment is lost)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stop_writer.set()

    def last_output_mono(self) -> float:
        """Monotonic time of the run's newest listed segment (or its start)."""
        if self.run_dir is None:
            return 0.0
        listing = self.run_dir / LIST_NAME
        try:
            age = time.time() - listing.stat().st_mtime
        except FileNotFoundError:
            return self.started_mono
        return max(self.started_mono, time.monotonic() - age)

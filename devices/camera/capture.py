"""Reading a camera's frames with OpenCV.

:class:`CaptureReader` opens a URL or a local device with ``cv2.VideoCapture``
in its own thread and publishes every frame to a :class:`FrameFanout`, stamped
with the clock's UTC time plus the camera's calibrated offset. It never
retries by itself: it reports whether it is alive and when it last got a
frame, and a watchdog above decides when to start it again.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import timedelta

import cv2

from devices.camera.frames import Frame, FrameFanout
from devices.camera.spec import CameraSpec
from devices.readings import Clock, SystemClock

# Low-latency input for network sources: drop late packets instead of queueing. The probe reads
# until the picture size is known, at the stream's next keyframe when it is joined mid-way: with a
# 32 KB probe a reader opened the stream only at its very start (as the recorder began), and any
# later open (a watchdog restart, a reader started for a viewer) read no frame, the size unknown.
# No frames are probed for the frame rate (fpsprobesize 0; the reader stamps frames by its clock):
# 20 of them took the open from 0.2 to 1.5 s on a 15 fps stream.
# A UDP source's receive ring (fifo_size, in 188-byte packets) becomes resident all the way round:
# 16384 packets = 3 MB, 3 s of an 8 Mbit/s stream, not the 188 MB of 1 000 000.
# What every reader in the process opens streams with (OpenCV reads it from the environment).
FFMPEG_CAPTURE_OPTIONS = "fflags;nobuffer|flags;low_delay|fpsprobesize;0|fifo_size;16384|overrun_nonfatal;1"

# One decoding thread per camera. OpenCV's default is one per core, each with its own decoder
# context and frames: 8 cameras of 640×360 H.264 held 58 MB with two threads on this 2-core machine,
# 47 MB with one, and more cores cost more. One thread decodes such a stream many times faster than
# it arrives, and a course has a reader per camera, so the cameras are decoded side by side anyway.
DECODER_THREADS = 1


class CaptureReader:
    kind = "reader"

    def __init__(self, spec: CameraSpec, url: str | None = None, fanout: FrameFanout | None = None,
                 clock: Clock | None = None, stall_seconds: float = 3.0) -> None:
        self.spec = spec
        self.camera = spec.id
        self.url = url or spec.url
        self.fanout = fanout or FrameFanout()
        self.clock = clock or SystemClock()
        self.stall_seconds = stall_seconds
        self.frames = 0
        self.last_frame_mono = 0.0
        self.started_mono = 0.0
        self.error = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _open(self) -> cv2.VideoCapture:
        if self.url.isdigit():
            return cv2.VideoCapture(int(self.url))
        if "://" in self.url and not self.url.startswith("file://"):
            os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_CAPTURE_OPTIONS)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 5000, cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                  int(self.stall_seconds * 1000), cv2.CAP_PROP_N_THREADS, DECODER_THREADS]
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)

    def start(self) -> None:
        self._stop.clear()
        self.started_mono = time.monotonic()
        self.error = ""
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.camera}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        capture = self._open()
        try:
            if not capture.isOpened():
                self.error = f"cannot open {self.url}"
                return
            seq = 0
            while not self._stop.is_set():
                ok, image = capture.read()
                if not ok:
                    self.error = "end of stream"
                    return
                _, utc = self.clock.now()
                now = time.monotonic()
                self.fanout.publish(Frame(image=image, utc=utc + timedelta(seconds=self.spec.offset), mono=now,
                                          seq=seq))
                seq += 1
                self.frames += 1
                self.last_frame_mono = now
        finally:
            capture.release()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stalled(self) -> bool:
        last = max(self.last_frame_mono, self.started_mono)
        return time.monotonic() - last > self.stall_seconds + (5.0 if self.frames == 0 else 0.0)

    def kill(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.stall_seconds + 5)
            self._thread = None

    def reason(self) -> str:
        return self.error

"""Live view: each camera's frames as MJPEG over HTTP, served by the controller.

The controller already reads every camera once (the recorder's ffmpeg re-serves
a network camera's stream on a local UDP port for an OpenCV reader; frames-only
cameras are read in-process), so the live view only fans out frames it has:
opening a camera a second time for a browser is never needed. Each viewer gets
the newest frame as it arrives (a slow viewer skips frames, it never lags
behind), JPEG-encoded once per frame for all viewers.

``GET /live/<camera>.mjpg`` — ``multipart/x-mixed-replace`` stream for an ``<img>``;
``GET /live/<camera>.jpg`` — the newest frame; ``GET /live/`` — the cameras as JSON.
A viewer is a consumer of the camera's fan-out, and so is a snapshot while it is served: a
camera decoded only on demand (:mod:`devices.camera.demand`) starts reading for it, and a
snapshot of a camera not being read waits (at most ``snapshot_wait`` seconds) for its first frame.
It listens on the loopback by default and asks nobody to sign in: the web process
relays these to signed-in staff (``web.cameras``); it never opens a camera.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler

import cv2

from devices.camera import Frame, FrameFanout
from examroom.loopback import LoopbackServer

BOUNDARY = "examroomframe"
JPEG_QUALITY = 80
# A snapshot of a camera that is not being read waits this long for the reader's first frame: its
# open time-out (5 s) and a frame, under the web relay's 10 s (examroom_web.cameras.routes).
SNAPSHOT_WAIT = 6.0


class _Encoded:
    """One JPEG per frame, shared by every viewer of a camera."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seq: tuple[int, int] | None = None
        self._data = b""

    def jpeg(self, frame: Frame) -> bytes:
        key = (id(frame), frame.seq)
        with self._lock:
            if key != self._seq:
                ok, data = cv2.imencode(".jpg", frame.image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
                self._seq, self._data = key, data.tobytes() if ok else b""
            return self._data


class LiveViewServer:
    def __init__(self, sources: dict[str, FrameFanout], titles: dict[str, str] | None = None,
                 host: str = "127.0.0.1", port: int = 0, vehicles: dict[str, str] | None = None,
                 snapshot_wait: float = SNAPSHOT_WAIT) -> None:
        self.sources = sources
        encoded = {camera: _Encoded() for camera in sources}
        self._stopping = threading.Event()
        self._http = LoopbackServer(_LiveHandler, "live-view", host, port, sources=sources, encoded=encoded,
                                    titles=titles or {}, vehicles=vehicles or {}, stopping=self._stopping,
                                    snapshot_wait=snapshot_wait)

    @property
    def url(self) -> str:
        return f"{self._http.base_url}/live/"

    @property
    def viewers(self) -> int:
        """Streams being served now."""
        return len(self._http.connections)

    def start(self) -> "LiveViewServer":
        self._http.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # viewers of a camera that sends nothing leave too
        self._http.stop()


class _LiveHandler(BaseHTTPRequestHandler):
    sources: dict[str, FrameFanout]
    encoded: dict[str, _Encoded]
    titles: dict[str, str]
    vehicles: dict[str, str]  # camera -> the vehicle it is in or follows (the site file's placement)
    connections: set
    stopping: threading.Event
    snapshot_wait: float
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = self.path.split("?", 1)[0]
        if path in ("/live", "/live/"):
            body = json.dumps([{"camera": c, "title": self.titles.get(c, c), "vehicle": self.vehicles.get(c),
                                "mjpeg": f"/live/{c}.mjpg", "jpeg": f"/live/{c}.jpg"} for c in self.sources],
                              ensure_ascii=False).encode()
            self._send(200, "application/json", body)
            return
        name, _, ext = path.removeprefix("/live/").rpartition(".")
        fanout = self.sources.get(name)
        if fanout is None or ext not in ("mjpg", "jpg"):
            self.send_error(404, "unknown camera")
            return
        if ext == "jpg":
            with fanout.subscribe() as slot:
                frame = fanout.latest or slot.get(timeout=self.snapshot_wait)
            if frame is None:
                self.send_error(503, "no frame yet")
                return
            self._send(200, "image/jpeg", self.encoded[name].jpeg(frame))
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.send_header("Cache-Control", "no-cache, no-store")
        self.end_headers()
        self.connections.add(self.connection)
        try:
            with fanout.subscribe() as slot:
                while not self.stopping.is_set():
                    frame = slot.get(timeout=1.0)
                    if frame is None:
                        continue  # the camera is down; the watchdog brings it back
                    data = self.encoded[name].jpeg(frame)
                    self.wfile.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n"
                                     f"X-Frame-Utc: {frame.utc.isoformat()}\r\n\r\n".encode() + data + b"\r\n")
                    self.wfile.flush()
        except OSError:
            return
        finally:
            self.connections.discard(self.connection)

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass

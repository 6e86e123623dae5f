"""The controller's live view: it listens on the loopback (the web app relays it behind sign-in), and
a camera decoded on demand starts reading for a viewer or a snapshot."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import cv2
import numpy as np
import pytest

from devices.camera import CameraSpec, FrameFanout
from devices.camera.capture import CaptureReader
from devices.camera.demand import DemandReader
from devices.readings import ManualClock, SystemClock
from examroom.records.database import session_factory
from examroom.live.feed import LiveFeed
from examroom.site.cameras import VideoSettings
from examroom.video.liveview import LiveViewServer
from examroom.video.system import VideoSystem
from tests.devices.camera.streams import udp_camera


def _lan_address() -> str | None:
    """This machine's address on its default route, if it has one other than the loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, the route picks the address
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def test_the_controllers_live_view_is_bound_to_the_loopback(engine, tmp_path):
    settings = VideoSettings(cameras=[], recordings_dir=tmp_path / "rec", cache_dir=tmp_path / "cache",
                             exports_dir=tmp_path / "exports")
    video = VideoSystem(settings, session_factory(engine), LiveFeed(), SystemClock())
    video.live.start()
    try:
        where = urlsplit(video.live.url)
        assert where.hostname == "127.0.0.1"
        with socket.create_connection((where.hostname, where.port), timeout=2):
            pass  # the web process on this machine reaches it
        lan = _lan_address()
        if lan is not None:  # another machine on the network does not
            probe = socket.socket()
            probe.settimeout(2)
            assert probe.connect_ex((lan, where.port)) != 0, f"the live view answers on {lan}"
            probe.close()
    finally:
        video.live.stop()


def test_a_snapshot_starts_an_idle_camera_and_the_reader_lingers_for_the_next(tmp_path):
    clock = ManualClock()
    with udp_camera() as (spec, url):
        reader = DemandReader(CaptureReader(spec, url=url), clock=clock, linger=30)
        live = LiveViewServer({"cam": reader.fanout}, snapshot_wait=10).start()
        reader.start()
        try:
            assert reader.state == "idle"
            with urllib.request.urlopen(f"{live.url}cam.jpg", timeout=15) as response:
                image = cv2.imdecode(np.frombuffer(response.read(), np.uint8), cv2.IMREAD_COLOR)
            assert image.shape == (spec.height, spec.width, 3)
            assert reader.state == "reading" and reader.consumers == 0  # lingering for the page's next poll
            clock.advance(31)
            assert reader.settle() == "idle"
        finally:
            live.stop()
            reader.kill()


def test_a_snapshot_of_a_camera_without_frames_is_refused_after_a_bounded_wait():
    live = LiveViewServer({"cam": FrameFanout()}, snapshot_wait=0.2).start()
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{live.url}cam.jpg", timeout=5)
        assert refused.value.code == 503
    finally:
        live.stop()


def test_only_cameras_a_vision_sensor_or_the_face_watch_uses_are_read_without_viewers(engine, tmp_path):
    cameras = [CameraSpec("yard", "udp://127.0.0.1:9", roles=("record", "live")),
               CameraSpec("cab", "udp://127.0.0.1:9", roles=("live", "analyse"))]
    settings = VideoSettings(cameras=cameras, recordings_dir=tmp_path / "rec", cache_dir=tmp_path / "cache",
                             exports_dir=tmp_path / "exports", riders={"V1": "cab"})
    video = VideoSystem(settings, session_factory(engine), LiveFeed(), SystemClock())
    assert {r["camera"]: r["always"] for r in video.reader_health()} == {"yard": False, "cab": True}
    assert {r["state"] for r in video.reader_health()} == {"stopped"}  # not started yet

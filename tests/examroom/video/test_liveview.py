"""The controller's live-view server listens on the loopback: the web app relays it behind sign-in."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from devices.readings import SystemClock
from examroom.records.database import session_factory
from examroom.live.feed import LiveFeed
from examroom.site.cameras import VideoSettings
from examroom.video.system import VideoSystem


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

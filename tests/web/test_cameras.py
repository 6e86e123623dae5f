"""The cameras page, the disk alarm, and the controller's live pictures relayed to signed-in staff only."""

import threading
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from devices.camera import Frame, FrameFanout
from examroom.video import timecode
from examroom.video.index import VideoIndex
from examroom.video.liveview import BOUNDARY, LiveViewServer
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD, login
from tests.waiting import wait_for
from examroom_web import create_app


def signed_in(app):
    client = app.test_client()
    login(client, "supervisor")
    return client

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


@pytest.fixture
def live():
    fanout = FrameFanout()
    fanout.publish(Frame(np.zeros((36, 64, 3), np.uint8), UTC, 0.0, 0))
    server = LiveViewServer({"top": fanout}, titles={"top": "考场俯视"}).start()
    yield server
    server.stop()


@contextmanager
def time_coded_camera():
    """A camera whose every frame shows, as a time code, the moment it was taken; 20 frames a second."""
    fanout = FrameFanout()
    stop = threading.Event()

    def film() -> None:
        seq = 0
        while not stop.is_set():
            now = datetime.now(timezone.utc)
            image = np.full((64, 480, 3), 90, np.uint8)
            timecode.stamp(image, now)
            fanout.publish(Frame(image, now, time.monotonic(), seq))
            seq += 1
            stop.wait(0.05)

    camera = threading.Thread(target=film, daemon=True)
    camera.start()
    try:
        yield fanout
    finally:
        stop.set()
        camera.join(5)


@pytest.fixture
def filming():
    """The time-coded camera on a live-view server."""
    with time_coded_camera() as fanout:
        server = LiveViewServer({"top": fanout}, titles={"top": "考场俯视"}).start()
        yield server
        server.stop()


def _app(records, live_url: str):
    return create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "LIVE_VIDEO_URL": live_url})


def test_cameras_page_shows_the_controllers_pictures_through_this_app(records, accounts, live):
    client = signed_in(_app(records, live.url))
    page = client.get("/cameras").get_data(as_text=True)
    assert 'src="/cameras/top/live.mjpg"' in page and "考场俯视" in page
    assert live.url not in page, "the controller's own address stays off the page"
    assert "录像磁盘空间不足" not in page


def _jpegs(chunks, wanted: int) -> list[bytes]:
    """The first ``wanted`` JPEG parts of a multipart MJPEG body arriving in chunks."""
    body, parts = b"", []
    for chunk in chunks:
        body += chunk
        pieces = body.split(f"--{BOUNDARY}\r\n".encode())
        for piece in pieces[1:-1]:  # the last piece may still be arriving
            head, _, data = piece.partition(b"\r\n\r\n")
            length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length")))
            parts.append(data[:length])
        body = f"--{BOUNDARY}\r\n".encode() + pieces[-1]
        if len(parts) >= wanted:
            return parts[:wanted]
    raise AssertionError(f"the stream ended after {len(parts)} frame(s)")


def test_the_relayed_stream_delivers_jpeg_frames_and_lets_go_of_the_controller(records, accounts, filming):
    client = signed_in(_app(records, filming.url))
    stream = client.get("/cameras/top/live.mjpg", buffered=False)
    assert stream.status_code == 200
    assert stream.headers["Content-Type"] == f"multipart/x-mixed-replace; boundary={BOUNDARY}"
    frames = _jpegs(iter(stream.response), 3)
    moments = []
    for data in frames:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None and image.shape == (64, 480, 3)
        moments.append(timecode.read(image))
    assert None not in moments and moments == sorted(moments) and moments[0] < moments[-1], moments
    assert filming.viewers == 1
    stream.close()  # the viewer goes away: the relay closes its connection to the controller
    wait_for(lambda: filming.viewers == 0, interval=0.05, what="the controller to stop streaming to a viewer who left")


def test_live_pictures_are_for_signed_in_staff_only(records, accounts, filming):
    app = _app(records, filming.url)
    for url in ("/cameras/top/live.mjpg", "/cameras/top/live.jpg"):
        refused = app.test_client().get(url)
        assert refused.status_code == 302 and "/login" in refused.location, url
    for role in ("supervisor", "auditor", "admin"):
        client = app.test_client()
        login(client, role)
        still = client.get("/cameras/top/live.jpg")
        assert still.status_code == 200 and still.mimetype == "image/jpeg" and still.data[:2] == b"\xff\xd8", role
    assert client.get("/cameras/gate/live.jpg").status_code == 404
    assert client.get("/cameras/gate/live.mjpg").status_code == 404
    down = signed_in(_app(records, "http://127.0.0.1:9/live/"))
    assert down.get("/cameras/top/live.mjpg").status_code == 503
    assert signed_in(_app(records, "")).get("/cameras/top/live.jpg").status_code == 404


READ_PICTURE = """([w, h]) => {
  const img = document.querySelector('figure.camera img');
  if (!img.complete || !img.naturalWidth) return null;
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  return Array.from(g.getImageData(0, 0, w, h).data);
}"""


def test_the_cameras_page_in_chromium_shows_the_moving_picture_through_the_relay(records, accounts, filming):
    app = create_app(records, config={"SECRET_KEY": "browser-test", "LIVE_VIDEO_URL": filming.url})
    width, height = timecode.strip_size()
    with served(app) as base, chromium_page() as page:
        sign_in(page, base, "supervisor", PASSWORD, then="/cameras")
        picture = page.locator("figure.camera img")
        picture.wait_for(timeout=10_000)
        assert picture.evaluate("img => img.src") == f"{base}/cameras/top/live.mjpg"

        def shown() -> datetime | None:
            """The moment of the picture on the page now (its time code), or None."""
            pixels = page.evaluate(READ_PICTURE, [width, height])
            return pixels and timecode.read(np.array(pixels, np.uint8).reshape(height, width, 4))

        first = wait_for(shown, timeout=10, interval=0.1, what="a picture with a time code on the page")
        # The picture moves: a later one, half a second of the camera's time on, replaces it.
        wait_for(lambda: (moment := shown()) and (moment - first).total_seconds() >= 0.5, timeout=10, interval=0.1,
                 what=f"the picture to move on from {first}")
        assert filming.viewers == 1
    # The browser is gone: the relay notices on its next write and lets go of the controller.
    wait_for(lambda: filming.viewers == 0, timeout=10, interval=0.1,
             what="the relay to let go of the controller after the browser left")


def test_cameras_page_shows_the_disk_alarm_and_gaps_from_the_database(records, accounts, live):
    index = VideoIndex(records.sessions)
    index.open_event("", "disk_alarm", UTC, "free 1 MB < floor 2 MB")
    index.open_event("chase-V1", "gap", UTC, "stopped")
    client = signed_in(create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "LIVE_VIDEO_URL": live.url}))
    page = client.get("/cameras").get_data(as_text=True)
    assert 'id="disk-alarm"' in page and "考试证据录像全部保留" in page
    assert "摄像机 chase-V1 录像中断" in page


def test_without_cameras_the_page_says_so(records, accounts):
    client = signed_in(create_app(records, config={"TESTING": True, "SECRET_KEY": "t"}))
    assert "本考场未配置摄像机" in client.get("/cameras").get_data(as_text=True)
    client = signed_in(create_app(records, config={"TESTING": True, "SECRET_KEY": "t",
                                                   "LIVE_VIDEO_URL": "http://127.0.0.1:9/live/"}))
    assert "无法连接考场控制器的实时画面" in client.get("/cameras").get_data(as_text=True)


def test_live_view_serves_the_newest_frame_as_jpeg(live):
    import urllib.request

    with urllib.request.urlopen(live.url + "top.jpg", timeout=5) as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert response.read()[:2] == b"\xff\xd8"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(live.url + "nope.mjpg", timeout=5)


def test_every_page_carries_the_disk_alarm_while_recording_is_stopped(records, accounts):
    client = signed_in(create_app(records, config={"TESTING": True, "SECRET_KEY": "t"}))
    assert 'id="disk-alarm"' not in client.get("/").get_data(as_text=True)
    index = VideoIndex(records.sessions)
    index.open_event("", "disk_alarm", UTC, "free 1 MB < floor 2 MB")
    assert 'id="disk-alarm"' in client.get("/").get_data(as_text=True)
    index.close_events("", "disk_alarm", UTC)
    assert 'id="disk-alarm"' not in client.get("/").get_data(as_text=True)


def test_the_console_picks_a_camera_up_again_after_the_controller_drops_it(records, accounts):
    """The live view restarts (the controller restarted): the vehicle card's picture comes back by itself."""
    from examroom.live.link import ConsoleLink
    from examroom.live.feed import LiveFeed
    from examroom_web.feedclient import RemoteFeed

    width, height = timecode.strip_size()
    read = READ_PICTURE.replace("figure.camera img", "#vehicle-V1 img.camera")
    controller_feed = LiveFeed()
    controller_feed.publish({"type": "started"}, vehicle_state={
        "vehicle": "V1", "plate": "甘K·3071学", "vehicle_class": "E", "status": "idle", "deductions": []})
    with ExitStack() as stack:
        fanout = stack.enter_context(time_coded_camera())
        live = [LiveViewServer({"chase-V1": fanout}, vehicles={"chase-V1": "V1"}).start()]
        stack.callback(lambda: live[-1].stop())
        port = int(live[0].url.split(":")[2].split("/")[0])
        console_link = ConsoleLink(controller_feed).start()
        stack.callback(console_link.stop)
        web_feed = LiveFeed()
        stack.callback(RemoteFeed(console_link.url, web_feed).start().stop)
        app = create_app(records, web_feed, {"SECRET_KEY": "browser-test", "LIVE_VIDEO_URL": live[0].url})
        base = stack.enter_context(served(app))
        page = stack.enter_context(chromium_page())
        sign_in(page, base, "supervisor", PASSWORD, then="/")
        page.locator("#vehicle-V1 img.camera").wait_for(timeout=10_000)

        def shown_after(moment: datetime) -> datetime | None:
            """The moment of the card's picture (its time code) if it is later than ``moment``."""
            pixels = page.evaluate(read, [width, height])
            seen = pixels and timecode.read(np.array(pixels, np.uint8).reshape(height, width, 4))
            return seen if seen and seen > moment else None

        recent = datetime.now(timezone.utc) - timedelta(seconds=5)
        wait_for(lambda: shown_after(recent), timeout=15, interval=0.1, what="the card's picture")
        live[0].stop()  # the controller goes away: its stream ends mid-picture
        # Its stop cut the stream to the console's relay; the relay keeps the browser's picture and
        # asks the controller again until it answers.
        wait_for(lambda: live[0].viewers == 0, interval=0.05, what="the stopped controller to end its stream")
        back = datetime.now(timezone.utc)
        live.append(LiveViewServer({"chase-V1": fanout}, port=port, vehicles={"chase-V1": "V1"}).start())
        wait_for(lambda: shown_after(back), timeout=15, interval=0.1, what="the card's picture to come back")

from datetime import datetime, timezone

import numpy as np
import pytest

from devices.camera import Frame, FrameFanout
from examroom.video.index import VideoIndex
from examroom.video.liveview import LiveViewServer
from tests.web.conftest import login
from web import create_app


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


def test_cameras_page_links_the_controllers_live_pictures(records, accounts, live):
    client = signed_in(create_app(records, config={"TESTING": True, "SECRET_KEY": "t", "LIVE_VIDEO_URL": live.url}))
    page = client.get("/cameras").get_data(as_text=True)
    assert f'src="{live.url}top.mjpg"' in page and "考场俯视" in page
    assert "录像磁盘空间不足" not in page


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

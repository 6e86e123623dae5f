"""A camera read on demand: decoding starts with the first consumer and stops a linger time after the last."""

from __future__ import annotations

import pytest

from devices.camera.capture import CaptureReader
from devices.camera.demand import DemandReader
from devices.readings import ManualClock
from tests.devices.camera.streams import udp_camera
from tests.waiting import wait_for


@pytest.fixture
def camera():
    with udp_camera() as (spec, url):
        yield spec, url


def test_a_reader_reads_only_while_watched_and_lingers_after_the_last_viewer(camera):
    spec, url = camera
    clock = ManualClock()
    reader = DemandReader(CaptureReader(spec, url=url), clock=clock, linger=30)
    reader.start()
    try:
        assert reader.state == "idle" and not reader.reader.alive()
        # Idle is not a fault: the watchdog sees nothing to restart.
        assert reader.alive() and not reader.stalled()
        with reader.fanout.subscribe() as slot:
            assert reader.state == "reading"
            frame = slot.get(timeout=10)  # the real stream, decoded by OpenCV
            assert frame is not None and frame.image.shape == (spec.height, spec.width, 3)
        clock.advance(29)
        assert reader.settle() == "reading", "within the linger time a returning viewer finds it reading"
        with reader.fanout.subscribe() as slot:  # a page's next snapshot
            assert slot.get(timeout=10) is not None
        clock.advance(29)
        assert reader.settle() == "reading", "the linger time counts from the last viewer's leaving"
        clock.advance(2)
        assert reader.settle() == "idle"
        assert not reader.reader.alive() and reader.fanout.latest is None, "no old picture that looks live"
        assert reader.alive() and not reader.stalled()
        with reader.fanout.subscribe() as slot:  # a viewer comes back: reading again
            assert reader.state == "reading" and slot.get(timeout=10) is not None
    finally:
        reader.kill()
    assert reader.state == "stopped" and not reader.reader.alive()


def test_a_camera_read_always_reads_without_viewers(camera):
    spec, url = camera
    clock = ManualClock()
    reader = DemandReader(CaptureReader(spec, url=url), clock=clock, linger=30, always=True)
    reader.start()
    try:
        assert reader.state == "reading"
        wait_for(lambda: reader.fanout.latest, timeout=10, what="a frame without a viewer")
        clock.advance(3600)
        assert reader.settle() == "reading"
    finally:
        reader.kill()


def test_a_killed_reader_waits_for_the_watchdog_whatever_its_viewers(camera):
    spec, url = camera
    reader = DemandReader(CaptureReader(spec, url=url), clock=ManualClock())
    reader.start()
    reader.kill()  # the watchdog's back-off after a fault
    with reader.fanout.subscribe():
        assert reader.state == "stopped" and not reader.reader.alive()
        reader.start()  # its restart
        assert reader.state == "reading"
    reader.kill()


def test_linger_must_not_be_negative(camera):
    spec, url = camera
    with pytest.raises(ValueError, match="linger"):
        DemandReader(CaptureReader(spec, url=url), linger=-1)

import time

from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom_web.feedclient import RemoteFeed


def _until(feed: LiveFeed, predicate, timeout=10.0) -> bool:
    """Wait on the feed's own events until ``predicate(feed)`` holds (each wake-up is an event)."""
    end = time.monotonic() + timeout
    with feed.subscribe() as sub:
        while not predicate(feed):
            if sub.get(timeout=max(0.0, end - time.monotonic())) is None:  # timed out
                return predicate(feed)
    return True


def test_web_follows_the_controller_feed_across_a_restart():
    controller_feed = LiveFeed()
    controller_feed.publish({"type": "idle"}, vehicle_state={"vehicle": "V1", "status": "idle"})
    server = ConsoleLink(controller_feed).start()
    local = LiveFeed()
    follower = RemoteFeed(server.url, local, max_backoff=0.2).start()
    try:
        assert _until(local, lambda feed: feed.state().get("V1", {}).get("status") == "idle")
        with local.subscribe() as sub:
            sub.get(timeout=10)  # the state event
            controller_feed.publish({"type": "deduction", "deduction": {"rule": "general.stall"}},
                                    vehicle_state={"vehicle": "V1", "status": "running", "score": 90})
            event = sub.get(timeout=10)
            assert event["type"] == "deduction" and event["deduction"]["rule"] == "general.stall"
        assert local.state()["V1"]["score"] == 90

        # The controller restarts on the same port with new state: the follower catches up.
        url = server.url
        server.stop()
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        restarted_feed = LiveFeed()
        restarted_feed.publish({"type": "idle"}, vehicle_state={"vehicle": "V1", "status": "device_fault"})
        server = ConsoleLink(restarted_feed, port=port).start()
        assert _until(local, lambda feed: feed.state().get("V1", {}).get("status") == "device_fault")
    finally:
        follower.stop()
        server.stop()

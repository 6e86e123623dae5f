import threading

from examroom.live.feed import LiveFeed


def test_new_subscriber_gets_current_state_first():
    feed = LiveFeed()
    feed.publish({"type": "deduction"}, vehicle_state={"vehicle": "V1", "score": 90})
    with feed.subscribe() as sub:
        first = sub.get(timeout=10)
        assert first["type"] == "state" and first["vehicles"]["V1"]["score"] == 90
        feed.publish({"type": "finished"}, vehicle_state={"vehicle": "V1", "score": 90, "status": "passed"})
        assert sub.get(timeout=10)["type"] == "finished"


def test_slow_subscriber_is_marked_not_blocking():
    feed = LiveFeed(queue_size=3)
    sub = feed.subscribe()
    done = threading.Event()

    def flood():
        for i in range(10):
            feed.publish({"type": "x", "n": i})
        done.set()

    threading.Thread(target=flood).start()
    assert done.wait(2), "publish blocked on a full subscriber"
    assert sub.overflowed
    sub.close()
    feed.publish({"type": "after close"})  # no subscriber left: no error


def test_event_ids_increase():
    feed = LiveFeed()
    a = feed.publish({"type": "a"})
    b = feed.publish({"type": "b"})
    assert b["id"] > a["id"]

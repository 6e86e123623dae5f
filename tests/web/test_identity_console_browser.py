"""The console in a real browser: the in-cab face watch's warning appears on the vehicle's card."""

from examroom.live.feed import LiveFeed
from examroom.live.link import ConsoleLink
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD
from examroom_web import create_app
from examroom_web.feedclient import RemoteFeed


def test_a_run_of_in_cab_mismatches_warns_on_the_vehicles_card_and_leaves_the_score(records, accounts):
    controller_feed = LiveFeed()
    state = {"vehicle": "V1", "plate": "甘K·3071学", "vehicle_class": "E", "attempt": 7, "candidate": "张伟",
             "status": "running", "item": "e_pile", "item_type": "pile", "score": 100, "deductions": []}
    controller_feed.publish({"type": "started"}, vehicle_state=state)
    console_link = ConsoleLink(controller_feed).start()
    web_feed = LiveFeed()
    follower = RemoteFeed(console_link.url, web_feed).start()
    app = create_app(records, web_feed, {"SECRET_KEY": "browser-test"})
    try:
        with served(app) as base, chromium_page() as page:
            sign_in(page, base, "supervisor", PASSWORD, then="/")
            page.locator("#vehicle-V1").wait_for(timeout=10_000)
            page.locator("#link.up").wait_for(timeout=10_000)  # the event stream is open
            assert page.locator("#vehicle-V1 .identity-warning").count() == 0
            # another vehicle's attempt, then this one's (as examroom.faces.watch.FaceWatch publishes it)
            controller_feed.publish({"type": "identity", "vehicle": "V1", "attempt": 6, "camera": "car-V1",
                                     "frames": 3, "distance": 0.81})
            controller_feed.publish({"type": "identity", "vehicle": "V1", "attempt": 7, "camera": "car-V1",
                                     "frames": 3, "distance": 0.84})
            page.wait_for_function("() => !!document.querySelector('#vehicle-V1 .identity-warning')", timeout=10_000)
            warning = page.locator("#vehicle-V1 .identity-warning").inner_text()
            assert warning == "车内人脸与预约照片连续3次不一致，已标记待审核（不影响评分）"
            assert page.locator("#vehicle-V1 .score").inner_text() == "100"
            # the next attempt on the vehicle starts without the old warning
            controller_feed.publish({"type": "started"}, vehicle_state={**state, "attempt": 8})
            page.wait_for_function("() => document.querySelector('#vehicle-V1').dataset.attempt === '8'"
                                   " && !document.querySelector('#vehicle-V1 .identity-warning')", timeout=10_000)
    finally:
        follower.stop()
        console_link.stop()

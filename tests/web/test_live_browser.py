"""The live course page in a real browser: a deduction published by the controller appears."""



from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD
from examroom_web import create_app
from examroom_web.feedclient import RemoteFeed


def test_supervisor_sees_a_live_deduction_arrive(records, accounts):
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
            card = page.locator("#vehicle-V1")
            card.wait_for(timeout=10_000)
            assert "桩考" in card.inner_text() and "无扣分" in card.inner_text()
            page.locator("#link.up").wait_for(timeout=10_000)  # the event stream is open

            deduction = {"rule": "pile.stop", "title": "中途停车", "points": 5, "disqualify": False}
            state = {**state, "score": 95, "deductions": [deduction]}
            controller_feed.publish({"type": "deduction", "deduction": deduction}, vehicle_state=state)
            page.locator("#vehicle-V1 li", has_text="中途停车").wait_for(timeout=10_000)
            text = card.inner_text()
            assert "扣5分" in text and "95" in text

            controller_feed.publish({"type": "health", "devices": [
                {"device": "V1.gnss", "vehicle": "V1", "kind": "gnss", "alive": True, "fix_text": "RTK浮点解"},
                {"device": "V1.signals", "vehicle": "V1", "kind": "signalboard", "alive": False,
                 "line_text": "无数据"}]})
            page.locator("#vehicle-V1 .health.bad", has_text="定位 RTK浮点解 · 信号板 无数据").wait_for(
                timeout=10_000)

            page.reload()  # a reload shows the same state, not an empty page
            page.locator("#vehicle-V1 li", has_text="中途停车").wait_for(timeout=10_000)
    finally:
        follower.stop()
        console_link.stop()

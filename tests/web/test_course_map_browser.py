"""The console's live course map in Chromium: a vehicle's outline moves and a sensor changes state.

A real controller (with a course board) publishes; the web process follows its feed over
HTTP as in production. The map must update in place: the outline is the same element
before and after it moves, and the card's buttons are not touched by the map's updates.
"""

from __future__ import annotations

import pytest

from devices.readings import CourseInputs
from examroom.live.controller import Controller, VehicleInfo
from examroom.live.link import ConsoleLink
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import CandidateInfo
from examroom.simulation.scenarios import default_ruleset, demo_course
from tests.examroom.live.test_course_map_feed import T0, FixedClock, fix
from tests.web.browser import DESKTOP, PHONE, chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from examroom_web import create_app
from examroom_web.feedclient import RemoteFeed

OUTLINE = "#coursemap g[data-vehicle=V1] polygon.outline"
POLE = '#coursemap circle[data-element="e_pile.pole2"]'
POLE_ROW = '#coursemap li[data-element="e_pile.pole2"]'


@pytest.fixture
def course_console(records, accounts):
    course = demo_course()
    records.ensure_vehicle("V1", "甘K·3071学", "E", "E-01")
    controller = Controller(course, default_ruleset(), records, LiveFeed(), FixedClock(),
                            [VehicleInfo("V1", "甘K·3071学", "E", "E-01")],
                            board_inputs={"board1": ["e_pile.pole1", "e_pile.pole2", "e_bridge.A"]})
    controller.attach_device("V1.gnss", "V1")
    controller.start()
    console_link = ConsoleLink(controller.feed).start()
    web_feed = LiveFeed()
    follower = RemoteFeed(console_link.url, web_feed).start()
    app = create_app(records, web_feed, {"SECRET_KEY": "course-map"})
    candidate = records.ensure_candidate(CandidateInfo("张伟", "62120219900101123X", "62000001", "E"))
    yield app, controller, candidate
    follower.stop()
    console_link.stop()
    controller.stop()


def board(mono: float, *inputs: bool) -> CourseInputs:
    return CourseInputs(mono=mono, utc=T0, device="board1", unit=1, inputs=inputs)


def points_of(page) -> list[tuple[float, float]]:
    raw = page.locator(OUTLINE).get_attribute("points")
    return [tuple(map(float, p.split(","))) for p in raw.split()]


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_the_map_shows_a_vehicle_moving_and_a_pole_touched(course_console, artefacts, size):
    app, controller, candidate = course_console
    course = controller.course
    controller.begin_attempt("V1", candidate, "张伟")
    controller.submit(fix(course, "V1.gnss", 101.0, 2.0, 0.0, 90.0))
    controller.submit(board(101.0, False, False, False))
    with served(app) as base, chromium_page() as page:
        page.set_viewport_size(DESKTOP if size == "desktop" else PHONE)
        sign_in(page, base, "supervisor", PASSWORD, then="/")
        page.locator("#coursemap[data-ready]").wait_for(timeout=10_000)
        page.wait_for_function(f"() => document.querySelector('{OUTLINE}')?.getAttribute('points')")
        page.locator(POLE_ROW, has_text="正常").wait_for(timeout=10_000)
        assert page.locator('#coursemap li[data-element="e_bridge.A"]').get_attribute("class") == "deck off"
        assert page.locator('#coursemap li[data-element="c4_pile.pole1"]').inner_text().endswith("无数据")  # not wired
        before = points_of(page)
        assert "甘K·3071学" in page.locator("#coursemap .map-vehicles").inner_text()
        assert "桩考" in page.locator("#coursemap .map-vehicles").inner_text()
        assert page.locator('#coursemap polygon.zone[data-item="e_pile"]').get_attribute("class") == "zone occupied"
        # Mark the outline and the card's stop button, and count every change under the buttons.
        page.evaluate("""() => {
            document.querySelector('%s').probe = 'same';
            const bar = document.querySelector('#vehicle-V1 .actions');
            bar.querySelector('button[data-action=stop]').probe = 'same';
            window.barChanges = 0;
            new MutationObserver(() => { window.barChanges += 1; })
              .observe(bar, {subtree: true, childList: true, characterData: true, attributes: true}); }""" % OUTLINE)
        screenshots(page, artefacts, f"map-{size}-before", sizes=((size, page.viewport_size),))

        for n, x in enumerate((3.0, 4.0, 5.0, 6.0)):  # driving east through the pile item
            controller.submit(fix(course, "V1.gnss", 101.5 + n * 0.5, x, 0.0, 90.0))
        controller.submit(board(103.6, False, True, False))
        page.wait_for_function("""() => { const p = document.querySelector('%s').getAttribute('points');
                                           return p && parseFloat(p.split(' ')[0]) > %f; }""" % (OUTLINE, before[0][0] + 3.5))
        after = points_of(page)
        assert [round(a[0] - b[0], 1) for a, b in zip(after, before)] == [4.0] * len(before)  # moved 4 m east
        assert [round(a[1] - b[1], 1) for a, b in zip(after, before)] == [0.0] * len(before)
        page.locator(POLE_ROW, has_text="碰杆").wait_for(timeout=10_000)
        assert "on" in page.locator(POLE).get_attribute("class").split()
        assert page.evaluate("document.querySelector('%s').probe" % OUTLINE) == "same"  # updated, not re-made
        assert page.evaluate("document.querySelector('#vehicle-V1 button[data-action=stop]').probe") == "same"
        assert page.evaluate("window.barChanges") == 0
        box = page.locator("#coursemap .mapview").bounding_box()  # the page never scrolls sideways ...
        assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]
        pans = page.evaluate("(() => { const v = document.querySelector('#coursemap .mapview');"
                             " return v.scrollWidth > v.clientWidth; })()")
        assert pans == (size == "phone")  # ... a phone pans the map, kept at a readable size
        screenshots(page, artefacts, f"map-{size}-after", sizes=((size, page.viewport_size),))

        controller.submit(board(104.0, False, False, False))
        page.locator(POLE_ROW, has_text="正常").wait_for(timeout=10_000)
        # The device monitor reports the receiver dead: the outline stays, greyed and said to be old.
        controller.feed.publish({"type": "health", "devices": [
            {"device": "V1.gnss", "vehicle": "V1", "kind": "gnss", "alive": False, "fix_text": "无数据"}]})
        page.locator("#coursemap g.vehicle.stale[data-vehicle=V1]").wait_for(timeout=10_000)
        assert "定位中断" in page.locator("#coursemap .map-vehicles").inner_text()
        controller.feed.publish({"type": "health", "devices": [
            {"device": "V1.gnss", "vehicle": "V1", "kind": "gnss", "alive": True, "fix_text": "RTK固定解"}]})
        page.locator("#coursemap g.vehicle.st-running:not(.stale)[data-vehicle=V1]").wait_for(timeout=10_000)
        page.reload()  # the state event alone puts the vehicle and the sensors back
        page.locator("#coursemap[data-ready]").wait_for(timeout=10_000)
        page.wait_for_function("""() => { const p = document.querySelector('%s')?.getAttribute('points');
                                           return p && parseFloat(p.split(' ')[0]) > %f; }""" % (OUTLINE, before[0][0] + 3.5))
        assert "off" in page.locator(POLE).get_attribute("class").split()

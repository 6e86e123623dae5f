"""The city console in Chromium, zh-CN: the overview, the warnings and an attempt read Chinese (no
programmer's word on screen), screenshots kept under test-artefacts/ like the other browser tests; the
week's review run from the console (commit, draw, assign, the inspector's outcome) and the overview
following a course without a reload."""

from __future__ import annotations

import re

import pytest

from tests.web.browser import chromium_page, screenshots, served, sign_in
from tests.web.city_console import city, city_app, inspectors  # noqa: F401  (fixtures)
from tests.web.test_cameras import live  # noqa: F401
from tests.web.test_city_cameras import city_web, course_web  # noqa: F401
from tests.web.conftest import PASSWORD
from tests.web.test_chinese_pages_browser import foreign_words


@pytest.mark.postgres
def test_the_city_console_reads_chinese(city_app, city, inspectors, artefacts):  # noqa: F811
    _engine, made = city
    found = {}
    with served(city_app) as base, chromium_page() as page:
        sign_in(page, base, "inspector", PASSWORD, then="/city/")
        page.wait_for_function("() => document.querySelectorAll('#city-courses tr[data-course]').length === 2")
        for path, name in (("/city/", "city-overview"), ("/city/warnings", "city-warnings"),
                           (f"/city/attempts/4201001/{made['gap']}", "city-attempt")):
            page.goto(base + path)
            page.wait_for_function("() => document.querySelector('main h1') !== null")
            if name == "city-warnings":
                assert page.locator("#city-warnings tr[data-kind=journal_gap] a").count() >= 1
            words = foreign_words(page.inner_text("body"))
            if words:
                found[path] = words
            screenshots(page, artefacts, f"zh-{name}")
    assert found == {}


@pytest.mark.postgres
def test_the_citys_live_pictures_show_and_refresh(city_web, artefacts):  # noqa: F811
    with served(city_web) as base, chromium_page() as page:
        sign_in(page, base, "inspector", PASSWORD, then="/city/")
        page.click("#city-courses tr[data-course='4201001'] a")
        page.wait_for_url("**/city/courses/4201001/cameras")
        # The picture arrived, and was asked again once it had (the refresh runs from the page's script).
        page.wait_for_function("() => { const i = document.querySelector('img.city-frame[data-camera=top]');"
                               " return i && i.complete && i.naturalWidth > 0 && i.src.includes('?t='); }")
        assert foreign_words(page.inner_text("body")) == []
        screenshots(page, artefacts, "zh-city-cameras")


# Published digests and seeds are numbers people copy and compare, not words; SHA-256 and HMAC-SHA256
# are the names the check is stated with (as GA names a standard).
HEX = re.compile(r"\b[0-9a-f]{16,}\b")


def _foreign(page) -> list[str]:
    return [w for w in foreign_words(HEX.sub("", page.inner_text("body"))) if w not in ("SHA-256", "HMAC-SHA256")]


@pytest.mark.postgres
def test_the_week_is_committed_drawn_assigned_and_reviewed_from_the_console(city_app, city, inspectors,  # noqa: F811
                                                                             artefacts, tmp_path):
    from datetime import timedelta

    from examroom_web.city.console import EXTENSION
    from tests.examroom.city.city_records import MONDAY, WEEK, CourseWriter, china
    from tests.web.city_console import NOW

    engine, made = city
    console = city_app.extensions[EXTENSION]
    city_app.config["CITY_REFRESH_SECONDS"] = 0.2
    found = {}
    with served(city_app) as base, chromium_page() as page:
        def look(name):
            page.wait_for_function("() => document.querySelector('main h1') !== null")
            words = _foreign(page)
            if words:
                found[name] = words
            screenshots(page, artefacts, f"zh-{name}")

        # The overview follows the course by itself: a vehicle starts at 4201002, the row shows it.
        sign_in(page, base, "admin", PASSWORD, then="/city/")
        row = "#city-courses tr[data-course='4201002'] td:nth-child(7)"
        page.wait_for_selector(row)
        assert page.inner_text(row) == "无"
        two = CourseWriter(engine, "4201002", tmp_path / "k2b")
        started = two.records.check_in(two.candidate("9"), "V1", "demo", "ga1026-2022", NOW,
                                       booking_id=two.booking("9", NOW.date(), "考试员甲"))
        two.records.mark_running(started, NOW)
        page.wait_for_function(f"() => document.querySelector(\"{row}\").innerText === 'V1'")

        console.now = lambda: china(MONDAY - timedelta(days=1), 10)  # the Sunday before the week
        page.goto(base + "/city/draws")
        look("city-draws")
        page.click("#commit-seed button[type=submit]")
        page.wait_for_selector("#commitment")
        look("city-committed")

        console.now = lambda: NOW + timedelta(days=6)  # the week is over
        page.goto(base + "/city/draws")
        page.click(f"#city-draws tr[data-week='{WEEK}'] button[type=submit]")
        page.wait_for_url(f"**/city/draws/{WEEK}/assign")
        fault = page.locator(f"#city-assign tr:has(a[href='/city/attempts/4201001/{made['fault']}'])")
        fault.locator("select[name=inspector]").select_option("inspector1")
        fault.locator("button[type=submit]").click()
        page.wait_for_selector(".flash.ok")
        assert "巡查员乙" in fault.inner_text()
        look("city-assign")
        page.goto(base + f"/city/draws/{WEEK}/check")
        assert page.inner_text("#draw-verdict") == "一致"
        look("city-check")

        page.click("form.who button[type=submit]")  # signed out; the assigned inspector signs in
        sign_in(page, base, "inspector1", PASSWORD, then=f"/city/review?week={WEEK}")
        mine = page.locator("#city-samples tr:has(form.outcome)")
        mine.locator("select[name=outcome]").select_option("consistent")
        mine.locator("button[type=submit]").click()
        page.wait_for_selector(f"#city-samples tr:has(a[href='/city/attempts/4201001/{made['fault']}']) >> text=一致")
        look("city-review")
    assert found == {}

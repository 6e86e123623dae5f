"""The city console in Chromium, zh-CN: the overview, the warnings and an attempt read Chinese (no
programmer's word on screen), screenshots kept under test-artefacts/ like the other browser tests."""

from __future__ import annotations

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

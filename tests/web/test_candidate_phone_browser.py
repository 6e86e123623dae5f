"""The candidate on a phone (360 px): no sideways scrolling, item names whole, clips named, their own slip."""

from __future__ import annotations

from examroom.records.sealing import Sealer, load_or_create_key
from examroom.video.camera_names import CameraNames
from tests.web.browser import PHONE, chromium_page, screenshots, served, sign_in
from tests.web.conftest import PASSWORD
from tests.web.test_replay import judged  # noqa: F401  (the stored E hill_short attempt)
from tests.web.test_replay_video import CAMERAS, footage  # noqa: F401

FITS = "document.documentElement.scrollWidth <= window.innerWidth"
# An item name set on one line: its box is no taller than one line of its text.
ONE_LINE = """() => [...document.querySelectorAll('td.item')].every(td => {
  const r = document.createRange(); r.selectNodeContents(td);
  return r.getClientRects().length === 1; })"""


def test_a_candidate_reads_their_result_on_a_phone_and_keeps_the_slip(app, accounts, footage, records,  # noqa: F811
                                                                       tmp_path, artefacts):
    attempt_id, _ = footage
    Sealer(records.sessions, load_or_create_key(tmp_path)).seal(attempt_id)
    names = CameraNames(records.sessions)
    names.rename("top", "考场俯视", "admin")
    names.rename("chase-V1", "V1 跟拍", "admin")
    with served(app) as base:
        with chromium_page() as page:
            page.set_viewport_size(PHONE)
            page.goto(base + "/candidate/")
            assert page.evaluate(FITS)
            screenshots(page, artefacts, "phone-lookup")
            page.fill("input[name=id_number]", "62120219900101123X")
            page.fill("input[name=name]", "张伟")
            page.fill("input[name=exam_number]", "62000001")
            page.click("main button[type=submit]")
            page.wait_for_url("**/candidate/results")
            assert page.evaluate(FITS), "the results list scrolls sideways"
            screenshots(page, artefacts, "phone-results")
            page.click(f"a[href='/candidate/attempts/{attempt_id}']")
            page.locator("#deductions").wait_for()
            assert page.evaluate(FITS), "the result page scrolls sideways"
            assert page.evaluate(ONE_LINE), "an item name wraps"
            clips = page.locator("a.clip").all_inner_texts()
            assert len(clips) == len(CAMERAS) * len(records.attempt(attempt_id).deductions)
            assert all(c.startswith("坡道定点停车和起步 · ") for c in clips), clips
            assert {c.split(" · ")[1] for c in clips} == {"考场俯视", "V1 跟拍"}
            screenshots(page, artefacts, "phone-result")
            with page.expect_download() as download:
                page.click("#slip")
            slip = download.value
            assert slip.suggested_filename == f"slip-{attempt_id}.pdf"
            assert open(slip.path(), "rb").read(5) == b"%PDF-"
        with chromium_page() as page:  # the supervisor's page of the attempt links to the same slip
            sign_in(page, base, "supervisor", PASSWORD, then=f"/attempts/{attempt_id}")
            href = page.locator("#slip").get_attribute("href")
            answer = page.request.get(base + href)
            assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
            screenshots(page, artefacts, "supervisor-result-with-slip")

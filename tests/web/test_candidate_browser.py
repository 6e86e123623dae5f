"""The candidate's path in a real browser on a phone-sized screen: look up, read the result, watch a clip."""

from __future__ import annotations


import numpy as np

from examroom.video import timecode
from examroom.video.index import as_utc
from tests.web.browser import chromium_page, served
from tests.web.test_replay import judged  # noqa: F401  (the stored E hill_short attempt of 张伟)
from tests.web.test_replay_video import TOLERANCE, footage  # noqa: F401  (its recorded, linked segments)

PHONE = {"width": 390, "height": 844}
READ_CLIP = """async ([w, h]) => {
  const v = document.querySelector('video');
  const deadline = Date.now() + 10000;
  while (!v || v.seeking || v.readyState < 2 || v.currentTime === 0) {
    if (Date.now() > deadline) return {error: 'clip never showed a frame'};
    await new Promise(r => setTimeout(r, 50));
  }
  v.pause();
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d');
  g.drawImage(v, 0, 0);
  return {error: null, at: v.currentTime, pixels: Array.from(g.getImageData(0, 0, w, h).data)};
}"""


def test_a_candidate_finds_their_result_and_watches_the_moment_of_a_deduction(app, footage, records):  # noqa: F811
    attempt_id, _ = footage
    deduction = records.attempt(attempt_id).deductions[0]
    wanted = as_utc(deduction.utc)
    width, height = timecode.strip_size()
    with served(app) as base, chromium_page() as page:
        page.set_viewport_size(PHONE)
        page.goto(f"{base}/candidate/")
        page.fill("input[name=id_number]", "62120219900101123X")
        page.fill("input[name=name]", "张卫")  # a wrong character: nothing is revealed
        page.fill("input[name=exam_number]", "62000001")
        page.click("button[type=submit]")
        page.get_by_text("未找到匹配的考试记录，请核对后重试").wait_for()
        assert "张伟" not in page.content()

        page.fill("input[name=name]", "张伟")
        page.click("button[type=submit]")
        page.get_by_role("heading", name="我的考试成绩").wait_for()
        row = page.locator("table.list tbody tr").first
        assert "合格" in row.inner_text() and str(records.attempt(attempt_id).score) in row.inner_text()
        # Nothing on the phone needs sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        row.get_by_role("link", name="详情").click()
        table = page.locator("table", has_text=deduction.title)
        table.wait_for()
        assert deduction.title in table.inner_text()
        assert page.get_by_role("link", name="核验电子签章").count() == 1
        clip = page.locator("a.clip").first
        href = clip.get_attribute("href")
        expected_at = float(href.split("#t=")[1])
        clip.click()
        shown = page.evaluate(READ_CLIP, [width, height])
        assert shown["error"] is None, shown["error"]
        assert abs(shown["at"] - expected_at) <= TOLERANCE
        moment = timecode.read(np.array(shown["pixels"], np.uint8).reshape(height, width, 4))
        assert moment is not None and abs((moment - wanted).total_seconds()) <= TOLERANCE, (moment, wanted)

"""The statistics page in Chromium at desktop and phone sizes: readable charts, no sideways scrolling, downloads."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.examroom.records.test_statistics_figures import known  # noqa: F401  (fixture)
from tests.web.browser import chromium_page, served, sign_in
from tests.web.conftest import PASSWORD

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "stats"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}
QUERY = "/stats/?since=2026-11-28&until=2026-11-29"

# Every text of every chart shown inside its picture; a group's name beside (wide) or above (narrow) its bar,
# never over it; the text at least 10 px high on the screen. Returns the problems found.
LAYOUT = """() => {
  const problems = [];
  const shown = [...document.querySelectorAll('figure.chart svg')].filter(s => s.getClientRects().length);
  for (const svg of shown) {
    const name = svg.getAttribute('aria-label');
    const [, , width, height] = svg.getAttribute('viewBox').split(' ').map(Number);
    const px = svg.getBoundingClientRect().width / width * parseFloat(getComputedStyle(svg).fontSize);
    if (px < 10) problems.push(`${name}: text drawn ${px.toFixed(1)} px high`);
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > width + 0.5 || b.y + b.height > height + 0.5)
        problems.push(`${name}: "${t.textContent}" leaves the chart`);
    }
    for (const row of svg.querySelectorAll('g.row')) {
      const label = row.querySelector('text.k').getBBox(), bar = row.querySelector('rect').getBBox();
      const clear = svg.classList.contains('narrow') ? label.y + label.height <= bar.y + 1
                                                     : label.x + label.width <= bar.x;
      if (!clear) problems.push(`${name}: "${row.querySelector('text.k').textContent}" runs into its bar`);
    }
  }
  return [shown.length, problems];
}"""


@pytest.mark.parametrize("size", SIZES)
def test_statistics_page_reads_in_chinese_at_desktop_and_phone_size(app, accounts, known, size):  # noqa: F811
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with served(app) as base, chromium_page() as page:
        page.set_viewport_size(SIZES[size])
        sign_in(page, base, "auditor", PASSWORD, then=QUERY)
        page.get_by_role("heading", name="统计分析").wait_for()
        item_chart = page.locator("#chart-item svg.rates." + ("narrow" if size == "phone" else "wide"))
        texts = item_chart.locator("text").all_text_contents()
        for wanted in ("考试项目", "合格率（%）", "合格率", "总体合格率 50%", "0", "60", "100",
                       "倒车入库", "侧方停车", "曲线行驶", "直角转弯", "坡道定点停车和起步"):
            assert wanted in texts, (wanted, texts)
        for chart, group in (("class", "C1 小型汽车"), ("hour", "23:00–24:00"), ("examiner", "考试员甲")):
            assert group in page.locator(f"#chart-{chart} svg text.k").all_text_contents()
        hours = page.locator("#chart-per-hour svg").locator("text").all_text_contents()
        assert "考试人次（人次）" in hours and "开考时刻（时，北京时间）" in hours and "开考人次" in hours
        # Six rate charts, each drawn once for the screen's width, and the hour chart.
        assert page.evaluate(LAYOUT) == [7, []]
        layout = "narrow" if size == "phone" else "wide"
        assert page.locator(f"#chart-item svg.rates.{layout}").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        shot = ARTEFACTS / f"stats-{size}-{SIZES[size]['width']}x{SIZES[size]['height']}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        with page.expect_download() as download:
            page.get_by_role("link", name="下载 Excel 表格").click()
        assert download.value.suggested_filename == "statistics_2026-11-28_2026-11-29.xlsx"
        sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))["合格率"]
        rows = {(r[0], r[1]): r[2:4] for r in sheet.iter_rows(min_row=2, values_only=True)}
        assert rows[("按考试项目合格率", "倒车入库")] == (8, 7)  # the north attempt too: an auditor of every course
        with page.expect_download() as download:
            page.get_by_role("link", name="下载 CSV").click()
        table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
        assert ["按开考时段合格率", "23:00–24:00", "1", "1", "100.0"] in table

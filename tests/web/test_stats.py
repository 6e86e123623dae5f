from tests.examroom.records.test_statistics import filled  # noqa: F401  (fixture)


def test_statistics_page(client, filled):  # noqa: F811
    page = client.get("/stats/").get_data(as_text=True)
    assert "按准驾车型合格率" in page and "60% (12/20)" in page and "碰擦桩杆" in page and "<svg" in page


def test_bad_date_is_a_clear_400(client):
    response = client.get("/stats/?since=yesterday")
    assert response.status_code == 400 and "2026-11-29" in response.get_data(as_text=True)


def test_statistics_page_has_the_examiner_dimension(client, filled):  # noqa: F811
    page = client.get("/stats/").get_data(as_text=True)
    chart = page[page.index('aria-label="按考试员合格率"'):]
    chart = chart[:chart.index("</svg>")]
    assert "考试员甲" in chart and "100% (10/10)" in chart and "33% (2/6)" in chart
    outliers = page[page.index("<h2>异常值</h2>"):]
    assert "<td>考试员</td><td>考试员乙</td><td>合格率</td>" in outliers
    assert "<td>考试车辆</td><td>甘K·0002学</td><td>合格率</td>" in outliers


# -- readable charts and the downloads of the same figures ---------------------------------

import csv  # noqa: E402
import html  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402
from openpyxl import load_workbook  # noqa: E402

from examroom.accounts.users import Accounts, Role  # noqa: E402
from tests.examroom.records.test_statistics_figures import known  # noqa: E402,F401  (fixture)
from tests.web.conftest import PASSWORD, login  # noqa: E402
from examroom_web.stats.charts import count_chart, tick_step  # noqa: E402

CHART_TITLES = {"item": "按考试项目合格率", "class": "按准驾车型合格率", "hour": "按开考时段合格率",
                "examiner": "按考试员合格率", "vehicle": "按考试车辆合格率", "day": "按日期合格率"}
BAR = re.compile(r"<title>(.+?): (\d+)% \((\d+)/(\d+)\)</title>")


def page_figures(page: str) -> dict[str, dict[str, tuple[int, int, int]]]:
    """Each chart's bars as read from the page: name → (percent, passed, attempts)."""
    out = {}
    for key, title in CHART_TITLES.items():
        start = page.index(f'id="chart-{key}"')
        figure = page[start:page.index("</figure>", start)]
        out[title] = {html.unescape(n): (int(p), int(k), int(a)) for n, p, k, a in BAR.findall(figure)}
    return out


def _demo_auditor(app, records):
    Accounts(records.sessions).create("demo-auditor", PASSWORD, Role.AUDITOR, scope="demo")
    client = app.test_client()
    assert login(client, "demo-auditor").status_code == 302
    return client


def test_charts_name_items_classes_and_hours_in_chinese_with_axes_and_legend(app, records, known):  # noqa: F811
    page = _demo_auditor(app, records).get("/stats/").get_data(as_text=True)
    figures = page_figures(page)
    assert figures["按考试项目合格率"] == {"直角转弯": (75, 3, 4), "曲线行驶": (80, 4, 5), "坡道定点停车和起步": (100, 6, 6),
                                     "侧方停车": (83, 5, 6), "倒车入库": (86, 6, 7)}
    assert figures["按准驾车型合格率"] == {"C1 小型汽车": (25, 1, 4), "C2 小型自动挡汽车": (67, 2, 3)}
    assert figures["按开考时段合格率"] == {"00:00–01:00": (0, 0, 1), "08:00–09:00": (50, 1, 2),
                                     "09:00–10:00": (33, 1, 3), "23:00–24:00": (100, 1, 1)}
    assert figures["按考试员合格率"] == {"考试员乙": (25, 1, 4), "考试员甲": (67, 2, 3)}
    item_chart = page[page.index('id="chart-item"'):]
    item_chart = item_chart[:item_chart.index("</svg>")]
    for text in ("考试项目", "合格率（%）", "总体合格率 43%", ">0<", ">100<"):
        assert text in item_chart, text
    for english in (">reverse<", ">parallel<", ">angle<"):
        assert english not in page
    assert "开考时刻（时，北京时间）" in page and "考试人次（人次）" in page


def _csv(client, query=""):
    response = client.get("/stats/export.csv" + query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_and_xlsx_hold_the_figures_the_page_shows(client, known):  # noqa: F811
    query = "?since=2026-11-28&until=2026-11-29"
    figures = page_figures(client.get("/stats/" + query).get_data(as_text=True))
    rows = _csv(client, query)
    assert list(rows[0]) == ["统计维度", "分组", "考试人次", "合格人次", "合格率（%）"]
    from_csv, percents = {}, []
    for row in rows:
        if row["统计维度"] in figures:
            shown = figures[row["统计维度"]][row["分组"]][0]
            percents.append((float(row["合格率（%）"]), shown))  # the page rounds to whole percent
            from_csv.setdefault(row["统计维度"], {})[row["分组"]] = (shown, int(row["合格人次"]), int(row["考试人次"]))
    assert from_csv == figures and len(percents) == sum(len(f) for f in figures.values()) == 18
    assert all(abs(exact - shown) <= 0.5 for exact, shown in percents)
    # The supervisor sees both courses: hour 10 has demo's aborted attempt and north's.
    assert {(r["分组"], r["考试人次"]) for r in rows if r["统计维度"] == "每小时开考人次"} == {
        ("00:00–01:00", "1"), ("08:00–09:00", "2"), ("09:00–10:00", "3"), ("10:00–11:00", "2"), ("23:00–24:00", "1")}

    response = client.get("/stats/export.xlsx" + query)
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    sheet = book["合格率"]
    cells = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    assert [tuple(str(v) if isinstance(v, int) else v for v in row[:4]) for row in cells] == \
        [(r["统计维度"], r["分组"], r["考试人次"], r["合格人次"] or None) for r in rows]
    for n, ((_section, _name, attempts, passed, rate), row) in enumerate(zip(cells, rows), start=2):
        if passed is not None:
            assert rate == pytest.approx(passed / attempts) and f"{rate * 100:.1f}" == row["合格率（%）"]
            assert sheet.cell(row=n, column=5).number_format == "0.0%"
    about = dict(book["说明"].iter_rows(values_only=True))
    assert about["统计范围"] == "2026-11-28 至 2026-11-29" and about["总体合格率"] == "50.0%"


def test_the_date_range_narrows_page_and_downloads_alike(client, known):  # noqa: F811
    page = client.get("/stats/?since=2026-11-29&until=2026-11-29").get_data(as_text=True)
    assert page_figures(page)["按开考时段合格率"] == {"00:00–01:00": (0, 0, 1)}
    assert 'value="2026-11-29"' in page and "/stats/export.csv?since=2026-11-29&amp;until=2026-11-29" in page
    assert {r["分组"] for r in _csv(client, "?since=2026-11-29&until=2026-11-29")
            if r["统计维度"] == "按开考时段合格率"} == {"00:00–01:00"}


def test_a_range_that_ends_before_it_starts_is_a_clear_400(client):
    response = client.get("/stats/export.csv?since=2026-11-29&until=2026-11-28")
    assert response.status_code == 400 and "晚于截止日期" in response.get_data(as_text=True)


def test_a_name_that_looks_like_a_formula_is_text_in_both_downloads(app, records, known):  # noqa: F811
    accounts = Accounts(records.sessions)
    accounts.create("考试员甲", PASSWORD, Role.SUPERVISOR, display_name="=HYPERLINK(\"http://x\",\"甲\")")
    accounts.create("auditor", PASSWORD, Role.AUDITOR)
    client = app.test_client()
    assert login(client, "auditor").status_code == 302
    names = {r["分组"] for r in _csv(client) if r["统计维度"] == "按考试员合格率"}
    assert "'=HYPERLINK(\"http://x\",\"甲\")" in names
    sheet = load_workbook(io.BytesIO(client.get("/stats/export.xlsx").data))["合格率"]
    assert "'=HYPERLINK(\"http://x\",\"甲\")" in {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


@pytest.mark.parametrize("path", ["/stats/", "/stats/export.csv", "/stats/export.xlsx"])
def test_an_auditor_sees_only_the_figures_of_their_scope(app, records, known, path):  # noqa: F811
    Accounts(records.sessions).create("north-auditor", PASSWORD, Role.AUDITOR, scope="north")
    client = app.test_client()
    assert login(client, "north-auditor").status_code == 302
    response = client.get(path)
    assert response.status_code == 200
    if path.endswith(".csv"):
        hours = {r["分组"]: r["考试人次"] for r in csv.DictReader(io.StringIO(response.data.decode("utf-8-sig")))
                 if r["统计维度"] == "每小时开考人次"}
    elif path.endswith(".xlsx"):
        hours = {row[1]: str(row[2]) for row in load_workbook(io.BytesIO(response.data))["合格率"]
                 .iter_rows(min_row=2, values_only=True) if row[0] == "每小时开考人次"}
    else:
        hours = {k: str(v[2]) for k, v in page_figures(response.get_data(as_text=True))["按开考时段合格率"].items()}
    assert hours == {"10:00–11:00": "1"}


def test_no_one_signed_out_downloads_figures(app, known):  # noqa: F811
    for path in ("/stats/export.csv", "/stats/export.xlsx"):
        assert app.test_client().get(path).status_code in (302, 401, 403)


def test_count_axis_ticks_are_round_and_cover_the_tallest_bar():
    assert [tick_step(n) for n in (1, 5, 6, 10, 11, 24, 26, 99, 101, 480)] == [1, 1, 2, 2, 5, 5, 10, 20, 50, 100]
    chart = count_chart("每小时开考人次", [(8, 7), (10, 3)], lambda h: f"{h:02d}")
    assert [(c.label, c.count) for c in chart.columns] == [("08", 7), ("09", 0), ("10", 3)]
    assert [v for _, v in chart.ticks] == [0, 2, 4, 6, 8]
    tallest = chart.columns[0]
    assert tallest.y + tallest.height == chart.plot_bottom and tallest.height == pytest.approx(150 * 7 / 8, abs=0.1)


def test_english_names_items_axes_and_download_columns(client, known):  # noqa: F811
    client.get("/lang/en")
    page = client.get("/stats/").get_data(as_text=True)
    for text in ("Pass rate by item", "Reversing into a bay", "C1 small car", "Overall pass rate", "Pass rate (%)",
                 "Attempts (count)", "Start time (hour, Beijing time)", "Download Excel workbook"):
        assert text in page, text
    assert "倒车入库" not in page and "按考试项目合格率" not in page
    header = client.get("/stats/export.csv").data.decode("utf-8-sig").splitlines()[0]
    assert header == "Dimension,Group,Attempts,Passed,Pass rate (%)"

from tests.examroom.test_statistics import filled  # noqa: F401  (fixture)


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

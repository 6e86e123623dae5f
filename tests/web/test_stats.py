from tests.examroom.test_statistics import filled  # noqa: F401  (fixture)


def test_statistics_page(client, filled):  # noqa: F811
    page = client.get("/stats/").get_data(as_text=True)
    assert "按准驾车型合格率" in page and "60% (12/20)" in page and "碰擦桩杆" in page and "<svg" in page


def test_bad_date_is_a_clear_400(client):
    response = client.get("/stats/?since=yesterday")
    assert response.status_code == 400 and "2026-11-29" in response.get_data(as_text=True)

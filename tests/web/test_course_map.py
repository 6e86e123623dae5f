"""The console's course plan: staff only, with the Chinese names the map shows."""

from __future__ import annotations

from tests.web.conftest import login


def test_the_plan_needs_a_signed_in_person(app):
    answer = app.test_client().get("/live/plan.json")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_plan_names_items_and_sensors_in_chinese(app, accounts):
    client = app.test_client()
    assert login(client, "auditor").status_code == 302  # every staff role sees the console, so the map
    plan = client.get("/live/plan.json").get_json()
    items = {item["id"]: item for item in plan["plan"]["items"]}
    assert items["e_pile"]["title"] == "桩考（E）" and items["c4_hill"]["title"] == "坡道定点停车和起步（C4）"
    labels = {s["element"]: (s["kind"], s["label"]) for s in plan["sensors"]}
    assert labels["e_pile.pole2"] == ("pole", "桩考（E） 2号桩杆")
    assert labels["e_bridge.A"] == ("deck", "通过单边桥（E） 左桥")
    assert not any(e.startswith("c4_bridge.") for e in labels)  # its decks have no sensors
    assert [p["element"] for p in items["e_pile"]["poles"]] == [f"e_pile.pole{n}" for n in range(1, 6)]


def test_the_map_is_on_the_console_with_its_scripts_and_no_inline_script(client):
    page = client.get("/").get_data(as_text=True)
    assert 'id="coursemap"' in page and "考场实况图" in page
    assert page.index("courseplan.js") < page.index("coursemap.js") < page.index("live.js")
    assert "onload=" not in page and "onclick=" not in page
    assert "<script>" not in page and "<script type" not in page

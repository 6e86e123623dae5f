"""No value a client sends gets a server error: huge ids, dates out of range, control characters,
non-finite numbers; JSON never carries NaN; an API error is JSON. Then a sampled crawl of every GET
route with hostile values (bench/hostile_crawl.py crawls them all)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from tests.web.conftest import csrf_token, login
from tests.web.crawl import HOSTILE, crawl, urls
from tests.web.test_security import attempt  # noqa: F401  (a finished attempt, the fixture)
from examroom_web import create_app

HUGE = "99999999999999999999"


@pytest.fixture
def served(records, feed):
    """The app as served: errors become answers instead of propagating to the test."""
    return create_app(records, feed, {"SECRET_KEY": "test-secret", "SSE_KEEPALIVE_SECONDS": 0.05})


@pytest.mark.parametrize("url", [f"/attempts/{HUGE}", f"/attempts/{HUGE}/replay", f"/api/v1/attempts/{HUGE}",
                                 f"/examday/slip/{HUGE}.pdf", "/attempts/-1"])
def test_ids_beyond_the_database_are_not_found(served, accounts, url):
    client = served.test_client()
    assert login(client, "supervisor").status_code == 302
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [f"/examday/verify/{HUGE}", f"/examday/hall/{HUGE}", f"/candidate/attempts/{HUGE}",
                                 f"/attempts/{HUGE}/video/{HUGE}.mp4", f"/attempts/1/video/{HUGE}.mp4"])
def test_public_routes_with_huge_ids_are_not_found(served, url):
    assert served.test_client().get(url).status_code == 404


@pytest.mark.parametrize("url", ["/api/v1/attempts?day=0001-01-01", "/api/v1/attempts?day=9999-12-31",
                                 "/api/v1/statistics?since=0001-01-01", "/attempts/?day=9999-12-31",
                                 "/stats/?until=0001-01-01"])
def test_dates_out_of_range_are_bad_requests(served, accounts, url):
    client = served.test_client()
    assert login(client, "supervisor").status_code == 302
    response = client.get(url)
    assert response.status_code == 400, url
    if url.startswith("/api/"):
        assert "2000-01-01" in response.get_json()["error"]


def test_control_characters_in_next_are_bad_requests(served):
    assert served.test_client().get("/lang/en?next=/%0D/x").status_code == 400


@pytest.mark.parametrize("t", ["nan", "inf", "-Infinity", "1e309"])
def test_outline_refuses_non_finite_times(served, accounts, attempt, t):
    client = served.test_client()
    assert login(client, "supervisor").status_code == 302
    response = client.get(f"/attempts/{attempt}/outline.json?t={t}")
    assert response.status_code == 400 and "NaN" not in response.get_data(as_text=True)


def test_json_answers_never_carry_nan(app):
    with app.app_context():
        text = app.json.dumps({"t": float("nan"), "rates": [1.0, float("inf")], "ok": 0.5})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {"t": None, "rates": [1.0, None], "ok": 0.5}


@pytest.mark.parametrize("url", ["/api/v1/nothing", "/api/v1/attempts/abc", f"/api/v1/attempts/{HUGE}",
                                 "/api/nothing/at/all"])
def test_api_not_found_is_json(served, accounts, url):
    client = served.test_client()
    assert login(client, "supervisor").status_code == 302
    response = client.get(url)
    assert response.status_code == 404 and response.is_json and "error" in response.get_json()


def test_a_form_id_that_is_not_a_number_is_a_bad_request(served, accounts):
    from examroom.examday.sittings import SittingPlan, create_sitting

    now = datetime.now(timezone.utc)
    sitting = create_sitting(served.extensions["examroom.records.attempt_log"].sessions, SittingPlan("S1", now, now, now + timedelta(hours=1)))
    client = served.test_client()
    assert login(client, "supervisor").status_code == 302
    page = client.get(f"/examday/sitting/{sitting}/queue").get_data(as_text=True)
    for booking in ("abc", HUGE, "-3"):
        response = client.post(f"/examday/sitting/{sitting}/queue",
                               data={"csrf_token": csrf_token(page), "booking": booking, "vehicle": "V1"})
        assert response.status_code == 400, booking


def test_a_sampled_crawl_of_every_get_route_gets_no_server_error(served, accounts, attempt):
    anonymous, supervisor = served.test_client(), served.test_client()
    assert login(supervisor, "supervisor").status_code == 302
    result = crawl([anonymous, supervisor], urls(served, sample=300))
    assert result.requests == 600
    assert result.server_errors == [] and result.non_finite_json == [] and result.html_api_errors == []


def test_the_crawl_notices_a_server_error(served):
    """The crawl's counting works: a route that fails is counted, not missed."""
    served.add_url_rule("/api/v1/boom", "boom", lambda: 1 / 0)
    from examroom_web.scope import RULES

    RULES.setdefault("boom", RULES["api.openapi"])
    try:
        result = crawl([served.test_client()], ["/api/v1/boom"])
    finally:
        RULES.pop("boom")
    assert result.server_errors == [("/api/v1/boom", 500)] and len(HOSTILE) > 30

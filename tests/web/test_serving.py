"""The production server's settings: proxies believed by count, and a cap on open event streams."""

from __future__ import annotations

import pytest

from examroom.accounts.audit import AuditLog
from tests.web.conftest import login
from examroom_web import create_app
from examroom_web.serving import RESERVED_THREADS, behind_proxies, check_settings

FORWARDED = {"HTTP_X_FORWARDED_FOR": "203.0.113.9", "HTTP_X_FORWARDED_PROTO": "https",
             "HTTP_X_FORWARDED_HOST": "course.example",
             "HTTP_REFERER": "https://course.example/login"}  # CSRF over HTTPS checks the referrer


def _signed_in_from(app, records, accounts) -> str:
    client = app.test_client()
    client.environ_base.update(FORWARDED)
    assert login(client, "auditor").status_code == 302
    return [e for e in AuditLog(records.sessions).entries() if e.action == "login"][0].address


def test_behind_one_trusted_proxy_the_forwarded_address_is_believed(records, feed, accounts):
    from flask import request, url_for

    app = create_app(records, feed, {"TESTING": True, "SECRET_KEY": "s"})
    app.add_url_rule("/where", "where", lambda: f"{request.scheme} {url_for('auth.login', _external=True)}")
    behind_proxies(app, 1)
    assert _signed_in_from(app, records, accounts) == "203.0.113.9"
    client = app.test_client()
    client.environ_base.update(FORWARDED)
    assert client.get("/where").get_data(as_text=True) == "https https://course.example/login"


def test_with_no_proxy_trusted_forwarded_headers_are_ignored(records, feed, accounts):
    app = behind_proxies(create_app(records, feed, {"TESTING": True, "SECRET_KEY": "s"}), 0)
    assert _signed_in_from(app, records, accounts) == "127.0.0.1"


def test_proxy_count_and_threads_are_checked(app):
    with pytest.raises(ValueError, match="trusted proxies"):
        behind_proxies(app, -1)
    with pytest.raises(ValueError, match="threads"):
        check_settings(RESERVED_THREADS, 0)


def test_event_streams_past_the_limit_are_refused_with_retry_after(app, client):
    app.config["STREAM_LIMIT"] = 1
    first = client.get("/live/stream")
    assert first.status_code == 200
    second = client.get("/live/stream")
    assert second.status_code == 503 and second.headers["Retry-After"] == "30"
    first.close()  # the screen goes: its place is free again
    third = client.get("/live/stream")
    assert third.status_code == 200
    third.close()


def _next_data(stream) -> dict:
    import json

    for raw in stream:
        if raw.startswith(b"data: "):
            return json.loads(raw[6:])
    raise AssertionError("the stream ended")


def test_an_event_is_rendered_once_for_all_screens(app, accounts, feed):
    from tests.web.browser import served
    from tests.web.conftest import PASSWORD
    from examroom_web.signin_client import signed_in

    with served(app) as base:
        screens = [signed_in(base + "/", "supervisor", PASSWORD).open(base + "/live/stream", timeout=10)
                   for _ in range(3)]
        for stream in screens:
            assert _next_data(stream)["type"] == "state"  # the screen's own first state
        deduction = {"rule": "pile.pole_touched", "title": "碰擦桩杆", "points": 100, "disqualify": True}
        feed.publish({"type": "deduction", "deduction": deduction,
                      "vehicle_state": {"vehicle": "V1", "status": "running", "item_type": "pile"}})
        first, second, third = (_next_data(stream) for stream in screens)
        for stream in screens:
            stream.close()
    assert first == second == third and first["announce"] == "碰擦桩杆，考试不合格"
    assert len(app.extensions["examroom.rendered"]) == 1  # one text (per language), not one per screen

"""The production server's settings: proxies believed by count, and a cap on open event streams."""

from __future__ import annotations

import pytest

from examroom.audit import AuditLog
from tests.web.conftest import login
from web import create_app
from web.serving import RESERVED_THREADS, behind_proxies, check_settings

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

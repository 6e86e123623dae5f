"""Security headers on every answer; sessions that end on the server (sign-out, new password, disabled account)."""

from __future__ import annotations

from examroom.accounts.users import Accounts
from tests.web.conftest import PASSWORD, csrf_token, login
from examroom_web.serving import behind_proxies


def test_every_answer_carries_the_security_headers(app, client):
    for url in ("/", "/login", "/api/v1/live", "/static/live.js", "/no/such/page"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        assert "frame-ancestors 'none'" in policy and headers["X-Frame-Options"] == "DENY", url
        assert headers["X-Content-Type-Options"] == "nosniff", url
        assert headers["Referrer-Policy"] == "same-origin", url


def _session_cookie(response) -> str:
    return next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session="))


def test_session_cookie_is_httponly_samesite_and_secure_over_https(app, accounts):
    plain = login(app.test_client(), "supervisor")
    cookie = _session_cookie(plain)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    behind_proxies(app, 1)  # TLS ends at the proxy, which says so
    client = app.test_client()
    client.environ_base.update({"HTTP_X_FORWARDED_PROTO": "https", "HTTP_REFERER": "https://localhost/login"})
    assert "Secure" in _session_cookie(login(client, "supervisor"))


def _copy_cookie(source, target) -> None:
    cookie = source.get_cookie("session")
    target.set_cookie("session", cookie.value)


def test_signing_out_ends_the_session_on_the_server(app, accounts):
    client = app.test_client()
    assert login(client, "supervisor").status_code == 302
    stolen = app.test_client()
    _copy_cookie(client, stolen)  # someone kept a copy of the cookie
    assert stolen.get("/attempts/").status_code == 200
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert stolen.get("/attempts/").status_code == 302  # the old cookie signs no one in


def test_a_new_password_or_a_disabled_account_ends_that_users_sessions(app, accounts, records):
    wang, li = app.test_client(), app.test_client()
    assert login(wang, "supervisor").status_code == 302 and login(li, "auditor").status_code == 302
    assert Accounts(records.sessions).set_password("supervisor", "a new password 123") == 1
    assert wang.get("/attempts/").status_code == 302
    assert li.get("/attempts/").status_code == 200  # other people stay signed in
    assert login(wang, "supervisor", "a new password 123").status_code == 302
    Accounts(records.sessions).disable("auditor")
    assert li.get("/attempts/").status_code == 302
    assert login(li, "auditor").status_code == 401
    assert wang.get("/attempts/").status_code == 200


def test_signing_in_starts_a_fresh_session(app, accounts):
    client = app.test_client()
    client.get("/lang/en")  # a visitor's session before signing in
    before = client.get_cookie("session").value
    assert login(client, "supervisor").status_code == 302
    assert client.get_cookie("session").value != before
    assert 'lang="en"' in client.get("/attempts/").get_data(as_text=True)  # the language choice stays
    assert PASSWORD

"""Sign-in: no open redirect, one answer for every failure, throttles instead of lock-outs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from examroom.accounts.users import Accounts
from examroom.accounts.signin_throttle import NAME_PACE, Pace, SignInThrottles, delay_after
from tests.web.conftest import PASSWORD, csrf_token, login

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("target", ["/%09/evil.example", "/%0A/evil.example", "/%0D/x", "/\\evil.example",
                                    "//evil.example", "https://evil.example/", "/\\/evil.example",
                                    "http:/evil.example", "javascript:alert(1)"])
def test_the_language_switch_never_leaves_the_site(app, target):
    response = app.test_client().get(f"/lang/en?next={target}")
    # Control characters: refused; anything else not a same-site path: home.
    assert response.status_code == 400 if "%0" in target else response.location == "/", (target, response.location)


def test_the_language_switch_goes_back_to_a_local_page(app):
    assert app.test_client().get("/lang/en?next=/attempts/%3Fday%3D2026-11-29").location == "/attempts/?day=2026-11-29"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "/\\evil.example", "/%09/evil.example"])
def test_sign_in_never_redirects_off_the_site(app, accounts, target):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(f"/login?next={target}", data={"csrf_token": token, "username": "supervisor",
                                                           "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/", target


def _body(response) -> str:
    return re.sub(r'value="[^"]+"', "", response.get_data(as_text=True))  # the CSRF token differs


def test_every_failure_gets_the_same_answer(app, accounts, records):
    Accounts(records.sessions).disable("auditor")
    answers = [login(app.test_client(), *args) for args in
               [("nobody", PASSWORD), ("admin", "wrong password!"), ("auditor", PASSWORD)]]
    assert {a.status_code for a in answers} == {401}
    assert len({_body(a) for a in answers}) == 1
    assert "用户名或密码错误" in _body(answers[0])


def test_a_stranger_guessing_is_slowed_and_the_owner_still_signs_in(app, accounts):
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    codes = [login(stranger, "supervisor", f"guess {n} guess").status_code for n in range(7)]
    assert codes[:6] == [401] * 6 and codes[6] == 429
    refused = login(stranger, "supervisor", PASSWORD)  # even the right password waits its turn
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert _body(refused).count("用户名或密码错误") == 1  # the same words as any failure
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    assert login(owner, "supervisor").status_code == 302  # never locked out by someone else


def test_the_name_throttle_is_short_whoever_guesses():
    waits = [delay_after(n, NAME_PACE) for n in range(1, 40)]
    assert waits[:NAME_PACE.free] == [timedelta(0)] * NAME_PACE.free
    assert waits[NAME_PACE.free:NAME_PACE.free + 3] == [timedelta(seconds=s) for s in (2, 4, 8)]
    assert max(waits) == timedelta(minutes=1)


def test_throttles_grow_clear_on_success_and_are_forgotten(records):
    throttles = SignInThrottles(records.sessions, address_pace=Pace(2, timedelta(seconds=2), timedelta(seconds=30)))
    for n in range(4):
        throttles.failed("198.51.100.7", "Wang", UTC + timedelta(seconds=n))
    assert throttles.wait("198.51.100.7", "someone else", UTC + timedelta(seconds=3)) == 4  # 2 s, then 4 s
    assert throttles.wait("10.0.0.5", "wang", UTC + timedelta(seconds=3)) == 0  # the name: 4 of 10 free
    throttles.succeeded("198.51.100.7", "wang")
    assert throttles.wait("198.51.100.7", "wang", UTC + timedelta(seconds=3)) == 0
    throttles.failed("198.51.100.8", "li", UTC)
    assert {t.key for t in throttles.current(UTC)} == {"address:198.51.100.8", "name:li"}
    assert throttles.current(UTC + timedelta(hours=2)) == []


def test_an_admin_sees_and_lifts_throttles(app, accounts):
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    for n in range(7):
        login(stranger, "supervisor", f"guess {n} guess")
    assert login(stranger, "supervisor").status_code == 429
    admin = app.test_client()
    assert login(admin, "admin").status_code == 302
    page = admin.get("/admin/throttles").get_data(as_text=True)
    assert "<td>198.51.100.7</td>" in page and "<td>supervisor</td>" in page
    token = csrf_token(page)
    assert admin.post("/admin/throttles/lift", data={"csrf_token": token, "key": "address:198.51.100.7"}).status_code == 302
    assert "<td>198.51.100.7</td>" not in admin.get("/admin/throttles").get_data(as_text=True)
    assert login(stranger, "supervisor").status_code == 302
    assert "lift_throttle" in admin.get("/admin/audit").get_data(as_text=True)


def test_every_429_says_when_to_come_back(app, attempt_free_lookup):
    codes = attempt_free_lookup
    assert codes[-1].status_code == 429 and int(codes[-1].headers["Retry-After"]) > 0


@pytest.fixture
def attempt_free_lookup(app):
    """Candidate look-ups past their rate limit (flask-limiter's 429)."""
    client = app.test_client()
    answers = []
    for _ in range(6):
        token = csrf_token(client.get("/candidate/").get_data(as_text=True))
        answers.append(client.post("/candidate/", data={"csrf_token": token, "id_number": "110105194912310021",
                                                        "name": "张三", "exam_number": "99999999"}))
    return answers

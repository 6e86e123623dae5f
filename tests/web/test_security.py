"""Roles on every route, sign-in and lockout, CSRF, the candidate portal, the audit log."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy

from examroom.accounts.users import AccountError, Accounts, LoginRefused, Role
from examroom.accounts.audit import AuditLog
from examroom.records.database import session_factory, upgrade
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo, Records
from tests.web.conftest import PASSWORD, csrf_token, login

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
ROLES = [None, Role.ADMIN, Role.SUPERVISOR, Role.AUDITOR]  # None: not signed in


@pytest.fixture
def attempt(records):
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("王芳", "62120219900101123X", "62000009", "E"))
    attempt = records.check_in(candidate, "V1", "demo", "ga1026-2022", UTC)
    records.mark_running(attempt, UTC)
    records.finish(attempt, AttemptStatus.PASSED, UTC, result={"score": 100, "passed": True, "items": []})
    return attempt


def _client(app, role):
    client = app.test_client()
    if role is not None:
        assert login(client, role.value).status_code == 302
    return client


def test_every_route_declares_who_may_call_it(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue  # stylesheets and scripts: public by nature
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "allowed_roles"), f"{rule.rule} ({rule.endpoint}) has no role"


@pytest.fixture
def sitting(records):
    from examroom.examday.sittings import SittingPlan, create_sitting

    now = datetime.now(timezone.utc)
    return create_sitting(records.sessions, SittingPlan("S9", now, now, now + timedelta(hours=1)))


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_walk_every_route_with_every_role(app, accounts, attempt, sitting, role):
    client = _client(app, role)
    for rule in app.url_map.iter_rules():
        if rule.endpoint in ("static", "live.stream") or "GET" not in rule.methods:
            continue
        url = (rule.rule.replace("<int:attempt_id>", str(attempt)).replace("<vehicle>", "V1")
               .replace("<int:sitting_id>", str(sitting)).replace("<int:job_id>", "1").replace("<camera>", "top")
               .replace("<int:flag_id>", "1").replace("<int:check_id>", "1").replace("<int:booking_id>", "1"))
        response = client.get(url)
        allowed = app.view_functions[rule.endpoint].allowed_roles
        if allowed is None:
            assert response.status_code in (200, 302, 404), (url, role, response.status_code)
            if response.status_code == 302:
                assert "/login" not in response.location, (url, role)
        elif role is None and url.startswith("/api/"):
            assert response.status_code == 401, (url, response.status_code)  # JSON clients get no redirect
        elif role is None:
            assert response.status_code == 302 and "/login" in response.location, (url, response.status_code)
        elif role in allowed:
            # Past the role gate: a page answers 200; a view missing its query arguments 400; a slip
            # not yet sealed 404; the console with no controller attached 503. Never a refusal or a
            # sign-in redirect, never a server error.
            assert response.status_code in (200, 400, 404, 503), (url, role, response.status_code)
        else:
            assert response.status_code == 403, (url, role, response.status_code)


def test_the_event_stream_needs_a_role(app, accounts):
    assert app.test_client().get("/live/stream").status_code == 302


def test_post_without_csrf_token_is_refused(app, accounts):
    client = _client(app, Role.SUPERVISOR)
    assert client.post("/logout").status_code == 400
    assert client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 400
    token = csrf_token(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302


def test_login_failures_are_audited_and_never_lock_the_account(app, accounts, records):
    client = app.test_client()
    for _ in range(5):
        assert login(client, "auditor", "wrong password!").status_code == 401
    assert login(client, "auditor", PASSWORD).status_code == 302  # slowed after more failures, never locked
    actions = [e.action for e in AuditLog(records.sessions).entries()]
    assert actions.count("login_refused") == 5


def test_wrong_name_and_wrong_password_look_the_same(app, accounts):
    client = app.test_client()
    a = login(client, "nobody", PASSWORD)
    b = login(client, "admin", "wrong password!")
    assert a.status_code == b.status_code == 401
    assert "用户名或密码错误" in a.get_data(as_text=True) and "用户名或密码错误" in b.get_data(as_text=True)


def test_login_redirect_stays_on_this_site(app, accounts):
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example/", data={"csrf_token": token, "username": "admin",
                                                                "password": PASSWORD})
    assert response.location == "/"


def test_passwords_are_stored_as_argon2_hashes(records, accounts):
    with records.sessions() as session:
        stored = session.execute(sqlalchemy.text("SELECT password_hash FROM users")).scalars().all()
    assert stored and all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)


def test_account_rules(records):
    accounts = Accounts(records.sessions)
    with pytest.raises(AccountError, match="at least"):
        accounts.create("x", "short", Role.ADMIN)
    with pytest.raises(AccountError, match="role"):
        accounts.create("x", PASSWORD, "king")
    accounts.create("x", PASSWORD, Role.AUDITOR, scope="demo")
    with pytest.raises(AccountError, match="exists"):
        accounts.create("x", PASSWORD, Role.ADMIN)
    for _ in range(10):
        with pytest.raises(LoginRefused):
            accounts.authenticate("x", "nope nope nope", UTC)
    assert accounts.authenticate("x", PASSWORD, UTC).scope == "demo"  # guesses lock no one out
    with pytest.raises(AccountError, match="at least"):
        accounts.set_password("x", "short")
    with pytest.raises(AccountError, match="no account"):
        accounts.disable("nobody")
    accounts.disable("x")
    with pytest.raises(LoginRefused):
        accounts.authenticate("x", PASSWORD, UTC)
    accounts.enable("x")
    assert accounts.authenticate("x", PASSWORD, UTC).username == "x"


@pytest.mark.parametrize("scope, sees", [("demo", {"demo"}), ("north", {"north"}),
                                         ("demo，north", {"demo", "north"}), ("", {"demo", "north", "south"})])
def test_an_auditor_sees_the_courses_of_their_scope(app, records, attempt, scope, sees):
    """A scope is a course, or a city's courses separated by commas; empty: every course."""
    others = {}
    for course in ("north", "south"):
        candidate = records.ensure_candidate(CandidateInfo(f"考生{course}", "620102199001011234" if course == "north"
                                                           else "620102198801011230", f"6200{course}", "E"))
        others[course] = records.check_in(candidate, "V1", course, "ga1026-2022", UTC)
    ids = {"demo": attempt, **others}
    Accounts(records.sessions).create("city", PASSWORD, Role.AUDITOR, scope=scope)
    client = app.test_client()
    assert login(client, "city").status_code == 302
    listing = client.get("/attempts/").get_data(as_text=True)
    api = {a["id"] for a in client.get("/api/v1/attempts").get_json()["attempts"]}
    for course, attempt_id in ids.items():
        visible = course in sees
        assert (f"/attempts/{attempt_id}/replay" in listing) is visible, course
        assert (attempt_id in api) is visible, course
        assert client.get(f"/attempts/{attempt_id}").status_code == (200 if visible else 404), course
        assert client.get(f"/attempts/{attempt_id}/replay").status_code == (200 if visible else 404), course


# -- the candidate portal --------------------------------------------------------------

def _lookup(client, id_number, name, exam_number):
    token = csrf_token(client.get("/candidate/").get_data(as_text=True))
    return client.post("/candidate/", data={"csrf_token": token, "id_number": id_number, "name": name,
                                            "exam_number": exam_number})


def test_candidate_finds_only_their_own_result(app, records, attempt):
    other = records.ensure_candidate(CandidateInfo("赵六", "620102198801011230", "62000010", "E"))
    other_attempt = records.check_in(other, "V1", "demo", "ga1026-2022", UTC)
    client = app.test_client()
    assert _lookup(client, "62120219900101123x", "王芳", "62000009").status_code == 302  # x or X
    page = client.get("/candidate/results").get_data(as_text=True)
    assert "合格" in page and f"/candidate/attempts/{attempt}" in page
    mine = client.get(f"/candidate/attempts/{attempt}").get_data(as_text=True)
    assert "621***********123X" in mine and "62120219900101123X" not in mine
    assert f"/examday/verify/{attempt}" in mine  # the candidate can check the sealed record
    assert client.get(f"/candidate/attempts/{other_attempt}").status_code == 404
    assert client.get(f"/attempts/{attempt}").status_code == 302  # staff pages stay closed


def test_wrong_guess_reveals_nothing(app, attempt):
    client = app.test_client()
    wrong_name = _lookup(client, "62120219900101123X", "王五", "62000009")
    unknown = _lookup(client, "110105194912310021", "张三", "99999999")
    assert wrong_name.status_code == unknown.status_code == 404
    assert wrong_name.get_data(as_text=True).count("未找到匹配的考试记录") == 1
    assert client.get("/candidate/results").status_code == 302


def test_candidate_lookups_are_rate_limited(app, attempt):
    client = app.test_client()
    codes = [_lookup(client, "62120219900101123X", "王五", "62000009").status_code for _ in range(7)]
    assert codes[:5] == [404] * 5 and codes[5:] == [429, 429]


# -- the audit log ---------------------------------------------------------------------

def _audit_is_append_only(sessions):
    log = AuditLog(sessions)
    log.record(UTC, "wang", "supervisor", "stop_attempt", "attempt 7", "考生要求停止")
    log.record(UTC, "li", "auditor", "review", "attempt 7", "")
    assert log.verify() == []
    for sql in ("UPDATE audit_log SET detail = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"):
            with sessions.begin() as session:
                session.execute(sqlalchemy.text(sql))
    assert [e.action for e in log.entries()] == ["review", "stop_attempt"]


def test_audit_log_is_append_only_on_sqlite(records):
    _audit_is_append_only(records.sessions)


def test_audit_log_is_append_only_on_postgresql(postgres_engine):
    upgrade(postgres_engine)
    _audit_is_append_only(session_factory(postgres_engine))


def test_a_row_removed_behind_the_database_shows(records, tmp_path):
    log = AuditLog(records.sessions)
    for n in range(3):
        log.record(UTC, "wang", "supervisor", f"action {n}")
    with records.sessions.begin() as session:  # someone drops the trigger and deletes a row
        session.execute(sqlalchemy.text("DROP TRIGGER audit_log_no_delete"))
        session.execute(sqlalchemy.text("DELETE FROM audit_log WHERE action = 'action 1'"))
    assert log.verify() == ["entry 3: previous entry missing or changed"]


def test_admin_reads_the_audit_log(app, accounts):
    client = _client(app, Role.ADMIN)
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "审计日志完整" in page and "login" in page

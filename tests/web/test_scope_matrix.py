"""Route × role × scope: every endpoint has a scope rule, and an auditor out of scope sees nothing of it.

The roles half of the matrix is tests/web/test_security.py's walk; this file adds the scope half:
each route and method is requested by an auditor of every course, one whose scope is this course and
one whose scope is another city, and their answers are held to the endpoint's rule in web.scope.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo
from tests.web.conftest import PASSWORD, login
from examroom_web import create_app
from examroom_web.scope import RULES, Scope

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)
COURSE = "陇南演示考场"
AUDITORS = {"everywhere": "", "here": f"{COURSE}，北区", "elsewhere": "天水考场，北区"}


@pytest.fixture
def scoped_app(records, feed):
    return create_app(records, feed, {"TESTING": True, "SECRET_KEY": "test-secret", "SSE_KEEPALIVE_SECONDS": 0.05,
                                      "COURSE_NAME": COURSE})


@pytest.fixture
def here(records, tmp_path):
    """An attempt on this course, finished and sealed so its slip exists."""
    from examroom.records.sealing import Sealer, load_or_create_key
    from examroom.examday.sittings import SittingPlan, create_sitting

    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("王芳", "62120219900101123X", "62000009", "E"))
    attempt = records.check_in(candidate, "V1", COURSE, "ga1026-2022", UTC)
    records.mark_running(attempt, UTC)
    records.finish(attempt, AttemptStatus.PASSED, UTC, result={"score": 100, "passed": True, "items": []})
    Sealer(records.sessions, load_or_create_key(tmp_path)).seal(attempt)
    now = datetime.now(timezone.utc)
    sitting = create_sitting(records.sessions, SittingPlan("S9", now, now, now + timedelta(hours=1)))
    return attempt, sitting


def _auditor(app, records, name: str):
    Accounts(records.sessions).create(name, PASSWORD, Role.AUDITOR, scope=AUDITORS[name])
    client = app.test_client()
    assert login(client, name).status_code == 302
    return client


def _url(rule, attempt: int, sitting: int) -> str:
    values = {"attempt_id": attempt, "sitting_id": sitting, "sitting": sitting, "job_id": 1, "flag_id": 1, "check_id": 1, "booking_id": 1,
              "segment_id": 1, "booking": 1, "vehicle": "V1", "camera": "top", "action": "stop", "code": "en",
              "filename": "examroom.css", "course": COURSE, "sample_id": 1, "week": "2026-W49"}
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: str(values[m.group(1)]), rule.rule)


def _routes(app):
    return sorted(((rule, method) for rule in app.url_map.iter_rules()
                   for method in sorted(rule.methods - {"HEAD", "OPTIONS"})), key=lambda rm: (rm[0].rule, rm[1]))


def test_every_endpoint_has_a_scope_rule(scoped_app):
    endpoints = {rule.endpoint for rule in scoped_app.url_map.iter_rules()}
    assert sorted(endpoints - RULES.keys()) == [], "give each new endpoint its rule in web/scope.py"
    assert sorted(RULES.keys() - endpoints) == [], "a rule for an endpoint that no longer exists"


def _ask(client, method: str, url: str):
    response = client.open(url, method=method)
    status = response.status_code
    body = b"" if response.mimetype == "text/event-stream" else response.get_data()
    response.close()  # ends the event stream's generator
    return status, body


def test_route_scope_matrix(scoped_app, records, here):
    attempt, sitting = here
    clients = {name: _auditor(scoped_app, records, name) for name in AUDITORS}
    cases = 0
    for rule, method in _routes(scoped_app):
        url = _url(rule, attempt, sitting)
        scope = RULES[rule.endpoint]
        everywhere, _body = _ask(clients["everywhere"], method, url)
        status_here, _body = _ask(clients["here"], method, url)
        elsewhere, body = _ask(clients["elsewhere"], method, url)
        cases += 3
        # An auditor whose scope holds this course is treated like one who sees every course.
        assert status_here == everywhere, (method, url, status_here, everywhere)
        if scope is Scope.ATTEMPT:
            assert elsewhere == 404, (method, url, elsewhere)
        elif scope is Scope.COURSE:
            assert elsewhere == 403, (method, url, elsewhere)
        else:
            assert elsewhere == everywhere, (method, url, elsewhere, everywhere)
        if scope is Scope.FILTERED and elsewhere == 200:
            assert "王芳".encode() not in body and b"62000009" not in body, (method, url)
    assert cases >= 3 * len(RULES)


def test_out_of_scope_auditor_gets_no_slip_live_state_or_queue(scoped_app, records, here, feed):
    """The leaks the issue names, each on its own."""
    attempt, _sitting = here
    assert _auditor(scoped_app, records, "here").get(f"/examday/slip/{attempt}.pdf").status_code == 200
    elsewhere = _auditor(scoped_app, records, "elsewhere")
    assert elsewhere.get(f"/examday/slip/{attempt}.pdf").status_code == 404
    assert elsewhere.get("/api/v1/live").status_code == 403
    assert elsewhere.get("/api/v1/live").is_json
    assert elsewhere.get("/live/queue").status_code == 403
    assert elsewhere.get("/live/stream").status_code == 403
    assert elsewhere.get("/cameras").status_code == 403
    assert elsewhere.get("/cameras/top/live.jpg").status_code == 403


def test_an_out_of_scope_auditor_signs_in_to_the_records(scoped_app, records):
    Accounts(records.sessions).create("elsewhere", PASSWORD, Role.AUDITOR, scope=AUDITORS["elsewhere"])
    response = login(scoped_app.test_client(), "elsewhere")
    assert response.status_code == 302 and response.location == "/attempts/"

"""The JSON API: roles, filters, masked IDs; and generated requests from its OpenAPI document."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.examroom.records.test_statistics import filled  # noqa: F401  (fixture)
from tests.web.conftest import login


def test_search_filters_and_masks(client, filled):  # noqa: F811
    everything = client.get("/api/v1/attempts").get_json()["attempts"]
    assert len(everything) == 20
    assert all("*" in a["candidate"]["id_number"] for a in everything)
    failed = client.get("/api/v1/attempts?status=failed&rule=pile.pole_touched").get_json()["attempts"]
    assert len(failed) == 8 and all(a["vehicle"] == "甘K·0002学" for a in failed)
    assert len(client.get("/api/v1/attempts?day=2026-11-28&vehicle_class=E").get_json()["attempts"]) == 20
    assert client.get("/api/v1/attempts?day=2026-11-27").get_json()["attempts"] == []
    one = client.get(f"/api/v1/attempts/{failed[0]['id']}").get_json()
    assert one["deductions"][-1]["rule"] == "pile.pole_touched"


def test_search_by_examiner(client, filled):  # noqa: F811
    everything = client.get("/api/v1/attempts").get_json()["attempts"]
    assert sorted({a["examiner"] or "" for a in everything}) == ["", "考试员乙", "考试员甲"]
    assert sum(a["examiner"] is None for a in everything) == 4
    found = client.get("/api/v1/attempts?examiner=考试员乙").get_json()["attempts"]
    assert len(found) == 6 and {(a["examiner"], a["vehicle"]) for a in found} == {("考试员乙", "甘K·0002学")}
    assert client.get("/api/v1/attempts?examiner=考试员丙").get_json()["attempts"] == []
    assert len(client.get("/api/v1/attempts?examiner=考试员甲&status=failed").get_json()["attempts"]) == 0
    assert client.get("/api/v1/attempts?examiner=" + "甲" * 65).status_code == 400


def test_statistics_by_examiner(client, filled):  # noqa: F811
    stats = client.get("/api/v1/statistics").get_json()
    assert stats["by_examiner"] == [{"key": "考试员乙", "attempts": 6, "passed": 2, "rate": 2 / 6},
                                    {"key": "考试员甲", "attempts": 10, "passed": 10, "rate": 1.0}]


def test_errors_are_json(client):
    response = client.get("/api/v1/attempts?day=tomorrow")
    assert response.status_code == 400 and "day" in response.get_json()["error"]
    assert client.get("/api/v1/attempts/999").status_code == 404
    assert client.get("/api/v1/attempts?limit=0").status_code == 400


def test_api_needs_sign_in(app):
    response = app.test_client().get("/api/v1/live")
    assert response.status_code == 401 and response.get_json() == {"error": "not signed in"}


@pytest.fixture
def session_cookie(app, accounts, filled):  # noqa: F811
    client = app.test_client()
    login(client, "admin")
    return client.get_cookie("session").value


def test_generated_requests_never_get_a_server_error(app, session_cookie):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    failures, calls = [], []
    for operation in schema.get_all_operations():
        op = operation.ok()
        strategy = op.as_strategy()

        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            calls.append((case.formatted_path, repr(case.query)))
            response = case.call(headers={"Cookie": f"session={session_cookie}"})
            if response.status_code >= 500:
                failures.append((case.method, case.formatted_path, case.query, response.status_code))
            if response.status_code == 200:
                case.validate_response(response)

        run()
    assert failures == []
    assert len(set(calls)) > 20  # the document really drove many distinct requests


def test_the_seal_chain_heads_are_returned_within_scope(app, accounts, records, tmp_path):
    from examroom.accounts.users import Role
    from examroom.records.sealing import Sealer, chain_heads, load_or_create_key
    from tests.examroom.attempts import finished_attempt
    from tests.web.conftest import PASSWORD

    sealer = Sealer(records.sessions, load_or_create_key(tmp_path))
    for _ in range(2):
        sealer.seal(finished_attempt(records))
    with records.sessions() as session:
        expected = chain_heads(session)
    client = app.test_client()
    login(client, "auditor")
    heads = client.get("/api/v1/seals/heads").get_json()["heads"]
    assert heads == expected and heads["demo"]["seq"] == 2 and len(heads["demo"]["digest"]) == 64
    accounts.create("north", PASSWORD, Role.AUDITOR, scope="north")
    other = app.test_client()
    login(other, "north")
    assert other.get("/api/v1/seals/heads").get_json() == {"heads": {}}

"""Hostile requests against the web app: server errors must be 0.

1. Crawl: every GET route with every hostile value of tests/web/crawl.py in each path parameter and
   in each query parameter the views read, plus API paths that do not exist, as four callers
   (not signed in, administrator, supervisor, an auditor of another city), over a database with an
   attempt, a sitting and a booking, so that ordinary ids reach real records.
2. Fuzz: schemathesis generates requests from the OpenAPI document (/api/openapi.json), valid and
   invalid ones, as a signed-in administrator; 200 answers are validated against the document.

Printed: requests tried and server errors (5xx other than 503), JSON answers carrying NaN or
Infinity, API errors that are not JSON. Exit status 1 if any.

Run: ``.venv/bin/python bench/hostile_requests.py [--examples 300] [--sample N]`` (the whole crawl is
about 110,000 requests: half an hour on a busy 2-core machine; ``--sample 6000``: a few minutes).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' fixtures, run from anywhere

from examroom.accounts.users import Accounts, Role
from examroom.records.database import make_engine, session_factory, upgrade
from examroom.live.feed import LiveFeed
from examroom.records.models import AttemptStatus
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.examday.sittings import SittingPlan, create_sitting
from tests.web.conftest import PASSWORD, login
from tests.web.crawl import crawl, urls
from examroom_web import create_app

UTC = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def _app(folder: Path):
    engine = make_engine(f"sqlite:///{folder / 'hostile.sqlite3'}")
    upgrade(engine)
    records = Records(session_factory(engine))
    records.ensure_vehicle("V1", "甘K·0001学", "E", "E-01")
    candidate = records.ensure_candidate(CandidateInfo("王芳", "62120219900101123X", "62000009", "E"))
    attempt = records.check_in(candidate, "V1", "陇南演示考场", "ga1026-2022", UTC)
    records.mark_running(attempt, UTC)
    records.finish(attempt, AttemptStatus.FAILED, UTC, result={"score": 80, "passed": False, "items": []})
    now = datetime.now(timezone.utc)
    create_sitting(records.sessions, SittingPlan("S1", now, now, now + timedelta(hours=1)))
    accounts = Accounts(records.sessions)
    for role in Role:
        accounts.create(role.value, PASSWORD, role)
    accounts.create("elsewhere", PASSWORD, Role.AUDITOR, scope="天水考场")
    return create_app(records, LiveFeed(), {"SECRET_KEY": "bench", "SSE_KEEPALIVE_SECONDS": 0.05})


def crawl_all(app, sample: int | None) -> tuple[int, int, int, int]:
    clients = [app.test_client()]
    for name in ("admin", "supervisor", "elsewhere"):
        client = app.test_client()
        assert login(client, name).status_code == 302, name
        clients.append(client)
    result = crawl(clients, urls(app, sample=sample))
    for url, status in result.server_errors[:20]:
        print(f"  {status} {url[:120]!r}")
    return result.requests, len(result.server_errors), len(result.non_finite_json), len(result.html_api_errors)


def fuzz(app, examples: int) -> tuple[int, int]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.generation import GenerationMode

    client = app.test_client()
    assert login(client, "admin").status_code == 302
    cookie = client.get_cookie("session").value
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    cases, errors = 0, []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def run(case):
            nonlocal cases
            cases += 1
            response = case.call(headers={"Cookie": f"session={cookie}"})
            if response.status_code >= 500:
                errors.append((case.formatted_path, case.query, response.status_code))

        run()
    for error in errors[:20]:
        print(f"  {error}")
    return cases, len(errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="schemathesis examples per API operation")
    parser.add_argument("--sample", type=int, default=None,
                        help="crawl this many of the URLs, drawn at random (default: all, about 28,000 per caller)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="examroom-bench-") as folder:
        app = _app(Path(folder))
        requests, server_errors, nan, html = crawl_all(app, args.sample)
        print(f"hostile_requests: crawl of every GET route: {requests} requests, {server_errors} server errors, "
              f"{nan} JSON answers with NaN/Infinity, {html} API errors not in JSON", flush=True)
        cases, fuzz_errors = fuzz(app, args.examples)
        print(f"hostile_requests: schemathesis from the OpenAPI document (valid and invalid): {cases} cases, "
              f"{fuzz_errors} server errors")
    return 1 if server_errors or nan or html or fuzz_errors else 0


if __name__ == "__main__":
    sys.exit(main())

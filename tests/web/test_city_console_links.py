"""The city console over real replication: two courses' clusters subscribed by a city cluster
(``LocalCity``, as ``examroom demo --city`` runs it); the overview shows both online with their lag
and last contact, then one link cut: that course offline, its last contact kept, the page answering."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from examroom.accounts.users import Accounts, Role
from examroom.city.local_city import LocalCity
from examroom.records.attempt_log import Records
from examroom.records.database import make_engine, session_factory
from examroom.simulation.busy_course import AttemptShape, BusyCourse
from examroom_web.city.console import city_app
from tests.examroom.city.conftest import cluster_folder, pg_binaries, row_sets, wait_until  # noqa: F401
from tests.web.city_console import CITY_CODE, SETTINGS
from tests.web.conftest import PASSWORD, login

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers

CODES = ["4201001", "4201002"]
START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def _row(text: str, course: str) -> str:
    return text.split(f'data-course="{course}"')[1].split("</tr>")[0]


def _cells(row: str) -> list[str]:
    return [c.split(">", 1)[1].split("</td>")[0].strip() for c in row.split("<td")[1:]]


def test_the_overview_shows_links_up_and_a_link_cut(pg_binaries, cluster_folder):  # noqa: F811
    city = LocalCity.start(cluster_folder / "city", CODES)
    app = None
    try:
        for code in CODES:
            engine = make_engine(city.course_url(code))
            BusyCourse(Records(session_factory(engine)), code, shape=AttemptShape(seconds=2.0)).attempt(1, START)
            engine.dispose()
        for code in CODES:
            def caught_up(code=code):
                course = make_engine(city.course_url(code))
                try:
                    return row_sets(city.city_db, code) == row_sets(course, code)
                finally:
                    course.dispose()
            wait_until(caught_up, what=f"{code} at the city")
        app = city_app(city.city_url, SETTINGS, {code: city.course_url(code) for code in CODES},
                       {"TESTING": True, "SECRET_KEY": "test-secret"})
        Accounts(session_factory(city.city_db, CITY_CODE)).create("inspector", PASSWORD, Role.INSPECTOR)
        client = app.test_client()
        assert login(client, "inspector").status_code == 302

        def page():
            response = client.get("/city/")
            assert response.status_code == 200
            return response.get_data(as_text=True)

        text = wait_until(lambda: (lambda t: t if all("在线" in _row(t, c) for c in CODES) else None)(page()),
                          what="both links online on the overview")
        for code in CODES:
            cells = _cells(_row(text, code))
            assert cells[2].endswith(" s") and cells[3] != "从未联系", cells  # a lag in seconds, a last contact
        city.cut(CODES[1])
        text = wait_until(lambda: (lambda t: t if "离线" in _row(t, CODES[1]) else None)(page()),
                          what="the cut link offline on the overview")
        cut = _cells(_row(text, CODES[1]))
        assert cut[2] == "未知" and cut[3] != "从未联系"  # no lag while cut; the last contact kept
        assert "在线" in _row(text, CODES[0])
        # Records written while cut stay in the course's WAL for the city: past the limit (1 B here, so
        # the connected course's few retained kilobytes warn as well), the page says so under the course.
        app.extensions["examroom.city.console"]._watch.warn_bytes = 1
        engine = make_engine(city.course_url(CODES[1]))
        BusyCourse(Records(session_factory(engine)), CODES[1], shape=AttemptShape(seconds=2.0)).attempt(2, START)
        engine.dispose()
        text = wait_until(lambda: (lambda t: t if f'data-course-warning="{CODES[1]}"' in t else None)(page()),
                          what="the held-back WAL warned")
        assert "为城市中心保留了" in text.split(f'data-course-warning="{CODES[1]}"')[1].split("</tr>")[0]
    finally:
        if app is not None:
            app.extensions["examroom.city.console"].city.dispose()
        city.stop()

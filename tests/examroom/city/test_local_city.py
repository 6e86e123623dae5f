"""A city and three courses on this machine (what ``examroom demo --city 3`` runs on): made in a
data folder, a course's link cut and restored by its relay, stopped, and started again from the
same folder with every record kept."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from examroom.city.local_city import LocalCity
from examroom.records.attempt_log import Records
from examroom.records.database import make_engine, session_factory
from examroom.simulation.busy_course import AttemptShape, BusyCourse
from tests.examroom.city.conftest import counts, row_sets, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers

CODES = ["4201001", "4201002", "4201003"]
START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)


def _write(url: str, code: str, n: int) -> None:
    engine = make_engine(url)
    BusyCourse(Records(session_factory(engine)), code, shape=AttemptShape(seconds=2.0)).attempt(n, START)
    engine.dispose()


def _caught_up(city: LocalCity, code: str) -> bool:
    course = make_engine(city.course_url(code))
    try:
        return row_sets(city.city_db, code) == row_sets(course, code)
    finally:
        course.dispose()


def test_a_local_city_cuts_a_link_and_starts_again_from_its_folder(pg_binaries, cluster_folder):
    city = LocalCity.start(cluster_folder / "demo", CODES)
    try:
        for code in CODES:
            _write(city.course_url(code), code, 1)
        for code in CODES:
            wait_until(lambda: _caught_up(city, code), what=f"{code} at the city")
        city.cut(CODES[1])
        _write(city.course_url(CODES[1]), CODES[1], 2)
        wait_until(lambda: next((l for l in city.links() if l.course == CODES[1] and not l.connected), None),
                   what="the cut link shown")
        assert counts(row_sets(city.city_db, CODES[1]))["attempts"] == 1
        city.restore(CODES[1])
        wait_until(lambda: _caught_up(city, CODES[1]), what="the cut course caught up")
    finally:
        city.stop()
    assert not city.city.running() and not any(c.running() for c in city.courses.values())

    again = LocalCity.start(cluster_folder / "demo", CODES)  # the demo run again: same clusters, new relays
    try:
        _write(again.course_url(CODES[0]), CODES[0], 3)
        for code in CODES:
            wait_until(lambda: _caught_up(again, code), what=f"{code} at the city after the restart")
        assert counts(row_sets(again.city_db, CODES[0]))["attempts"] == 2
        assert counts(row_sets(again.city_db, CODES[1]))["attempts"] == 2
    finally:
        again.stop()

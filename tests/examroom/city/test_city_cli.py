"""``examroom city``: a course published, the city prepared and subscribed, the links shown, a
slot's warning with exit status 1, all from the command line against real clusters."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from examroom.cli.city import size
from examroom.cli.main import main
from examroom.records.attempt_log import Records
from examroom.records.database import make_engine, session_factory
from examroom.simulation.busy_course import AttemptShape, BusyCourse
from tests.examroom.city.conftest import row_sets, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers

CODE = "4201001"


def test_a_course_joins_the_city_from_the_command_line_and_its_link_is_shown(clusters, capsys, tmp_path):
    course, city = clusters("course"), clusters("city")
    course_url, city_url = course.create_database(), city.create_database()
    assert main(["city", "publish", "--database", course_url, "--course-code", CODE]) == 0
    assert main(["city", "prepare", "--database", city_url]) == 0
    assert main(["city", "subscribe", "--database", city_url, "--course-code", CODE,
                 "--conninfo", course.conninfo()]) == 0
    course_db, city_db = make_engine(course_url), make_engine(city_url)
    clusters.engines += [course_db, city_db]
    BusyCourse(Records(session_factory(course_db)), CODE, shape=AttemptShape(seconds=2.0)).attempt(
        1, datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc))
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the city to catch up")
    capsys.readouterr()

    state = tmp_path / "links.json"
    status = ["city", "status", "--database", city_url, "--course", f"{CODE}={course_url}", "--json",
              "--state", str(state)]
    wait_until(lambda: main(status) == 0, what="the link shown connected")
    capsys.readouterr()
    assert main(status) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown[0]["course"] == CODE and shown[0]["connected"] and shown[0]["warning"] is None
    assert shown[0]["newest_record"].startswith("2026-12-01T01:00:02")
    assert CODE in json.loads(state.read_text())  # the last contact kept for the next run

    assert main(["city", "slots", "--database", course_url, "--warn-wal", "1B"]) == 1
    assert "为城市中心保留了" in capsys.readouterr().out
    assert main(["city", "subscribe", "--database", city_url, "--course-code", CODE,
                 "--conninfo", course.conninfo()]) == 2
    assert "已经订阅了考场" in capsys.readouterr().err


def test_sizes_are_read_with_binary_units():
    assert size("1GiB") == size("1G") == 1 << 30
    assert size("512 MB") == 512 << 20 and size("4096") == 4096
    with pytest.raises(ValueError, match="expected a number"):
        size("lots")

"""The single-course demo on PostgreSQL (issue 16 item 7): the demo course in lockstep keeps its
records in a PostgreSQL database, sealed under its course code, and they verify there; ``examroom
demo --database`` refuses a database that already holds rows."""

import json

import pytest
from sqlalchemy import select, text

from examroom.cli.main import main
from examroom.records.database import make_engine, session_factory
from examroom.records.models import Attempt, Seal
from examroom.records.verify import verify
from examroom.simulation.lockstep import LockstepCourse
from examroom.simulation.scenarios import scenario

pytestmark = pytest.mark.postgres

CODE = "4201001"


def test_the_demo_course_runs_on_postgresql(tmp_path, postgres_urls):
    (url,) = postgres_urls(1)
    course = LockstepCourse(tmp_path, database_url=url, course_code=CODE).start()
    try:
        outcomes = [course.drivers[vehicle].drive(scenario(course.class_of(vehicle), name))
                    for vehicle, name in (("V1", "clean"), ("V2", "pole_touch"))]
    finally:
        course.stop()
    assert [o.status.value for o in outcomes] == ["passed", "failed"]
    engine = make_engine(url)
    sessions = session_factory(engine)
    assert sessions.kw["info"]["course_code"] == CODE
    with sessions() as session:
        attempts = session.scalars(select(Attempt).order_by(Attempt.id)).all()
        assert [(a.course_key, a.id) for a in attempts] == [(CODE, o.attempt_id) for o in outcomes]
        payloads = [json.loads(s.payload) for s in session.scalars(select(Seal).order_by(Seal.seq))]
        assert [(p["version"], p["course_code"], p["seq"]) for p in payloads] == [(4, CODE, 1), (4, CODE, 2)]
    report = verify(sessions)
    assert report.ok and report.checked == [o.attempt_id for o in outcomes], [str(p) for p in report.problems]
    assert (tmp_path / "course-seal-key.pem").is_file()  # the key stays in the course's folder, not the database
    engine.dispose()


def test_the_demo_refuses_a_database_that_holds_rows(tmp_path, postgres_urls, capsys):
    (url,) = postgres_urls(1)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (line text)"))
        connection.execute(text("INSERT INTO notes VALUES ('kept')"))
    assert main(["demo", "--database", url, "--dir", str(tmp_path), "--rounds", "1"]) == 2
    assert "演示程序要一个空的数据库：notes（1 行）已有数据" in capsys.readouterr().err
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM notes")).scalar_one() == 1
        assert connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one() == 1
    engine.dispose()

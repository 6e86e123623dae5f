"""Every record keyed by its course (docs/city.md): sessions, version-4 seals (5 without a code), the journal's form 2,
re-keying a course that had no code, and records sealed before all of it still verifying."""

import json

import pytest
from sqlalchemy import inspect, select, text

from examroom.records.attempt_log import Records
from examroom.records.database import (
    CourseCodeError, claim_course, database_course, make_engine, session_factory, upgrade,
)
from examroom.records.journal_chain import genesis
from examroom.records.models import Attempt, JournalEntry, Seal, Vehicle
from examroom.records.sealing import Sealer, load_or_create_key
from examroom.records.verify import verify
from tests.examroom.attempts import finished_attempt

CODE = "4201001"


def _first_prev_hash(sessions, attempt_id):
    with sessions() as session:
        return session.scalar(select(JournalEntry.prev_hash).where(JournalEntry.attempt_id == attempt_id,
                                                                   JournalEntry.seq == 1))


def test_a_course_with_a_code_seals_version_4_and_names_its_attempts_in_the_journal(engine, tmp_path):
    claim_course(engine, CODE)
    sessions = session_factory(engine)
    assert sessions.kw["info"]["course_code"] == CODE
    records = Records(sessions)
    sealer = Sealer(sessions, load_or_create_key(tmp_path))
    attempt_id = finished_attempt(records)
    seal = sealer.seal(attempt_id)
    payload = json.loads(seal.payload)
    assert payload["version"] == 4 and payload["course_code"] == CODE and payload["record"]["course_code"] == CODE
    assert _first_prev_hash(sessions, attempt_id) == genesis(attempt_id, CODE) != genesis(attempt_id)
    with sessions() as session:  # a bare id still finds this course's row
        assert session.get(Attempt, attempt_id).course_key == CODE
        assert session.get(Vehicle, "V1").course_key == CODE
    report = verify(sessions)
    assert report.ok and report.checked == [attempt_id], [str(p) for p in report.problems]


def test_records_sealed_before_the_course_had_a_code_stay_verifiable_after_it_gets_one(engine, tmp_path):
    sessions = session_factory(engine)
    assert sessions.kw["info"]["course_code"] == ""
    key = load_or_create_key(tmp_path)
    old = [finished_attempt(Records(sessions)) for _ in range(2)]
    for attempt_id in old:
        unbound = json.loads(Sealer(sessions, key).seal(attempt_id).payload)
        assert unbound["version"] == 5 and "course_code" not in unbound and "course_code" not in unbound["record"]
    claim_course(engine, CODE)  # re-keys every row past the append-only and sealed-attempt triggers
    assert database_course(engine) == CODE
    sessions = session_factory(engine)
    new = finished_attempt(Records(sessions))
    seal = Sealer(sessions, key).seal(new)
    assert json.loads(seal.payload)["version"] == 4 and seal.seq == 3  # the course's chain goes on
    report = verify(sessions)
    assert report.ok and report.checked == old + [new], [str(p) for p in report.problems]
    with engine.connect() as connection:  # the triggers are back: a sealed attempt stays frozen
        with pytest.raises(Exception, match="sealed"):
            connection.execute(text("UPDATE attempts SET score = 1 WHERE id = :a"), {"a": old[0]})


def test_a_database_keeps_its_course(engine):
    claim_course(engine, CODE)
    claim_course(engine, "")  # a site without a code uses the database's
    with pytest.raises(CourseCodeError, match="属于考场 4201001"):
        claim_course(engine, "4201002")


def test_a_journal_names_its_course(engine, tmp_path):
    """The rows of course A's attempt 1 do not pass for course B's attempt 1: the chain names the course."""
    from examroom.records.verify import _check_journal

    claim_course(engine, CODE)
    sessions = session_factory(engine)
    attempt_id = finished_attempt(Records(sessions))
    with sessions() as session:
        assert _check_journal(session, attempt_id, CODE, CODE) == []
        assert _check_journal(session, attempt_id, CODE, "4201002")[0] == (
            "journal seq 1", "prev_hash does not link to the row before (row inserted, removed or edited)")


@pytest.mark.postgres
def test_journal_ids_are_64_bit_on_postgresql(postgres_engine):
    upgrade(postgres_engine, CODE)
    columns = {c["name"]: c for c in inspect(postgres_engine).get_columns("journal")}
    assert str(columns["id"]["type"]) == "BIGINT"
    assert inspect(postgres_engine).get_pk_constraint("attempts")["constrained_columns"] == ["course_key", "id"]
    with postgres_engine.connect() as connection:
        assert connection.execute(text("SELECT data_type FROM information_schema.sequences "
                                       "WHERE sequence_name = 'journal_id_seq'")).scalar_one() == "bigint"
    sessions = session_factory(postgres_engine)
    records = Records(sessions)
    with postgres_engine.begin() as connection:
        connection.execute(text("SELECT setval('journal_id_seq', 3000000000)"))
    attempt_id = finished_attempt(records)
    with sessions() as session:
        assert min(session.scalars(select(JournalEntry.id).where(JournalEntry.attempt_id == attempt_id))) > 2 ** 31


def test_migrating_an_old_database_gives_its_rows_the_course_code(tmp_path):
    """A database at 0012 upgraded with the site's code: the old rows carry it, without an UPDATE."""
    from alembic import command

    from examroom.records.database import alembic_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    config = alembic_config(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012_login_sessions")
        connection.execute(text("INSERT INTO vehicles (id, plate, vehicle_class, model) VALUES ('V1', 'P', 'E', 'M')"))
    upgrade(engine, CODE)
    assert database_course(engine) == CODE
    with session_factory(engine)() as session:
        assert session.get(Vehicle, "V1").course_key == CODE
    engine.dispose()


def test_an_attempt_journaled_before_the_course_had_its_code_and_sealed_after_verifies(engine, tmp_path):
    """A crash between finish and seal, then the upgrade gives the course its code: the recovery
    seals it as version 4 while its journal names it by number, as it was written."""
    attempt_id = finished_attempt(Records(session_factory(engine)))
    claim_course(engine, CODE)
    sessions = session_factory(engine)
    assert Sealer(sessions, load_or_create_key(tmp_path)).seal_unsealed() == [attempt_id]
    with sessions() as session:
        assert json.loads(session.get(Seal, attempt_id).payload)["version"] == 4
    assert _first_prev_hash(sessions, attempt_id) == genesis(attempt_id)
    report = verify(sessions)
    assert report.ok and report.checked == [attempt_id], [str(p) for p in report.problems]


@pytest.mark.postgres
def test_a_postgresql_course_gets_its_code_and_its_old_seals_still_verify(postgres_engine, tmp_path):
    upgrade(postgres_engine)  # e.g. first upgraded by `examroom users add`, which knows no site
    sessions = session_factory(postgres_engine)
    key = load_or_create_key(tmp_path)
    old = [finished_attempt(Records(sessions)) for _ in range(2)]
    for attempt_id in old:
        Sealer(sessions, key).seal(attempt_id)
    claim_course(postgres_engine, CODE)  # parents and children re-keyed together
    sessions = session_factory(postgres_engine)
    new = finished_attempt(Records(sessions))
    assert Sealer(sessions, key).seal(new).seq == 3
    report = verify(sessions)
    assert report.ok and report.checked == old + [new], [str(p) for p in report.problems]
    with postgres_engine.connect() as connection:  # the triggers fire again
        with pytest.raises(Exception, match="attempt is sealed"):
            connection.execute(text("UPDATE attempts SET score = 1 WHERE id = :a"), {"a": old[0]})
    with postgres_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM attempts WHERE course_key = ''")).scalar_one() == 0


@pytest.mark.postgres
def test_the_migrated_postgresql_schema_is_what_the_models_say(postgres_engine):
    """Composite keys, composite references and per-course unique constraints exactly as mapped
    (the scheduler's job table is apscheduler's own, not a model)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from examroom.records.models import Base

    upgrade(postgres_engine, CODE)
    with postgres_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "apscheduler_jobs" not in str(d)] == []

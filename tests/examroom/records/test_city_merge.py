"""Two courses' records meet in one PostgreSQL database (the city's) and every seal of both verifies;
two controllers sealing into one database at once never take the same seal number (docs/city.md)."""

import json
import threading

import pytest
from sqlalchemy import func, select, text

from examroom.records.attempt_log import Records
from examroom.records.copying import copy_rows, tables_in_order
from examroom.records.database import make_engine, prepare_city, session_factory, upgrade
from examroom.records.models import Seal, Vehicle
from examroom.records.sealing import Sealer, chain_heads, load_or_create_key
from examroom.records.verify import verify
from tests.examroom.attempts import finished_attempt

pytestmark = pytest.mark.postgres

COURSES = ("4201001", "4201002")


def _course(url, code, key_dir, attempts):
    """A course on its own PostgreSQL database: its vehicle V1 (its own plate), attempts sealed."""
    engine = make_engine(url)
    upgrade(engine, code)
    sessions = session_factory(engine)
    records = Records(sessions)
    sealer = Sealer(sessions, load_or_create_key(key_dir))
    ids = []
    for _ in range(attempts):
        ids.append(finished_attempt(records, plate=f"鄂A·{code[-1]}001学"))
        sealer.seal(ids[-1])
    return engine, sessions, ids


def _city(url):
    """The city's database: the same migrations; no course of its own."""
    engine = make_engine(url)
    prepare_city(engine)
    return engine


def test_two_courses_records_merge_into_one_database_and_every_seal_verifies(postgres_urls, tmp_path):
    a_url, b_url, city_url = postgres_urls(3)
    a, a_sessions, a_ids = _course(a_url, COURSES[0], tmp_path / "a", 3)
    b, b_sessions, b_ids = _course(b_url, COURSES[1], tmp_path / "b", 4)
    assert a_ids == [1, 2, 3] and b_ids == [1, 2, 3, 4]  # the same numbers: only the course tells them apart
    city = _city(city_url)
    keyed = [t for t in tables_in_order() if "course_key" in t.c]
    for engine in (a, b):
        copy_rows(engine, city, keyed)  # a plain merge: no key is rewritten
    sessions = session_factory(city)
    assert sessions.kw["info"]["course_code"] is None
    for code, ids, own in ((COURSES[0], a_ids, a_sessions), (COURSES[1], b_ids, b_sessions)):
        report = verify(sessions, course=code)
        assert report.ok and report.checked == ids, [str(p) for p in report.problems]
        with own() as course_session, sessions() as city_session:
            assert chain_heads(city_session, course_key=code) == chain_heads(course_session)
    with sessions() as session:
        vehicles = session.execute(select(Vehicle.course_key, Vehicle.plate).where(Vehicle.id == "V1")
                                   .order_by(Vehicle.course_key)).all()
        assert vehicles == [(COURSES[0], "鄂A·1001学"), (COURSES[1], "鄂A·2001学")]
        with pytest.raises(ValueError, match="name the course"):
            session.get(Vehicle, "V1")
        assert session.get(Vehicle, (COURSES[1], "V1")).plate == "鄂A·2001学"
    with pytest.raises(ValueError, match="name the course"):
        verify(sessions)
    # One course's view of the city: every query sees that course's rows only.
    b_view = Records(session_factory(city, COURSES[1]))
    assert b_view.attempt(1).vehicle.plate == "鄂A·2001学"
    assert [attempt.id for attempt in b_view.recent_attempts()] == b_ids[::-1]
    assert {attempt.course_key for attempt in b_view.search()} == {COURSES[1]}
    for engine in (a, b, city):
        engine.dispose()


def _finished(url, code, count):
    engine = make_engine(url)
    sessions = session_factory(engine, code)
    records = Records(sessions)
    return engine, sessions, [finished_attempt(records) for _ in range(count)]


def _seal_together(sealers_and_ids):
    """Each controller seals its attempts in its own thread, all starting at once."""
    start = threading.Barrier(len(sealers_and_ids))
    failures = []

    def run(sealer, ids):
        start.wait()
        for attempt_id in ids:
            try:
                sealer.seal(attempt_id)
            except Exception as exc:  # a collision would surface here (IntegrityError)
                failures.append(exc)

    threads = [threading.Thread(target=run, args=pair) for pair in sealers_and_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def test_two_courses_controllers_sealing_into_one_database_never_collide(postgres_urls, tmp_path):
    (url,) = postgres_urls(1, migrated=True)
    engine = make_engine(url)
    upgrade(engine)
    pairs, courses = [], []
    for code in COURSES:
        course_engine, sessions, ids = _finished(url, code, 40)
        pairs.append((Sealer(sessions, load_or_create_key(tmp_path / code)), ids))
        courses.append((course_engine, sessions, code, ids))
    assert _seal_together(pairs) == []
    with engine.connect() as connection:
        seals = connection.execute(select(Seal.course_key, Seal.chain, Seal.seq)).all()
    assert len(seals) == 80 and len(set(seals)) == 80
    for course_engine, sessions, code, ids in courses:
        assert sorted(seq for key, _, seq in seals if key == code) == list(range(1, 41))
        report = verify(sessions, course=code)
        assert report.ok and report.checked == ids, [str(p) for p in report.problems]
        course_engine.dispose()
    engine.dispose()


def test_two_controllers_of_one_course_sealing_at_once_never_take_the_same_number(postgres_urls, tmp_path):
    """The chain lock: two writers of one chain (a controller and a recovery) are serialised."""
    (url,) = postgres_urls(1)
    engine = make_engine(url)
    upgrade(engine, COURSES[0])
    first, sessions, ids = _finished(url, COURSES[0], 80)
    second = make_engine(url)
    key = load_or_create_key(tmp_path)
    pairs = [(Sealer(sessions, key), ids[0::2]), (Sealer(session_factory(second), key), ids[1::2])]
    assert _seal_together(pairs) == []
    with engine.connect() as connection:
        numbers = connection.execute(select(Seal.seq).order_by(Seal.seq)).scalars().all()
        assert connection.execute(select(func.count()).select_from(Seal)).scalar_one() == 80
    assert numbers == list(range(1, 81))
    report = verify(sessions)
    assert report.ok and report.checked == ids, [str(p) for p in report.problems]
    for e in (engine, first, second):
        e.dispose()


def test_the_city_proves_a_courses_records_against_its_public_key_alone(postgres_urls, tmp_path, capsys):
    """``examroom verify --course --public-key`` at the city: a record re-sealed with a key put into
    the database passes when the database's keys are trusted, and is caught against the course's key."""
    from examroom.cli.main import main
    from examroom.records.models import Attempt
    from examroom.records.sealing import PUBLIC_KEY_FILE
    from tests.examroom.attempts import allow_tampering

    a_url, b_url, city_url = postgres_urls(3)
    a, _, a_ids = _course(a_url, COURSES[0], tmp_path / "a", 3)
    b, _, b_ids = _course(b_url, COURSES[1], tmp_path / "b", 2)
    city = _city(city_url)
    keyed = [t for t in tables_in_order() if "course_key" in t.c]
    for engine in (a, b):
        copy_rows(engine, city, keyed)
    a_key, b_key = (str(tmp_path / side / PUBLIC_KEY_FILE) for side in ("a", "b"))
    pinned = ["verify", "--all", "--database", city_url, "--json"]
    assert main(pinned + ["--course", COURSES[0], "--public-key", a_key]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["course"] == COURSES[0] and report["checked"] == a_ids
    assert main(pinned + ["--course", COURSES[1], "--public-key", b_key]) == 0
    assert json.loads(capsys.readouterr().out)["checked"] == b_ids
    assert main(pinned + ["--course", COURSES[1], "--public-key", a_key]) == 1  # another course's key
    capsys.readouterr()
    assert main(pinned) == 2
    assert "give --course CODE" in capsys.readouterr().err
    # A slip names its course: at the city, course B's attempt 1 is found, not course A's.
    with session_factory(city, COURSES[1])() as session:
        slip = session.get(Seal, 1).slip
    assert main(["verify", "--slip", slip, "--database", city_url, "--public-key", b_key]) == 0
    assert "slip OK: signed by the course and matching the sealed record" in capsys.readouterr().out
    # Someone with the database rewrites course A's newest record and seals it again with a key of
    # their own, which they also put into the database.
    last = a_ids[-1]
    with city.begin() as connection:
        allow_tampering(connection)
        connection.execute(text("DELETE FROM seals WHERE course_key = :c AND attempt_id = :a"),
                           {"c": COURSES[0], "a": last})
        connection.execute(text("UPDATE attempts SET score = 100 WHERE course_key = :c AND id = :a"),
                           {"c": COURSES[0], "a": last})
    Sealer(session_factory(city, COURSES[0]), load_or_create_key(tmp_path / "forger")).seal(last)
    trusting = verify(session_factory(city), course=COURSES[0])
    assert trusting.ok  # the database's own keys cannot tell
    assert main(pinned + ["--course", COURSES[0], "--public-key", a_key]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["attempt"], p["where"]) for p in problems] == [(last, "seal"), (last, "signature")]
    with session_factory(city, COURSES[0])() as session:
        assert session.get(Attempt, last).score == 100
    for engine in (a, b, city):
        engine.dispose()

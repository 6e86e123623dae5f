"""Sealing finished attempts, and verifying them offline: every stored edit is named."""

import hashlib
import json
import stat
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from examroom.cli.main import main
from examroom.records.database import session_factory, upgrade
from examroom.records.models import Attempt, Booking, Seal
from examroom.records.attempt_log import CandidateInfo, Records
from examroom.records.sealing import (
    GENESIS_SEAL, LEGACY_CHAIN, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SealError, Sealer, canonical, chain_heads, key_id,
    load_or_create_key, load_public_key, record_of, seal_digest,
)
from examroom.records.verify import verify
from tests.examroom.attempts import allow_tampering, finished_attempt, id_number


@pytest.fixture
def sealed(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    sealer = Sealer(sessions, load_or_create_key(tmp_path / "data"), rule_set_sha256="ab" * 32)
    ids = [finished_attempt(records) for _ in range(3)]
    for attempt_id in ids:
        sealer.seal(attempt_id)
    return engine, sessions, sealer, ids


def _problems(sessions, **kw):
    report = verify(sessions, **kw)
    return [str(p) for p in report.problems], report


def test_untouched_records_verify(sealed):
    _, sessions, _, ids = sealed
    problems, report = _problems(sessions)
    assert problems == [] and report.checked == ids


def test_key_is_created_once_owner_only_and_exported(tmp_path):
    key = load_or_create_key(tmp_path)
    mode = stat.S_IMODE((tmp_path / PRIVATE_KEY_FILE).stat().st_mode)
    assert mode == 0o600
    again = load_or_create_key(tmp_path)
    assert again.private_bytes_raw() == key.private_bytes_raw()
    public = load_public_key((tmp_path / PUBLIC_KEY_FILE).read_text())
    assert public.public_bytes_raw() == key.public_key().public_bytes_raw()


def test_a_running_attempt_cannot_be_sealed_and_nothing_twice(sealed):
    _, _, sealer, ids = sealed
    with pytest.raises(SealError, match="already sealed"):
        sealer.seal(ids[0])


@pytest.mark.parametrize("edit, expected", [
    ("UPDATE journal SET line = replace(line, '\"gear\":\"1\"', '\"gear\":\"2\"') WHERE seq = 7 AND attempt_id = {a}",
     "journal seq 7: the line does not match its hash"),
    ("UPDATE journal SET t = t + 1 WHERE seq = 3 AND attempt_id = {a}",
     "journal seq 3: columns kind/t/utc"),
    ("DELETE FROM journal WHERE seq = 30 AND attempt_id = {a}",
     "record.journal.rows: stored 29, sealed 30"),
    ("DELETE FROM journal WHERE seq = 12 AND attempt_id = {a}",
     "journal seq 13: expected seq 12"),
    ("UPDATE deductions SET points = 5 WHERE attempt_id = {a}",
     "record.deductions[0].points: stored 5, sealed 10"),
    ("UPDATE attempts SET score = 100 WHERE id = {a}",
     "record.score: stored 100, sealed 90"),
    ("UPDATE candidates SET name = '李四' WHERE id = (SELECT candidate_id FROM attempts WHERE id = {a})",
     'record.candidate.name: stored "李四", sealed "张三"'),
    ("UPDATE seals SET signature = substr(signature, 1, 10) || "
     "(CASE substr(signature, 11, 1) WHEN 'a' THEN 'b' ELSE 'a' END) || substr(signature, 12) WHERE attempt_id = {a}",
     "signature: the Ed25519 signature does not match"),
    ("UPDATE seals SET payload = replace(payload, '\"score\":90', '\"score\":95') WHERE attempt_id = {a}",
     "signature: the Ed25519 signature does not match"),
])
def test_every_kind_of_edit_is_named(sealed, edit, expected):
    engine, sessions, _, ids = sealed
    target = ids[1]
    with engine.begin() as conn:
        allow_tampering(conn)
        assert conn.exec_driver_sql(edit.format(a=target)).rowcount == 1
    problems, _ = _problems(sessions)
    assert any(p.startswith(f"attempt {target}: {expected}") for p in problems), problems
    assert not any(p.startswith(f"attempt {ids[0]}:") for p in problems), problems


@pytest.mark.parametrize("statement", [
    "UPDATE journal SET line = line WHERE seq = 1",
    "DELETE FROM journal WHERE seq = 1",
    "UPDATE seals SET signature = signature",
    "DELETE FROM seals",
])
def test_the_database_refuses_to_change_the_journal_or_the_seals(sealed, statement):
    engine, _, _, _ = sealed
    with pytest.raises(Exception, match="is append-only"):
        with engine.begin() as conn:
            conn.exec_driver_sql(statement)


def test_removing_a_whole_sealed_attempt_breaks_the_seal_chain(sealed):
    engine, sessions, _, ids = sealed
    with engine.begin() as conn:
        allow_tampering(conn)
        conn.execute(text(f"DELETE FROM seals WHERE attempt_id = {ids[1]}"))
    problems, _ = _problems(sessions, attempts=[ids[2]])
    assert problems == [f"attempt {ids[2]}: seal chain: seal 2 (the one before) is missing: a sealed attempt was removed"]
    problems, _ = _problems(sessions, attempts=[ids[1]])
    assert problems == [f"attempt {ids[1]}: seal: the attempt ended as passed but has no seal"]


def test_a_pinned_key_refuses_records_resigned_with_another_key(sealed, tmp_path):
    _, sessions, _, ids = sealed
    other = load_or_create_key(tmp_path / "other").public_key()
    problems, _ = _problems(sessions, attempts=[ids[0]], public_key=other)
    assert any("not the pinned key" in p for p in problems)
    assert any("signature" in p for p in problems)


@pytest.mark.postgres
def test_seal_and_verify_on_postgresql(postgres_engine, tmp_path):
    upgrade(postgres_engine)
    sessions = session_factory(postgres_engine)
    sealer = Sealer(sessions, load_or_create_key(tmp_path))
    attempt = finished_attempt(Records(sessions))
    sealer.seal(attempt)
    assert verify(sessions).ok
    with pytest.raises(Exception, match="journal is append-only"):
        with postgres_engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM journal WHERE attempt_id = {attempt}")
    with pytest.raises(Exception, match="attempt is sealed"):
        with postgres_engine.begin() as conn:
            conn.execute(text(f"UPDATE deductions SET title = '熄火!' WHERE attempt_id = {attempt}"))
    with postgres_engine.begin() as conn:
        allow_tampering(conn)
        conn.execute(text(f"UPDATE deductions SET title = '熄火!' WHERE attempt_id = {attempt}"))
    assert [p.where for p in verify(sessions).problems] == ["record.deductions[0].title"]


# -- issue 13.1: every change is seen, the chain is per course and anchored outside ------------

def _tamper(engine, *statements):
    with engine.begin() as conn:
        allow_tampering(conn)
        for statement in statements:
            conn.exec_driver_sql(statement)


def test_a_sealed_attempt_set_back_to_running_then_edited_is_named(sealed):
    engine, sessions, _, ids = sealed
    target = ids[2]
    _tamper(engine, f"UPDATE attempts SET status = 'running', score = 100 WHERE id = {target}",
            f"UPDATE journal SET line = replace(line, '\"gear\":\"1\"', '\"gear\":\"2\"') "
            f"WHERE seq = 5 AND attempt_id = {target}")
    problems, report = _problems(sessions)
    assert target in report.checked and target not in report.unfinished
    for expected in ('record.status: stored "running", sealed "passed"', "record.score: stored 100, sealed 90",
                     "journal seq 5: the line does not match its hash"):
        assert any(p.startswith(f"attempt {target}: {expected}") for p in problems), (expected, problems)


def test_the_database_refuses_to_unseal_or_change_a_sealed_attempt(sealed):
    engine, _, _, ids = sealed
    target = ids[0]
    for statement in (f"UPDATE attempts SET status = 'running' WHERE id = {target}",
                      f"DELETE FROM attempts WHERE id = {target}",
                      f"UPDATE deductions SET points = 0 WHERE attempt_id = {target}",
                      f"DELETE FROM deductions WHERE attempt_id = {target}",
                      f"INSERT INTO deductions (attempt_id, rule, code, title, points, disqualify, item, t, utc, value)"
                      f" VALUES ({target}, 'x', '', 'x', 100, 0, '', 1.0, '2026-11-29 03:00:00', '')",
                      f"INSERT INTO journal (attempt_id, seq, kind, t, utc, line) "
                      f"VALUES ({target}, 31, 'signals', 9.0, '2026-11-29 03:00:09', '{{}}')"):
        with pytest.raises(Exception, match="attempt is sealed"):
            with engine.begin() as conn:
                conn.exec_driver_sql(statement)


def test_an_unsealed_attempt_still_changes_as_it_finishes(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    attempt = finished_attempt(records)  # check-in, running, journal, deductions, finish: all allowed
    with engine.begin() as conn:
        assert conn.exec_driver_sql(f"UPDATE attempts SET reason = 'x' WHERE id = {attempt}").rowcount == 1


def _head(sessions, chain="demo"):
    with sessions() as session:
        return chain_heads(session)[chain]["digest"]


def _remove_attempt(engine, attempt):
    _tamper(engine, *(f"DELETE FROM {table} WHERE attempt_id = {attempt}" for table in ("seals", "journal", "deductions")),
            f"DELETE FROM attempts WHERE id = {attempt}")


def test_removing_the_newest_sealed_attempt_shows_against_the_anchored_head(sealed):
    engine, sessions, _, ids = sealed
    head = _head(sessions)
    assert verify(sessions, heads=[head]).ok
    _remove_attempt(engine, ids[2])
    assert verify(sessions).ok  # without an anchor the shortened chain looks whole: that is why heads leave
    problems, _ = _problems(sessions, heads=[head])
    assert problems == [f"records: seal chain head: the anchored head {head[:16]}… is not among the seals: the "
                        "sealed attempts it closed (the newest when it was handed out) were removed or their seal "
                        "replaced"]


def test_an_anchored_head_names_seals_missing_before_it(sealed):
    engine, sessions, _, ids = sealed
    head = _head(sessions)
    _remove_attempt(engine, ids[0])
    problems, _ = _problems(sessions, heads=[head])
    assert "records: seal chain head: chain 'demo' up to the anchored head (seal 3) is missing seal(s) 1: " \
           "sealed attempts were removed" in problems
    assert f"attempt {ids[1]}: seal chain: seal 1 (the one before) is missing: a sealed attempt was removed" in problems


def test_seals_chain_per_course_each_naming_the_one_before(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    sealer = Sealer(sessions, load_or_create_key(tmp_path))
    first = finished_attempt(records)
    with engine.begin() as conn:  # a second course's attempt, before it is sealed
        other = finished_attempt(records)
        conn.exec_driver_sql(f"UPDATE attempts SET course = 'north' WHERE id = {other}")
    third = finished_attempt(records)
    seals = {a: sealer.seal(a) for a in (first, other, third)}
    assert [(seals[a].chain, seals[a].seq) for a in (first, other, third)] == [("demo", 1), ("north", 1), ("demo", 2)]
    payload = json.loads(seals[third].payload)
    assert payload["version"] == 5 and payload["chain"] == "demo" and payload["seq"] == 2  # no course code
    assert payload["prev_seal"] == seal_digest(seals[first])
    assert json.loads(seals[other].payload)["prev_seal"] == GENESIS_SEAL
    with sessions() as session:
        assert set(chain_heads(session)) == {"demo", "north"}
    assert verify(sessions).ok


def _legacy_seal(sessions, key, attempt_id, seq, prev):
    """A seal as made before chains per course (payload version 1), written as that code wrote it."""
    with sessions.begin() as session:
        attempt = session.get(Attempt, attempt_id)
        payload = {"version": 1, "record": record_of(session, attempt, version=1), "rule_set_sha256": "",
                   "sealed_utc": "2026-11-29T03:01:00.000000Z", "seq": seq, "prev_seal": prev}
        body = canonical(payload)
        seal = Seal(attempt_id=attempt_id, chain=LEGACY_CHAIN, seq=seq, payload=body,
                    signature=key.sign(body.encode()).hex(), key_id=key_id(key.public_key()),
                    sealed_utc=datetime(2026, 11, 29, 3, 1, tzinfo=timezone.utc))
        session.add(seal)
    return seal


def test_records_sealed_before_the_chains_per_course_still_verify(engine, tmp_path):
    sessions = session_factory(engine)
    records = Records(sessions)
    key = load_or_create_key(tmp_path)
    sealer = Sealer(sessions, key)  # keeps the public key in the database
    old = [finished_attempt(records) for _ in range(2)]
    first = _legacy_seal(sessions, key, old[0], 1, GENESIS_SEAL)
    _legacy_seal(sessions, key, old[1], 2, seal_digest(first))
    new = finished_attempt(records)
    assert sealer.seal(new).seq == 1  # the course's own chain starts afresh
    assert verify(sessions).ok
    _tamper(engine, f"UPDATE attempts SET score = 50 WHERE id = {old[1]}",
            f"DELETE FROM seals WHERE attempt_id = {old[0]}")
    problems, _ = _problems(sessions)
    assert f"attempt {old[1]}: record.score: stored 50, sealed 90" in problems
    assert f"attempt {old[1]}: seal chain: seal 1 (the one before) is missing: a sealed attempt was removed" in problems


def test_records_sealed_before_the_face_checks_still_verify(engine, tmp_path):
    """A version-2 seal (before migration 0014 added the 1:1 face checks) verifies as it was made,
    after the new version-5 seals (a course without a code) of the same chain; its check-in photo's deletion does not break it."""
    from examroom.faces.personal_data import delete_booking_faces
    from tests.examroom.attempts import confirmed_booking

    sessions = session_factory(engine)
    records = Records(sessions)
    key = load_or_create_key(tmp_path)
    Sealer(sessions, key)
    candidate = records.ensure_candidate(CandidateInfo("赵六", id_number(95), "6200000095", "E"))
    booking = confirmed_booking(records, candidate, "考试员甲")
    with sessions.begin() as session:
        photo = b"\xff\xd8 a check-in photo"
        stored = session.get(Booking, booking)
        stored.photo, stored.photo_sha256 = photo, hashlib.sha256(photo).hexdigest()
    old = finished_attempt(records, booking_id=booking, candidate_id=candidate)
    with sessions.begin() as session:
        attempt = session.get(Attempt, old)
        payload = {"version": 2, "record": record_of(session, attempt, version=2), "rule_set_sha256": "",
                   "sealed_utc": "2026-11-29T03:01:00.000000Z", "chain": attempt.course, "seq": 1,
                   "prev_seal": GENESIS_SEAL}
        assert "identity" not in payload["record"] and payload["record"]["evidence"][0]["bytes"] == len(photo)
        body = canonical(payload)
        session.add(Seal(attempt_id=old, chain=attempt.course, seq=1, payload=body,
                         signature=key.sign(body.encode()).hex(), key_id=key_id(key.public_key()),
                         sealed_utc=datetime(2026, 11, 29, 3, 1, tzinfo=timezone.utc)))
    new = finished_attempt(records)
    assert json.loads(Sealer(sessions, key).seal(new).payload)["version"] == 5
    assert verify(sessions).ok
    with sessions.begin() as session:
        delete_booking_faces(session, booking, datetime(2027, 3, 1, tzinfo=timezone.utc))
    with sessions() as session:
        assert session.get(Booking, booking).photo is None
    assert verify(sessions).ok


def test_the_rule_set_and_course_snapshots_are_sealed(sealed):
    engine, sessions, _, ids = sealed
    _tamper(engine, f"UPDATE attempts SET course_snapshot = '{{\"name\": \"demo\"}}' WHERE id = {ids[0]}",
            f"UPDATE attempts SET rule_set_snapshot = '{{\"id\": \"x\"}}' WHERE id = {ids[1]}")
    problems, _ = _problems(sessions)
    assert any(p.startswith(f"attempt {ids[0]}: record.course_snapshot_sha256: stored \"") for p in problems), problems
    assert any(p.startswith(f"attempt {ids[1]}: record.rule_set_snapshot_sha256: stored \"") for p in problems)


# -- the command: exit 0 intact, 1 tampered, 2 cannot check ---------------------------------------

def test_verify_command_exit_status(sealed, sqlite_url, tmp_path, capsys):
    engine, sessions, _, ids = sealed
    head = _head(sessions)
    assert main(["verify", "--all", "--database", sqlite_url, "--head", head]) == 0
    out = capsys.readouterr().out
    assert f"chain demo: 3 seal(s), head {head}" in out and "verified 3 attempt(s): OK" in out
    _tamper(engine, f"UPDATE attempts SET status = 'running' WHERE id = {ids[2]}")
    assert main(["verify", "--all", "--database", sqlite_url]) == 1
    assert f'attempt {ids[2]}: record.status: stored "running", sealed "passed"' in capsys.readouterr().out
    _remove_attempt(engine, ids[2])
    assert main(["verify", "--all", "--database", sqlite_url]) == 0
    assert main(["verify", "--all", "--database", sqlite_url, "--head", head]) == 1
    assert "seal chain head: the anchored head" in capsys.readouterr().out


@pytest.mark.parametrize("url, reason", [
    ("sqlite:///{tmp}/absent.sqlite3", "there is no database file {tmp}/absent.sqlite3"),
    ("sqlite:///{tmp}/notes.txt", "cannot read the records at"),
    ("not a url", "is not a URL"),
    ("nosuchdb://x/y", "nosuchdb"),
    ("postgresql+psycopg://postgres@127.0.0.1:1/none", "cannot read the records at"),
])
def test_verify_command_cannot_check(url, reason, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a database\n" * 100)
    before = sorted(tmp_path.iterdir())
    assert main(["verify", "--all", "--database", url.format(tmp=tmp_path)]) == 2
    assert reason.format(tmp=tmp_path) in capsys.readouterr().err
    assert sorted(tmp_path.iterdir()) == before  # nothing created, not even an empty database


def test_verify_command_refuses_a_database_without_records(tmp_path, capsys):
    import sqlite3

    sqlite3.connect(tmp_path / "empty.sqlite3").close()
    assert main(["verify", "--all", "--database", f"sqlite:///{tmp_path / 'empty.sqlite3'}"]) == 2
    assert "no such table: seals" in capsys.readouterr().err


def test_the_public_key_file_is_written_and_pins_verify(sealed, sqlite_url, tmp_path, capsys):
    _, _, sealer, _ = sealed
    out = tmp_path / "course.pub.pem"
    assert main(["seal-key", "--data-dir", str(tmp_path / "data"), "--out", str(out)]) == 0
    assert f"public key {sealer.key_id}" in capsys.readouterr().out
    assert key_id(load_public_key(out.read_text())) == sealer.key_id
    assert main(["verify", "--all", "--database", sqlite_url, "--public-key", str(out)]) == 0
    load_or_create_key(tmp_path / "other")
    assert main(["seal-key", "--data-dir", str(tmp_path / "other"), "--out", str(tmp_path / "other.pem")]) == 0
    assert main(["verify", "--all", "--database", sqlite_url, "--public-key", str(tmp_path / "other.pem")]) == 1
    assert "not the pinned key" in capsys.readouterr().out
    assert main(["seal-key", "--data-dir", str(tmp_path / "nokey"), "--out", str(tmp_path / "x.pem")]) == 2
    assert not (tmp_path / "nokey").exists() and not (tmp_path / "x.pem").exists()


@pytest.mark.postgres
def test_unsealing_is_refused_and_the_head_checked_on_postgresql(postgres_engine, tmp_path):
    upgrade(postgres_engine)
    sessions = session_factory(postgres_engine)
    sealer = Sealer(sessions, load_or_create_key(tmp_path))
    ids = [finished_attempt(Records(sessions)) for _ in range(2)]
    for attempt in ids:
        sealer.seal(attempt)
    head = _head(sessions)
    for statement in (f"UPDATE attempts SET status = 'running' WHERE id = {ids[1]}",
                      f"DELETE FROM attempts WHERE id = {ids[1]}",
                      f"DELETE FROM deductions WHERE attempt_id = {ids[1]}",
                      f"INSERT INTO journal (course_key, attempt_id, seq, kind, t, utc, line) "
                      f"VALUES ('', {ids[1]}, 31, 'signals', 9.0, now(), '{{}}')"):
        with pytest.raises(Exception, match="attempt is sealed"):
            with postgres_engine.begin() as conn:
                conn.exec_driver_sql(statement)
    _tamper(postgres_engine, f"UPDATE attempts SET status = 'running', score = 100 WHERE id = {ids[1]}")
    assert [p.where for p in verify(sessions).problems] == ["record.score", "record.status"]
    url = postgres_engine.url.render_as_string(hide_password=False)
    assert main(["verify", "--all", "--database", url, "--head", head]) == 1  # the status edit
    _remove_attempt(postgres_engine, ids[1])
    assert verify(sessions).ok
    assert [p.where for p in verify(sessions, heads=[head]).problems] == ["seal chain head"]
    assert main(["verify", "--all", "--database", url]) == 0
    assert main(["verify", "--all", "--database", url, "--head", head]) == 1
    assert main(["verify", "--all", "--database", url.rsplit("/", 1)[0] + "/no_such_database_here"]) == 2


def _copy_into_0009(source_engine, target_engine):
    """The rows of a head database, written into a database at revision 0009 (before chains per course)."""
    from alembic import command
    from sqlalchemy import MetaData

    from examroom.records.database import alembic_config

    config = alembic_config(target_engine.url.render_as_string(hide_password=False))
    with target_engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009_face_review")
    old = MetaData()
    old.reflect(target_engine)
    with source_engine.connect() as src, target_engine.begin() as dst:
        for table in ("candidates", "vehicles", "attempts", "journal", "deductions", "seal_keys", "seals"):
            # Read through the 0009 table's own column types, so JSON comes back as data, not text.
            rows = [dict(r._mapping) for r in src.execute(select(old.tables[table]))]
            if rows:
                dst.execute(old.tables[table].insert(), rows)
        if dst.dialect.name == "postgresql":  # rows came with their ids: move the id sequences past them
            for table in ("candidates", "attempts", "journal", "deductions"):
                dst.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))")


def _legacy_database_is_upgraded_and_verifies(source, target, tmp_path):
    sessions = session_factory(source)
    records = Records(sessions)
    key = load_or_create_key(tmp_path)
    Sealer(sessions, key)
    old = [finished_attempt(records) for _ in range(2)]
    first = _legacy_seal(sessions, key, old[0], 1, GENESIS_SEAL)
    _legacy_seal(sessions, key, old[1], 2, seal_digest(first))
    _copy_into_0009(source, target)
    upgrade(target)  # 0010: chains, snapshots, the sealed-attempt triggers
    migrated = session_factory(target)
    with migrated() as session:
        assert [(s.chain, s.seq) for s in session.scalars(select(Seal).order_by(Seal.seq))] == [("", 1), ("", 2)]
    report = verify(migrated)
    assert report.ok and report.checked == old
    new = finished_attempt(Records(migrated))
    assert Sealer(migrated, key).seal(new).seq == 1 and verify(migrated).ok
    with pytest.raises(Exception, match="attempt is sealed"):
        with target.begin() as conn:
            conn.exec_driver_sql(f"UPDATE attempts SET score = 1 WHERE id = {old[0]}")


def test_a_database_sealed_before_the_chains_is_migrated_and_verifies(engine, tmp_path):
    from examroom.records.database import make_engine

    target = make_engine(f"sqlite:///{tmp_path / 'before.sqlite3'}")
    try:
        _legacy_database_is_upgraded_and_verifies(engine, target, tmp_path)
    finally:
        target.dispose()


@pytest.mark.postgres
def test_a_postgresql_database_sealed_before_the_chains_is_migrated_and_verifies(engine, postgres_engine, tmp_path):
    _legacy_database_is_upgraded_and_verifies(engine, postgres_engine, tmp_path)

"""Sealing finished attempts, and verifying them offline: every stored edit is named."""

import stat

import pytest
from sqlalchemy import text

from examroom.database import session_factory, upgrade
from examroom.records import Records
from examroom.sealing import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, SealError, Sealer, load_or_create_key, load_public_key
from examroom.verify import verify
from tests.examroom.attempts import allow_tampering, finished_attempt


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
    with postgres_engine.begin() as conn:
        conn.execute(text(f"UPDATE deductions SET title = '熄火!' WHERE attempt_id = {attempt}"))
    assert [p.where for p in verify(sessions).problems] == ["record.deductions[0].title"]

"""``examroom db move-to``: a course's SQLite database copied to PostgreSQL, every id and seal kept,
proved by ``examroom verify`` on the target; a target that holds anything is refused (docs/city.md)."""

import json

import pytest
from sqlalchemy import select, text

from examroom.accounts.audit import AuditLog
from examroom.cli.main import main
from examroom.records.attempt_log import Records
from examroom.records.copying import row_counts
from examroom.records.database import claim_course, make_engine, session_factory
from examroom.records.evidence_seals import EvidenceSealer, SealedSegment
from examroom.records.models import Attempt, JournalEntry, Seal
from examroom.records.sealing import Sealer, chain_heads, load_or_create_key
from tests.examroom.attempts import confirmed_booking, finished_attempt

pytestmark = pytest.mark.postgres

CODE = "4201001"


@pytest.fixture
def course(engine, tmp_path):
    """A SQLite course: two attempts sealed before it had a code (version 2), then two with it (3);
    one video sealed before the code and one after (evidence seals)."""
    key = load_or_create_key(tmp_path / "data")
    sessions = session_factory(engine)
    old = [finished_attempt(Records(sessions)) for _ in range(2)]
    for attempt_id in old:
        Sealer(sessions, key).seal(attempt_id)
    _seal_video(sessions, key, old[0])
    claim_course(engine, CODE)
    sessions = session_factory(engine)
    records = Records(sessions)
    first = finished_attempt(records)
    booked = finished_attempt(records, candidate_id=None)
    for attempt_id in (first, booked):
        Sealer(sessions, key).seal(attempt_id)
    _seal_video(sessions, key, first)
    confirmed_booking(records, 1, "监考员甲")
    AuditLog(sessions).record(records_utc(sessions), "admin", "admin", "user.add", "监考员甲")
    return engine, sessions, old + [first, booked]


def _seal_video(sessions, key, attempt_id: int) -> None:
    segment = SealedSegment("top", attempt_id, f"2026-11-29/02/top/59.5{attempt_id}.mp4", "2026-11-29T02:59:50.000000Z",
                            "2026-11-29T03:00:10.000000Z", 4096, f"{attempt_id:02d}" * 32)
    EvidenceSealer(sessions, key).seal(attempt_id, {"top": [segment]}, (records_utc(sessions), records_utc(sessions)))


def records_utc(sessions):
    with sessions() as session:
        return session.scalar(select(Attempt.ended_utc).limit(1))


def test_a_course_moves_to_postgresql_with_every_id_and_seal_and_verify_proves_it(
        course, sqlite_url, postgres_urls, monkeypatch, capsys):
    engine, sessions, ids = course
    (target,) = postgres_urls(1)
    # The target's session zone is not UTC: a naive SQLite time must not be read in it.
    monkeypatch.setenv("PGTZ", "Asia/Shanghai")
    assert main(["db", "move-to", target, "--database", sqlite_url]) == 0
    out = capsys.readouterr().out
    assert f"(course {CODE})" in out and "verified 4 attempt(s) on the target: OK" in out
    moved = make_engine(target)
    assert row_counts(moved) == row_counts(engine)
    assert row_counts(moved)["evidence_seals"] == 2
    with engine.connect() as before, moved.connect() as after:
        for query in (select(Attempt.course_key, Attempt.id, Attempt.checked_in_utc),
                      select(JournalEntry.id, JournalEntry.hash), select(Seal.attempt_id, Seal.seq, Seal.signature)):
            rows = before.execute(query).all()
            assert after.execute(query).all() == [tuple(_aware(v) for v in row) for row in rows]
    with sessions() as session:
        head = next(iter(chain_heads(session).values()))["digest"]
    assert main(["verify", "--all", "--database", target, "--head", head, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["checked"] == ids
    # The moved course goes on where it stopped: the next attempt and journal rows follow the copied ids.
    moved_sessions = session_factory(moved)
    assert moved_sessions.kw["info"]["course_code"] == CODE
    next_attempt = finished_attempt(Records(moved_sessions))
    assert next_attempt == ids[-1] + 1
    moved.dispose()


def _aware(value):
    from datetime import datetime, timezone

    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def test_a_target_that_holds_anything_is_refused_and_nothing_changes(course, sqlite_url, postgres_urls, capsys):
    engine, _, _ = course
    (target,) = postgres_urls(1)
    other = make_engine(target)
    with other.begin() as connection:
        connection.execute(text("CREATE TABLE notes (line text)"))
        connection.execute(text("INSERT INTO notes VALUES ('kept')"))
    before = row_counts(engine)
    assert main(["db", "move-to", target, "--database", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert "目标数据库不是空的：notes（1 行）已有数据" in err and "两边都没有改动" in err
    with other.connect() as connection:
        tables = connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars()
        assert list(tables) == ["notes"]
    assert row_counts(engine) == before
    other.dispose()


def test_a_course_already_moved_is_not_moved_twice(course, sqlite_url, postgres_urls, capsys):
    (target,) = postgres_urls(1)
    assert main(["db", "move-to", target, "--database", sqlite_url]) == 0
    capsys.readouterr()
    assert main(["db", "move-to", target, "--database", sqlite_url]) == 2
    assert "目标数据库不是空的" in capsys.readouterr().err


def test_only_postgresql_is_a_target(course, sqlite_url, tmp_path, capsys):
    assert main(["db", "move-to", f"sqlite:///{tmp_path / 'other.sqlite3'}", "--database", sqlite_url]) == 2
    assert "is not a PostgreSQL URL" in capsys.readouterr().err

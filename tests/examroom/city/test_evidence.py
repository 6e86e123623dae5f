"""An attempt's evidence fetched by the city from its course's real web process over HTTP, cached,
and checked against the seal before it is shown; an unreachable course is a state, not an error.

The course runs on its own PostgreSQL database and serves its recordings as it does to auditors
(web/replay: ``/attempts/<id>/video.json`` and the segment files); its records reach the city's
database by ``records.copying`` (the stand-in for replication here)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from examroom.accounts.audit import AuditLog
from examroom.accounts.users import Accounts, Role
from examroom.city.evidence import (
    MANIFEST, MISMATCH, OFFLINE, STATE_TEXT, UNSEALED, VERIFIED, VIDEO_GONE_TEXT, VIDEO_UNSEALED, EvidenceFetcher,
    cached_manifests,
)
from examroom.city.attempt_classes import week_of
from examroom.city.warnings import video_gaps
from examroom.city.watch_settings import CourseLink
from examroom.cli.main import main
from examroom.live.feed import LiveFeed
from examroom.records.attempt_log import Records
from examroom.records.copying import copy_rows, tables_in_order
from examroom.records.database import make_engine, session_factory, upgrade
from examroom.records.evidence_seals import EvidenceSealer, sealed_segments
from examroom.records.models import Base, EvidenceSeal
from examroom.records.sealing import PUBLIC_KEY_FILE, load_key
from examroom.records.verify import verify
from examroom.video.evidence import seal_filed_evidence
from examroom.video.index import VideoIndex
from examroom.video.retention import RetentionGuard, RetentionPolicy
from examroom.video.segments import tree_path
from examroom_web import create_app
from tests.examroom.attempts import allow_tampering
from tests.examroom.city.city_records import MONDAY, CourseWriter, china, city_engine
from tests.examroom.city.test_warnings import SETTINGS
from tests.examroom.video.footage import write_time_coded_segment
from tests.web.browser import served

pytestmark = pytest.mark.postgres

COURSE, CITY = "4201001", "420100"
PASSWORD = "city auditor's long password"
SEGMENT = 20.0  # seconds


@pytest.fixture
def course_and_city(postgres_urls, tmp_path):
    course_url, city_url = postgres_urls(2)
    course = make_engine(course_url)
    upgrade(course, COURSE)
    writer = CourseWriter(course, COURSE, tmp_path / "key")
    at = china(MONDAY, 9)
    attempts = [writer.attempt("1", at), writer.attempt("2", at + timedelta(minutes=5)),
                writer.attempt("3", at + timedelta(minutes=10), seal=False)]
    recordings = tmp_path / "recordings"
    index = VideoIndex(session_factory(course))
    # Camera "top" covers the first attempt but its last 5 s; "chase-V1" all of it.
    for camera, begin, end in (("top", -5, 55), ("chase-V1", -5, 75)):
        start = at + timedelta(seconds=begin)
        while start < at + timedelta(seconds=end):
            relative = tree_path(camera, start)
            write_time_coded_segment(recordings / relative, start, SEGMENT, 5, 480, 64, crf="30")
            index.add_segment(camera, relative, start, start + timedelta(seconds=SEGMENT), SEGMENT,
                              (recordings / relative).stat().st_size)
            start += timedelta(seconds=SEGMENT)
    assert index.link_evidence(attempts[0], ["top", "chase-V1"], at, at + timedelta(seconds=60)) == 7
    Accounts(session_factory(course)).create("city-auditor", PASSWORD, Role.AUDITOR, display_name="市级抽检")
    app = create_app(Records(session_factory(course)), LiveFeed(),
                     {"SECRET_KEY": "course-secret", "RECORDINGS_DIR": str(recordings)})
    city = city_engine(city_url)
    copy_rows(course, city, [t for t in tables_in_order() if "course_key" in t.c])
    yield course, city, app, attempts, recordings
    for engine in (course, city):
        engine.dispose()


def fetcher(city, base: str, cache) -> EvidenceFetcher:
    return EvidenceFetcher(session_factory(city, None), cache, {COURSE: CourseLink(COURSE, base, "city-auditor", PASSWORD)},
                           timeout=10.0, audit=AuditLog(session_factory(city, CITY)))


def test_evidence_is_fetched_checked_cached_and_kept_when_the_course_goes_offline(course_and_city, tmp_path):
    course, city, app, attempts, recordings = course_and_city
    cache = tmp_path / "cache"
    at = china(MONDAY, 9)
    with served(app) as base:
        got = fetcher(city, base, cache).fetch(COURSE, attempts[0], actor="检查员甲", now=at + timedelta(days=7))
    # The records verify; today's seals name no video digest, so it is shown as unsealed video.
    assert got.state == VIDEO_UNSEALED and got.shown and not got.from_cache, got.problems
    assert len(got.journal) == 20 and got.journal[0].startswith('{"kind":"command"')
    assert sorted({v.camera for v in got.video}) == ["chase-V1", "top"] and len(got.video) == 7
    for v in got.video:  # in the cache as listed
        assert hashlib.sha256((got.folder / v.path).read_bytes()).hexdigest() == v.sha256
    # ... and the very bytes the course keeps
    assert {v.sha256 for v in got.video} == {hashlib.sha256(p.read_bytes()).hexdigest()
                                             for p in recordings.rglob("*.mp4")}
    # "top" leaves the attempt's last 5 s uncovered.
    assert [(g["camera"], g["seconds"]) for g in got.video_gaps] == [("top", 5.0)]
    # The course is gone now: the cached evidence is still checked and shown.
    again = fetcher(city, base, cache).fetch(COURSE, attempts[0], now=at + timedelta(days=8))
    assert again.state == VIDEO_UNSEALED and again.from_cache and again.video == got.video
    # Another attempt, not cached: the course's absence is a state the review waits on.
    offline = fetcher(city, base, cache).fetch(COURSE, attempts[1], now=at + timedelta(days=8))
    assert offline.state == OFFLINE and not offline.shown and offline.folder is None
    assert STATE_TEXT[offline.state] == "考场离线，待其恢复"
    # Once the course is back the review goes on.
    with served(app) as base:
        back = fetcher(city, base, cache).fetch(COURSE, attempts[1], now=at + timedelta(days=9))
    assert back.state == VIDEO_UNSEALED and back.video == [] and len(back.journal) == 20
    assert [(g["camera"], g["seconds"]) for g in back.video_gaps] == [("", 60.0)]  # no video of it at all
    entries = [(e.action, e.target, e.detail) for e in reversed(AuditLog(session_factory(city, CITY)).entries())]
    assert [e[0] for e in entries] == ["city_fetch_evidence"] * 4
    assert entries[2][2].startswith("offline") and "from the cache" in entries[1][2]
    # The gap shows among the warnings once the city's limit is below it (5 s is just inside 5 s).
    _, start, end = week_of(MONDAY)
    assert [w.attempts for w in video_gaps(cache, start, end, SETTINGS)] == [((COURSE, attempts[1]),)]
    found = video_gaps(cache, start, end, SETTINGS.__class__(**{**SETTINGS.__dict__, "max_journal_gap_seconds": 4.0}))
    assert [w.attempts for w in found] == [((COURSE, attempts[0]),), ((COURSE, attempts[1]),)]
    assert len(cached_manifests(cache)) == 2


def test_other_bytes_than_first_fetched_or_an_edited_record_are_not_shown(course_and_city, tmp_path):
    course, city, app, attempts, recordings = course_and_city
    cache = tmp_path / "cache"
    with served(app) as base:
        first = fetcher(city, base, cache).fetch(COURSE, attempts[0])
        assert first.state == VIDEO_UNSEALED
        victim = next(recordings.rglob("*.mp4"))
        victim.write_bytes(victim.read_bytes()[:-100] + b"\0" * 100)  # the course's file changed since
        changed = fetcher(city, base, cache).fetch(COURSE, attempts[0], refresh=True)
        assert changed.state == MISMATCH and not changed.shown and changed.folder is None
        assert any("other bytes than at the first fetch" in p for p in changed.problems)
        with city.begin() as connection:  # the city's copy of a journal row edited
            allow_tampering(connection)
            connection.execute(text("UPDATE journal SET line = replace(line, :was, :now) "
                                    "WHERE course_key = :c AND attempt_id = :a AND seq = 5"),
                               {"c": COURSE, "a": attempts[1], "was": '"helmet":true', "now": '"helmet":false'})
        edited = fetcher(city, base, cache).fetch(COURSE, attempts[1])
        assert edited.state == MISMATCH and any("journal seq 5" in p for p in edited.problems)
        unsealed = fetcher(city, base, cache).fetch(COURSE, attempts[2])
        assert unsealed.state == UNSEALED and not unsealed.shown


def _seal_first_attempts_video(course, city, recordings, key_dir, attempt: int) -> list:
    """The course seals the attempt's filed video (its segments were filed before digests were kept:
    hashed now); the statement reaches the city with the records."""
    sealer = EvidenceSealer(session_factory(course), load_key(key_dir))
    at = china(MONDAY, 9)
    assert seal_filed_evidence(VideoIndex(session_factory(course)), sealer, recordings, ["top", "chase-V1"],
                               at + timedelta(days=1)) == [attempt]
    copy_rows(course, city, [Base.metadata.tables["evidence_seals"]])
    with session_factory(city, COURSE)() as session:
        return sealed_segments(json.loads(session.get(EvidenceSeal, attempt).payload))


def test_sealed_video_is_checked_file_by_file_and_a_tampered_segment_is_refused(course_and_city, tmp_path, capsys):
    course, city, app, attempts, recordings = course_and_city
    sealed = _seal_first_attempts_video(course, city, recordings, tmp_path / "key", attempts[0])
    assert len(sealed) == 7
    cache, fresh_cache = tmp_path / "cache", tmp_path / "cache-2"
    with served(app) as base:
        got = fetcher(city, base, cache).fetch(COURSE, attempts[0])
        assert got.state == VERIFIED and got.shown, got.problems
        assert sorted((v.camera, v.segment, v.sha256, v.bytes) for v in got.video) == sorted(
            (s.camera, s.segment, s.sha256, s.bytes) for s in sealed)
        assert [(g["camera"], g["seconds"]) for g in got.video_gaps] == [("top", 5.0)]
        # A segment changed at the course (one byte, its size kept) after it was sealed.
        victim = next(s for s in sealed if s.camera == "top")
        path = recordings / victim.file
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
        tampered = hashlib.sha256(bytes(data)).hexdigest()
        refused = fetcher(city, base, fresh_cache).fetch(COURSE, attempts[0])
        assert refused.state == MISMATCH and not refused.shown and refused.folder is None
        assert refused.problems == [
            f"video top {victim.file}: the course served {victim.bytes} bytes with SHA-256 {tampered[:16]}…, not "
            f"the sealed {victim.bytes} bytes with {victim.sha256[:16]}…: refused, not cached and not shown"]
        assert STATE_TEXT[refused.state] == "证据与封存不一致，不予显示"
        # The tampered bytes were never kept: not in the cache, no manifest to show anything from.
        kept = [p for p in fresh_cache.rglob("*") if p.is_file()]
        assert all(hashlib.sha256(p.read_bytes()).hexdigest() != tampered for p in kept)
        assert not (fresh_cache / COURSE / str(attempts[0]) / MANIFEST).exists()
        # The first fetch's cache holds the sealed bytes: still shown from it, checked against the seal.
        cached = fetcher(city, base, cache).fetch(COURSE, attempts[0])
        assert cached.state == VERIFIED and cached.from_cache
        again = fetcher(city, base, cache).fetch(COURSE, attempts[0], refresh=True)
        assert again.state == MISMATCH and not again.shown
        assert hashlib.sha256((cache / COURSE / str(attempts[0]) / f"video/top/{victim.segment}.mp4")
                              .read_bytes()).hexdigest() == victim.sha256  # the cached copy was not overwritten
        # A sealed file gone from the course's disk, no retention saying so: not shown either.
        lost = next(s for s in sealed if s.camera == "chase-V1")
        (recordings / lost.file).unlink()
        missing = fetcher(city, base, tmp_path / "cache-3").fetch(COURSE, attempts[0])
        assert missing.state == MISMATCH and not missing.shown
        assert (f"video chase-V1 {lost.file}: sealed, but the course does not serve it "
                f"({COURSE}: /attempts/{attempts[0]}/video/{lost.segment}.mp4: HTTP 404)") in missing.problems
    # At the city, `examroom verify` with the course's key checks the video statements' signatures.
    city_url = city.url.render_as_string(hide_password=False)
    public_key = str(tmp_path / "key" / PUBLIC_KEY_FILE)
    assert main(["verify", "--attempt", str(attempts[0]), "--database", city_url, "--course", COURSE,
                 "--public-key", public_key]) == 0
    capsys.readouterr()
    with city.begin() as connection:
        allow_tampering(connection)
        connection.exec_driver_sql("DROP TRIGGER IF EXISTS evidence_seals_append_only ON evidence_seals")
        connection.execute(text("UPDATE evidence_seals SET payload = replace(payload, :was, :now) "
                                "WHERE course_key = :c AND attempt_id = :a"),
                           {"was": victim.sha256, "now": tampered, "c": COURSE, "a": attempts[0]})
    assert main(["verify", "--attempt", str(attempts[0]), "--database", city_url, "--course", COURSE,
                 "--public-key", public_key]) == 1
    assert (f"attempt {attempts[0]}: evidence seal signature: the Ed25519 signature does not match the sealed video "
            "statement (statement or signature edited)") in capsys.readouterr().out


def test_sealed_video_deleted_by_the_courses_retention_is_gone_not_a_mismatch(course_and_city, tmp_path):
    course, city, app, attempts, recordings = course_and_city
    sealed = _seal_first_attempts_video(course, city, recordings, tmp_path / "key", attempts[0])
    sealer = EvidenceSealer(session_factory(course), load_key(tmp_path / "key"))
    guard = RetentionGuard(VideoIndex(session_factory(course)), recordings,
                           RetentionPolicy(days=7, floor_bytes=0, evidence_days=365),
                           stop_recording=lambda: None, resume_recording=lambda: None, release=sealer.release)
    # A year on, the course's retention deletes all but "top"'s first segment (its release signed first).
    first_top = next(s for s in sealed if s.camera == "top")
    with course.begin() as connection:  # that one is also evidence of a later attempt, not sealed yet
        connection.execute(text("INSERT INTO video_evidence (attempt_id, segment_id) VALUES (:a, :s)"),
                           {"a": attempts[2], "s": first_top.segment})
    assert guard.run(china(MONDAY, 9) + timedelta(days=366)).evidence_expired == 6
    copy_rows(course, city, [Base.metadata.tables["evidence_releases"]])  # replicated with the records
    with served(app) as base:
        got = fetcher(city, base, tmp_path / "cache").fetch(COURSE, attempts[0])
    assert got.state == VERIFIED and got.shown, got.problems
    assert [(v.camera, v.segment, v.sha256) for v in got.video] == [("top", first_top.segment, first_top.sha256)]
    assert sorted(g["file"] for g in got.video_gone) == sorted(s.file for s in sealed if s != first_top)
    assert STATE_TEXT[got.state] == "证据已与封存摘要核对一致" and VIDEO_GONE_TEXT
    # The city's own check says the same from the signed releases alone.
    gone = verify(session_factory(city, None), attempts=[attempts[0]], course=COURSE).video_gone
    assert sorted(g.file for g in gone) == sorted(g["file"] for g in got.video_gone)

"""An attempt's video sealed by the course once its segments are filed, and verified file by file.

Real footage: H.264 segments with a time code in every frame (tests/examroom/video/footage.py), in
a recorder's cache folder with its ``run.json`` and ``list.csv`` as ffmpeg leaves them, filed by
the real maintainer; the seal is made by the course key, and ``examroom verify`` reads the files."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from examroom.cli.main import main
from examroom.records.attempt_log import Records
from examroom.records.database import session_factory
from examroom.records.evidence_seals import EvidenceSealer, ReleasedSegment, evidence_digest, sealed_segments
from examroom.records.models import Attempt, EvidenceRelease, EvidenceSeal, Seal
from examroom.records.sealing import (
    GENESIS_SEAL, LEGACY_CHAIN, Sealer, canonical, key_id, load_or_create_key, record_of, seal_digest,
)
from examroom.records.verify import verify
from examroom.video.evidence import LINK_WINDOW, link_attempts, seal_filed_evidence
from examroom.video.index import VideoIndex
from examroom.video.placement import CameraPlace
from examroom.video.recorder import LIST_NAME, RUN_NAME
from examroom.video.retention import RetentionGuard, RetentionPolicy
from examroom.video.segments import SegmentMaintainer
from tests.examroom.attempts import UTC, allow_tampering, finished_attempt
from tests.examroom.video.footage import write_time_coded_segment

SECONDS = 20  # per segment
CAMERAS = ["chase-V1", "top"]
PLACES = {"chase-V1": CameraPlace("chase-V1", vehicle="V1")}
FIRST = UTC - timedelta(seconds=10)  # the attempts run UTC .. UTC + 60 s; evidence to UTC + 65 s


class Course:
    """One course's records, key, cameras' cache and recordings, as the controller holds them."""

    def __init__(self, engine, tmp_path: Path) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)
        self.records = Records(self.sessions)
        self.key_dir = tmp_path / "data"
        self.sealer = Sealer(self.sessions, load_or_create_key(self.key_dir))
        self.cache, self.recordings = tmp_path / "cache", tmp_path / "recordings"
        self.index = VideoIndex(self.sessions)
        self.runs: list[Path] = []
        self.maintainer = SegmentMaintainer(self.cache, self.recordings, self.index, lambda: set(self.runs))

    def attempt(self) -> int:
        attempt = finished_attempt(self.records)
        self.sealer.seal(attempt)
        return attempt

    def record(self, count: int = 4, fps: int = 2) -> None:
        """Each camera's recorder run: ``count`` segments written into its cache folder, none listed yet."""
        for camera in CAMERAS:
            run = self.cache / camera / "run-1"
            run.mkdir(parents=True)
            (run / RUN_NAME).write_text(json.dumps({"camera": camera, "mode": "encode",
                                                    "origin": FIRST.timestamp(), "offset": 0.0}))
            for i in range(count):
                write_time_coded_segment(run / f"seg{i:06d}.mp4", FIRST + timedelta(seconds=SECONDS * i), SECONDS,
                                         fps, 480, 64, crf="35")
            self.runs.append(run)

    def close(self, upto: int) -> list:
        """ffmpeg lists the first ``upto`` segments of every run as closed; the maintainer files them."""
        for run in self.runs:
            (run / LIST_NAME).write_text("".join(f"seg{i:06d}.mp4,{SECONDS * i}.0,{SECONDS * (i + 1)}.0\n"
                                                 for i in range(upto)))
        return self.maintainer.run()

    def link_and_seal(self, now: datetime, key_dir: Path | None = None) -> list[int]:
        link_attempts(self.index, CAMERAS, now, places=PLACES)
        sealer = EvidenceSealer(self.sessions, load_or_create_key(key_dir or self.key_dir))
        return seal_filed_evidence(self.index, sealer, self.recordings, CAMERAS, now, places=PLACES)

    def statement(self, attempt: int) -> dict:
        with self.sessions() as session:
            return json.loads(session.get(EvidenceSeal, attempt).payload)

    def verify(self, **kw):
        return verify(self.sessions, recordings_dir=self.recordings, **kw)


@pytest.fixture
def course(engine, tmp_path) -> Course:
    return Course(engine, tmp_path)


def _problems(report) -> list[str]:
    return [str(p) for p in report.problems]


def test_the_video_is_sealed_once_every_camera_has_filed_past_the_attempt(course):
    attempt = course.attempt()
    course.record()
    course.close(upto=3)  # the cameras have filed up to UTC + 50 s: the attempt's last seconds are not in yet
    assert course.link_and_seal(UTC + timedelta(seconds=75)) == []
    filed = course.close(upto=4)
    assert len(filed) == 2 and all(s.sha256 == hashlib.sha256((course.recordings / s.path).read_bytes()).hexdigest()
                                   for s in filed)  # each digest taken as it was filed
    assert course.link_and_seal(UTC + timedelta(seconds=76)) == [attempt]
    statement = course.statement(attempt)
    with course.sessions() as session:
        assert statement["attempt_seal"] == seal_digest(session.get(Seal, attempt))
    assert statement["global_id"] == str(attempt) and statement["course_code"] == ""  # a course without a code
    assert [c["camera"] for c in statement["cameras"]] == CAMERAS
    for camera in statement["cameras"]:
        files = [s["file"] for s in camera["segments"]]
        assert len(files) == 4 and files == sorted(files)  # in time order, filed by UTC
        assert files[0] == f"2026-11-29/02/{camera['camera']}/59.50.mp4"
        for s in camera["segments"]:
            data = (course.recordings / s["file"]).read_bytes()
            assert (s["bytes"], s["sha256"]) == (len(data), hashlib.sha256(data).hexdigest())
    report = course.verify()
    assert report.ok and report.checked == [attempt] and not report.video_gone, _problems(report)
    # Sealed is closed: nothing more is linked to it, and it is not sealed twice.
    assert course.link_and_seal(UTC + timedelta(seconds=90)) == []
    assert len(course.index.evidence(attempt)) == 8


def test_a_crash_between_filing_and_sealing_is_made_good_by_the_next_pass(course, tmp_path):
    first, second = course.attempt(), course.attempt()
    course.record()
    course.close(upto=4)
    link_attempts(course.index, CAMERAS, UTC + timedelta(seconds=70), places=PLACES)
    # The controller died here: everything filed and linked, no video sealed. It starts again a day
    # later with new objects (a new process): the next pass seals both attempts, once each.
    course.runs.clear()
    restarted = Course(course.engine, tmp_path)
    assert restarted.link_and_seal(UTC + timedelta(days=1)) == [first, second]
    assert restarted.link_and_seal(UTC + timedelta(days=1, seconds=5)) == []
    second_statement = restarted.statement(second)
    assert second_statement["seq"] == 2 and second_statement["prev"] == evidence_digest(
        _row(restarted.sessions, first))
    assert restarted.statement(first)["prev"] == GENESIS_SEAL
    report = restarted.verify()
    assert report.ok and report.checked == [first, second], _problems(report)


def test_a_camera_that_filed_nothing_is_sealed_as_such_once_linking_closes(course):
    attempt = course.attempt()
    course.record(count=4)
    course.runs = [r for r in course.runs if r.parent.name == "top"]  # chase-V1 died: nothing of it filed
    course.close(upto=4)
    assert course.link_and_seal(UTC + timedelta(seconds=80)) == []  # it waits for chase-V1 ...
    end = UTC + timedelta(seconds=65)
    assert course.link_and_seal(end + LINK_WINDOW) == [attempt]  # ... until the linking window closes
    statement = course.statement(attempt)
    assert [(c["camera"], len(c["segments"])) for c in statement["cameras"]] == [("chase-V1", 0), ("top", 4)]
    assert course.verify().ok


def _row(sessions, attempt: int) -> EvidenceSeal:
    with sessions() as session:
        return session.get(EvidenceSeal, attempt)


@pytest.fixture
def sealed_video(course):
    attempt = course.attempt()
    course.record()
    course.close(upto=4)
    assert course.link_and_seal(UTC + timedelta(minutes=2)) == [attempt]
    files = [s.file for s in sealed_segments(course.statement(attempt))]
    return course, attempt, files


def test_a_swapped_truncated_or_edited_segment_is_named_by_verify(sealed_video, sqlite_url, capsys):
    course, attempt, files = sealed_video
    top = [f for f in files if "/top/" in f]
    a, b = course.recordings / top[1], course.recordings / top[2]
    a_bytes, b_bytes = a.read_bytes(), b.read_bytes()
    a.write_bytes(b_bytes)  # two segments swapped: each a real, playable segment of the same camera
    b.write_bytes(a_bytes)
    c = course.recordings / top[3]
    c.write_bytes(c.read_bytes()[:-1000])  # truncated
    d = course.recordings / top[0]
    edited = bytearray(d.read_bytes())
    edited[len(edited) // 2] ^= 0xFF  # one byte edited, the size kept
    d.write_bytes(bytes(edited))
    problems = _problems(course.verify())
    assert len(problems) == 4, problems
    assert (f"attempt {attempt}: video top {top[3]}: the file is {len(c.read_bytes())} bytes, sealed "
            f"{len(c.read_bytes()) + 1000} (truncated, extended or swapped)") in problems
    assert any(p.startswith(f"attempt {attempt}: video top {top[0]}: the file's SHA-256 is not the sealed")
               for p in problems)
    assert all(any(f"video top {f}:" in p for p in problems) for f in (top[1], top[2]))
    assert main(["verify", "--all", "--database", sqlite_url, "--recordings-dir", str(course.recordings)]) == 1
    out = capsys.readouterr().out
    assert f"video top {top[0]}: the file's SHA-256 is not the sealed" in out and "4 problem(s)" in out
    # Without the recordings (at the city) the statement itself still verifies: its signature holds.
    assert verify(course.sessions).ok
    assert main(["verify", "--all", "--database", sqlite_url]) == 0


def test_an_edited_or_removed_statement_is_named(sealed_video):
    course, first, _ = sealed_video
    second = course.attempt()
    assert course.link_and_seal(UTC + timedelta(minutes=3)) == [second]
    with course.engine.begin() as connection:
        allow_tampering(connection)
        connection.exec_driver_sql("DROP TRIGGER evidence_seals_no_update")
        connection.exec_driver_sql("DROP TRIGGER evidence_seals_no_delete")
        # the video statement edited to name other bytes for the first segment
        payload = course.statement(first)
        payload["cameras"][0]["segments"][0]["sha256"] = "0" * 64
        connection.execute(text("UPDATE evidence_seals SET payload = :p WHERE attempt_id = :a"),
                           {"p": canonical(payload), "a": first})
    problems = _problems(course.verify())
    assert f"attempt {first}: evidence seal signature: the Ed25519 signature does not match the sealed video " \
           "statement (statement or signature edited)" in problems
    assert f"attempt {second}: evidence chain: evidence seal 1 (attempt {first}) is not the one this follows: " \
           "it was edited or replaced" in problems
    with course.engine.begin() as connection:
        connection.execute(text("DELETE FROM evidence_seals WHERE attempt_id = :a"), {"a": first})
    assert f"attempt {second}: evidence chain: evidence seal 1 (the one before) is missing: a video statement " \
           "was removed" in _problems(course.verify())


def test_the_database_refuses_to_change_an_evidence_seal(sealed_video):
    course, attempt, _ = sealed_video
    for statement in ("UPDATE evidence_seals SET seq = 7", "DELETE FROM evidence_seals"):
        with pytest.raises(Exception, match="evidence_seals is append-only"):
            with course.engine.begin() as connection:
                connection.execute(text(statement))


def test_video_deleted_by_retention_is_reported_as_gone_not_tampered(sealed_video, sqlite_url, capsys):
    course, attempt, files = sealed_video
    # A later attempt whose video is linked but not sealed yet: retention never takes its evidence.
    later = course.attempt()
    assert course.index.link_evidence(later, ["top"], UTC, UTC + timedelta(seconds=5)) == 1  # "top"'s first
    policy = RetentionPolicy(days=7, floor_bytes=0, evidence_days=30)
    unsigned = RetentionGuard(course.index, course.recordings, policy, lambda: None, lambda: None)
    assert unsigned.run(UTC + timedelta(days=31)).evidence_expired == 0  # nobody to sign a release: kept
    sealer = EvidenceSealer(course.sessions, load_or_create_key(course.key_dir))
    guard = RetentionGuard(course.index, course.recordings, policy, lambda: None, lambda: None,
                           release=sealer.release)
    assert guard.run(UTC + timedelta(days=29)).evidence_expired == 0  # not old enough
    report = guard.run(UTC + timedelta(days=31))
    assert report.evidence_expired == 7  # all but the segment the unsealed attempt still needs
    kept = [f for f in files if (course.recordings / f).is_file()]
    assert kept == [files[4]]  # "top"'s first
    with course.sessions() as session:  # signed before the files went: what, whose, when and why
        [release] = session.scalars(select(EvidenceRelease)).all()
    released = json.loads(release.payload)
    assert released["reason"] == "retention" and released["evidence_days"] == 30
    assert sorted(s["file"] for s in released["segments"]) == sorted(set(files) - set(kept))
    assert all(s["attempts"] == [attempt] and len(s["sha256"]) == 64 for s in released["segments"])
    verified = course.verify(attempts=[attempt])
    assert verified.ok, _problems(verified)
    assert sorted(g.file for g in verified.video_gone) == sorted(set(files) - set(kept))
    assert str(verified.video_gone[0]).endswith("deleted by retention on 2026-12-30T03:00:00.000000Z "
                                                "(its sealed digest stays)")
    assert main(["verify", "--attempt", str(attempt), "--database", sqlite_url,
                 "--recordings-dir", str(course.recordings)]) == 0
    assert "deleted by retention on" in capsys.readouterr().out
    # Where the video is not (the city), the releases alone say which sealed video is gone.
    assert sorted(g.file for g in verify(course.sessions, attempts=[attempt]).video_gone) == sorted(
        set(files) - set(kept))
    # A file gone without a release is missing: tampering, not retention.
    (course.recordings / kept[0]).unlink()
    assert _problems(course.verify(attempts=[attempt])) == [
        f"attempt {attempt}: video top {kept[0]}: the sealed segment file is missing, and no evidence release "
        "deleted it"]


def _legacy_seal(sessions, key, attempt_id: int, version: int, seq: int, prev: str) -> Seal:
    """A seal of payload version 1, 2 or 3, written as the code of its time wrote it."""
    with sessions.begin() as session:
        attempt = session.get(Attempt, attempt_id)
        payload = {"version": version, "record": record_of(session, attempt, version=version),
                   "rule_set_sha256": "", "sealed_utc": "2026-11-29T03:01:00.000000Z", "seq": seq, "prev_seal": prev}
        chain = LEGACY_CHAIN
        if version in (2, 3):
            payload["chain"] = chain = attempt.course
        if version == 3:
            payload["course_code"] = attempt.course_key
        body = canonical(payload)
        seal = Seal(attempt_id=attempt_id, chain=chain, seq=seq, payload=body, signature=key.sign(body.encode()).hex(),
                    key_id=key_id(key.public_key()), sealed_utc=datetime(2026, 11, 29, 3, 1, tzinfo=timezone.utc))
        session.add(seal)
    return seal


def test_attempts_sealed_under_older_payload_versions_still_verify_with_and_without_video(course):
    key = load_or_create_key(course.key_dir)
    v1 = finished_attempt(course.records)
    first = _legacy_seal(course.sessions, key, v1, 1, 1, GENESIS_SEAL)
    v1_no_video = finished_attempt(course.records)
    _legacy_seal(course.sessions, key, v1_no_video, 1, 2, seal_digest(first))
    v2 = finished_attempt(course.records)
    _legacy_seal(course.sessions, key, v2, 2, 1, GENESIS_SEAL)
    v5 = course.attempt()  # what a course without a code seals now
    with course.sessions() as session:
        assert [json.loads(session.get(Seal, a).payload)["version"] for a in (v1, v1_no_video, v2, v5)] == [1, 1, 2, 5]
    assert course.verify().ok  # before any video is sealed
    course.record()
    course.close(upto=4)
    link_attempts(course.index, CAMERAS, UTC + timedelta(seconds=70), places=PLACES)
    with course.engine.begin() as connection:  # the second version-1 attempt has no video linked
        connection.execute(text("DELETE FROM video_evidence WHERE attempt_id = :a"), {"a": v1_no_video})
    assert course.link_and_seal(UTC + timedelta(days=1)) == [v1, v2, v5]
    report = course.verify()
    assert report.ok and report.checked == [v1, v1_no_video, v2, v5], _problems(report)
    # An edit of an old record is still named as it was.
    with course.engine.begin() as connection:
        allow_tampering(connection)
        connection.execute(text("UPDATE attempts SET score = 50 WHERE id = :a"), {"a": v1})
    assert _problems(course.verify()) == [f"attempt {v1}: record.score: stored 50, sealed 90"]


def test_video_sealed_before_the_course_had_its_code_still_verifies_after_it(sealed_video):
    from examroom.records.database import claim_course

    course, attempt, _ = sealed_video
    claim_course(course.engine, "6201001")  # the rows, the evidence seal's among them, re-keyed once
    course.sessions = session_factory(course.engine)
    assert course.statement(attempt)["course_code"] == ""  # signed as it was: not bound to a code
    report = course.verify()
    assert report.ok and report.checked == [attempt], _problems(report)


def test_a_deletion_is_believed_only_from_a_signed_release_made_after_the_video_was_sealed(sealed_video):
    course, attempt, files = sealed_video
    for name in files[:3]:
        (course.recordings / name).unlink()
    with course.engine.begin() as connection:  # someone notes a retention on the course's timeline ...
        connection.execute(text("INSERT INTO video_events (camera, kind, start_utc, end_utc, detail) "
                                "VALUES ('chase-V1', 'retention', :t, :t, :f)"),
                           {"t": UTC + timedelta(days=40), "f": files[0]})
    sealer = EvidenceSealer(course.sessions, load_or_create_key(course.key_dir))
    released = [ReleasedSegment("chase-V1", name, 1, "ab" * 32, (attempt,)) for name in files[1:3]]
    early = sealer.release(released[:1], 30, UTC + timedelta(seconds=70))  # ... or signs one dated before the seal
    sealer.release(released[1:], 30, UTC + timedelta(days=40))
    with course.engine.begin() as connection:  # ... and edits a signed one
        connection.exec_driver_sql("DROP TRIGGER evidence_releases_no_update")
        connection.execute(text("UPDATE evidence_releases SET payload = replace(payload, :was, :now) WHERE id != :early"),
                           {"was": '"evidence_days":30', "now": '"evidence_days":3', "early": early.id})
    assert _problems(course.verify()) == [
        f"attempt {attempt}: video chase-V1 {files[0]}: the sealed segment file is missing, and no evidence release "
        "deleted it",
        f"attempt {attempt}: video chase-V1 {files[1]}: released as deleted by retention on "
        "2026-11-29T03:01:10.000000Z, before its video was sealed on 2026-11-29T03:02:00.000000Z: the retention "
        "never deletes unsealed evidence",
        f"attempt {attempt}: video chase-V1 {files[2]}: named as deleted by evidence release {early.id + 1}, whose "
        "signature does not hold (the release was edited or forged)"]


def test_a_course_with_a_code_seals_video_of_version_3_and_4_attempts(course):
    from examroom.records.database import claim_course

    claim_course(course.engine, "6201001")
    course.sessions = session_factory(course.engine)
    course.records, course.index = Records(course.sessions), VideoIndex(course.sessions)
    course.sealer = Sealer(course.sessions, load_or_create_key(course.key_dir))
    key = load_or_create_key(course.key_dir)
    v3 = finished_attempt(course.records)
    _legacy_seal(course.sessions, key, v3, 3, 1, GENESIS_SEAL)
    v4 = course.attempt()
    with course.sessions() as session:
        assert [json.loads(session.get(Seal, a).payload)["version"] for a in (v3, v4)] == [3, 4]
    course.record()
    course.close(upto=4)
    assert course.link_and_seal(UTC + timedelta(minutes=2)) == [v3, v4]
    assert course.statement(v4)["global_id"] == f"6201001/{v4}" and course.statement(v4)["course_code"] == "6201001"
    report = course.verify()
    assert report.ok and report.checked == [v3, v4], _problems(report)

"""The city's continuous verification over a real PostgreSQL city database: only new seals are
checked, each against the key the city registered; what it finds is stored with the attempts behind
it (once), a head that went backwards is found, and a pass started again goes on where the last ended."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, text

from examroom.accounts.audit import AuditLog
from examroom.city.errors import CityError
from examroom.city.verification import (
    EVIDENCE, PASS_LOCK, RELEASES, SEALS, fingerprint, register_key, verify_pass,
)
from examroom.city.warnings import SEAL_EVIDENCE, SEAL_HEAD, SEAL_LINK, SEAL_NO_KEY, SEAL_RECORD, seal_chain_warnings
from examroom.records.database import make_engine, session_factory
from examroom.records.evidence_seals import EvidenceSealer, ReleasedSegment, SealedSegment, sealed_segments, sha256_file
from examroom.records.models import CityVerifiedEvidence, CityVerifiedSeal, CityVerifyResult
from examroom.records.sealing import PUBLIC_KEY_FILE, load_or_create_key, utc_text
from tests.examroom.attempts import allow_tampering
from tests.examroom.city.city_records import MONDAY, CourseWriter, china

pg = pytest.mark.postgres
CITY_CODE = "420100"
NOW = china(MONDAY + timedelta(days=2), 12)
START, END = china(MONDAY, 0), china(MONDAY + timedelta(days=7), 0)


def clock():
    return NOW



def course(city, code, tmp_path, register=True) -> CourseWriter:
    writer = CourseWriter(city, code, tmp_path / code)
    if register:
        pem = (tmp_path / code / PUBLIC_KEY_FILE).read_text()
        register_key(city, CITY_CODE, code, pem, "管理员甲", NOW)
    return writer


def write(writer: CourseWriter, count: int, first: int = 0) -> list[int]:
    return [writer.attempt(str(first + n), china(MONDAY, 9) + timedelta(minutes=first + n)) for n in range(count)]


def results(city, code):
    with session_factory(city, None)() as session:
        return session.scalars(select(CityVerifyResult).where(CityVerifyResult.course_code == code)
                               .order_by(CityVerifyResult.id)).all()


def tampered(city, *statements):
    with city.begin() as connection:
        allow_tampering(connection)  # as the city database's owner, going around the triggers
        for statement, params in statements:
            connection.execute(text(statement), params)


@pg
def test_a_pass_verifies_only_the_seals_that_arrived_since_the_last(city, tmp_path):
    a, b = course(city, "4201001", tmp_path), course(city, "4201002", tmp_path)
    write(a, 5)
    write(b, 2)
    first = verify_pass(city, clock)
    assert first.ran and first.checked == 7 and first.problems == 0
    assert {(c.course, c.from_seq, c.to_seq) for c in first.chains} == {("4201001", 1, 5), ("4201002", 1, 2)}
    assert verify_pass(city, clock).checked == 0  # nothing new: nothing checked, nothing stored
    assert len(results(city, "4201001")) == 1
    new = write(a, 3, first=10)
    third = verify_pass(city, clock)
    assert third.checked == 3
    (chain,) = [c for c in third.chains if c.checked]
    assert (chain.course, chain.from_seq, chain.to_seq) == ("4201001", 6, 8)
    stored = results(city, "4201001")
    assert [(r.from_seq, r.to_seq, r.checked, r.ok, r.problems) for r in stored] == [(1, 5, 5, True, []),
                                                                                      (6, 8, 3, True, [])]
    with session_factory(city, None)() as session:
        assert session.scalars(select(CityVerifiedSeal.attempt_id).where(
            CityVerifiedSeal.course_code == "4201001", CityVerifiedSeal.seq > 5)
            .order_by(CityVerifiedSeal.seq)).all() == new
    assert seal_chain_warnings(session_factory(city, None), START, END) == []


@pg
def test_a_pass_started_again_goes_on_from_the_stored_state(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    write(a, 5)
    assert verify_pass(city, clock, limit=3).checked == 3  # stopped after three
    city.dispose()
    again = make_engine(city.url.render_as_string(hide_password=False))  # a new process: only the database remembers
    try:
        resumed = verify_pass(again, clock)
        assert resumed.checked == 2 and resumed.chains[0].from_seq == 4 and resumed.problems == 0
        assert verify_pass(again, clock).checked == 0
    finally:
        again.dispose()


@pg
def test_a_tampered_attempt_and_a_tampered_seal_are_stored_with_their_attempts(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    write(a, 3)
    assert verify_pass(city, clock).problems == 0
    failed = a.attempt("20", china(MONDAY, 11), passed=False)
    edited, after = write(a, 2, first=30)
    # Replicated as changed: the failed attempt now passes; one seal's payload edited.
    tampered(city, ("UPDATE attempts SET passed = true, status = 'passed' WHERE course_key = '4201001' AND id = :a",
                    {"a": failed}),
             ("UPDATE seals SET payload = payload || ' ' WHERE course_key = '4201001' AND attempt_id = :a",
              {"a": edited}))
    found = verify_pass(city, clock)
    assert found.checked == 3
    (chain,) = found.chains
    assert set(chain.attempts) == {failed, edited, after}
    wheres = {(p["attempt"], p["where"]) for p in chain.problems}
    assert (failed, "record.passed") in wheres and (edited, "signature") in wheres
    assert (after, "seal chain") in wheres  # the seal after the edited one no longer links
    (stored,) = [r for r in results(city, "4201001") if not r.ok]
    assert set(stored.attempts) == {failed, edited, after} and (stored.from_seq, stored.to_seq) == (4, 6)
    verify_pass(city, clock)
    assert len([r for r in results(city, "4201001") if not r.ok]) == 1  # found once, kept once
    warnings = seal_chain_warnings(session_factory(city, None), START, END)
    by_msg = {w.msgid: w for w in warnings}
    assert by_msg[SEAL_LINK].attempts == (("4201001", after),)
    assert by_msg[SEAL_RECORD].attempts == (("4201001", failed), ("4201001", edited))


@pg
def test_a_head_that_went_backwards_is_found_with_the_attempts_behind_it(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    ids = write(a, 6)
    assert verify_pass(city, clock).checked == 6

    def remove(attempt):
        for table, column in (("seals", "attempt_id"), ("journal", "attempt_id"), ("deductions", "attempt_id"),
                              ("attempts", "id")):
            yield f"DELETE FROM {table} WHERE course_key = '4201001' AND {column} = :a", {"a": attempt}

    tampered(city, *remove(ids[2]), *remove(ids[5]))  # one in the middle, and the newest
    found = verify_pass(city, clock)
    assert found.checked == 0
    (chain,) = found.chains
    assert set(chain.attempts) == {ids[2], ids[5]}
    assert all(p["where"] == "seal chain head" and "is gone" in p["message"] for p in chain.problems)
    # Another seal 6, sealed after the removal, is not the one the city verified.
    replacement = a.attempt("99", china(MONDAY, 12))
    replaced = verify_pass(city, clock)
    assert replaced.checked == 0  # seal 6 was verified already: it is compared, not verified again
    assert [p["attempt"] for p in replaced.chains[0].problems] == [ids[5]]
    assert "replaced or edited" in replaced.chains[0].problems[0]["message"]
    assert replacement not in replaced.chains[0].attempts
    (head,) = [w for w in seal_chain_warnings(session_factory(city, None), START, END) if w.msgid == SEAL_HEAD]
    assert head.attempts == (("4201001", ids[2]), ("4201001", ids[5]))
    assert "链头倒退" in str(head)


@pg
def test_a_seen_head_the_chain_no_longer_reaches(city, tmp_path):
    from examroom.city.warnings import note_heads

    a = course(city, "4201001", tmp_path, register=False)
    ids = write(a, 4)
    note_heads(session_factory(city, None), NOW)  # seen by the city before any key was registered
    tampered(city, *[(f"DELETE FROM {t} WHERE course_key = '4201001' AND {c} = :a", {"a": ids[-1]})
                     for t, c in (("seals", "attempt_id"), ("journal", "attempt_id"), ("attempts", "id"))])
    register_key(city, CITY_CODE, "4201001", (tmp_path / "4201001" / PUBLIC_KEY_FILE).read_text(), "管理员甲", NOW)
    found = verify_pass(city, clock)
    assert found.checked == 3
    assert ["no longer reaches" in p["message"] for p in found.chains[0].problems] == [True]


@pg
def test_keys_are_the_citys_own_and_each_registration_is_audited(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    b = course(city, "4201002", tmp_path, register=False)
    write(a, 2)
    write(b, 2)
    # 4201003 seals with a key of its own, but the key the city holds for it is another.
    c = course(city, "4201003", tmp_path, register=False)
    register_key(city, CITY_CODE, "4201003", (tmp_path / "4201001" / PUBLIC_KEY_FILE).read_text(), "管理员甲", NOW)
    (wrong,) = write(c, 1)
    found = verify_pass(city, clock)
    assert found.skipped == {"4201002": "no key"}
    (bad,) = [ch for ch in found.chains if ch.course == "4201003"]
    assert bad.attempts == (wrong,) and "registered at the city" in bad.problems[0]["message"]
    warnings = seal_chain_warnings(session_factory(city, None), START, END)
    assert [(w.subject, w.msgid) for w in warnings] == [("4201002", SEAL_NO_KEY), ("4201003", SEAL_RECORD)]
    pem = (tmp_path / "4201001" / PUBLIC_KEY_FILE).read_text()
    with pytest.raises(CityError):
        register_key(city, CITY_CODE, "4201001", pem, "管理员甲", NOW)  # once
    entries = AuditLog(session_factory(city, CITY_CODE)).entries()
    assert [(e.action, e.target, e.actor) for e in reversed(entries)] == [
        ("city_course_key", "4201001", "管理员甲"), ("city_course_key", "4201003", "管理员甲")]
    assert fingerprint(pem) in entries[-1].detail
    assert AuditLog(session_factory(city, CITY_CODE)).verify() == []


@pg
def test_one_pass_at_a_time(city, tmp_path):
    write(course(city, "4201001", tmp_path), 1)
    with city.connect() as other:
        other.execute(text("SELECT pg_advisory_lock(:k)"), {"k": PASS_LOCK})
        assert not verify_pass(city, clock).ran
        other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PASS_LOCK})
    assert verify_pass(city, clock).checked == 1
    with session_factory(city, None)() as session:
        assert session.scalar(select(func.count()).select_from(CityVerifiedSeal)) == 1


@pg
def test_the_command_line_registers_a_key_and_runs_a_pass(city, tmp_path, capsys):
    from examroom.cli.main import main
    from examroom.records.models import CityCourseKey
    from scoring.config_files import config_dir

    city_file = tmp_path / "city.toml"
    city_file.write_text((config_dir() / "city" / "example-city.toml").read_text(encoding="utf-8")
                         .replace('password_file = "/etc/examroom-city/4201001.password"', 'password = "x"'))
    writer = CourseWriter(city, "4201001", tmp_path / "k")
    ids = write(writer, 2)
    url = city.url.render_as_string(hide_password=False)
    watch = ["city", "watch", "--database", url, "--city-file", str(city_file), "--once"]
    assert main(watch) == 0
    assert "4201001: no key" in capsys.readouterr().out
    key = ["city", "key", "--database", url, "--city-file", str(city_file), "--course", "4201001",
           "--public-key", str(tmp_path / "k" / PUBLIC_KEY_FILE), "--by", "管理员甲"]
    assert main(key) == 0
    with session_factory(city, None)() as session:
        kept = session.scalar(select(CityCourseKey))
    assert kept.fingerprint in capsys.readouterr().out
    assert main(key) == 2 and "已登记过" in capsys.readouterr().err
    tampered(city, ("UPDATE attempts SET passed = NOT passed WHERE course_key = '4201001' AND id = :a",
                    {"a": ids[1]}))
    assert main(watch) == 1  # a problem found: exit status 1, and it is named
    out = capsys.readouterr().out
    assert "2 seal(s) verified" in out and f"attempt {ids[1]}" in out


@pg
def test_the_loop_passes_again_and_again_until_stopped(city, tmp_path):
    import queue

    from examroom.city.verification import VerificationLoop

    writer = course(city, "4201001", tmp_path)
    passes: queue.Queue = queue.Queue()
    loop = VerificationLoop(city, 0.05, clock, on_pass=passes.put).start()
    try:
        write(writer, 2)
        seen = 0
        while seen < 2:  # the seals are picked up by whichever passes run after they were written
            seen += passes.get(timeout=30).checked
    finally:
        loop.stop()
    assert seen == 2 and not loop._thread.is_alive()


@pytest.mark.slow  # real clusters and their replication, in real time
@pytest.mark.state_waits
def test_replicated_seals_are_verified_and_a_re_sync_leaves_no_false_evidence(clusters, tmp_path):
    from examroom.city import replication
    from examroom.city.replication import sync_state
    from tests.examroom.city.conftest import row_sets, wait_until

    code = "4201001"
    course, city_cluster = clusters("course"), clusters("city")
    course_db = make_engine(course.create_database())
    city_db = make_engine(city_cluster.create_database())
    clusters.engines += [course_db, city_db]
    replication.prepare_course(course_db, code)
    replication.prepare_city(city_db)
    writer = CourseWriter(course_db, code, tmp_path / "k")
    register_key(city_db, CITY_CODE, code, (tmp_path / "k" / PUBLIC_KEY_FILE).read_text(), "管理员甲", NOW)
    write(writer, 3)
    replication.subscribe(city_db, code, course.conninfo())

    def caught_up():
        return sync_state(city_db, code).done and row_sets(city_db, code) == row_sets(course_db, code)

    wait_until(caught_up, what="the city to catch up")
    first = verify_pass(city_db, clock)
    assert first.checked == 3 and first.problems == 0
    write(writer, 2, first=10)
    wait_until(caught_up, what="the new seals at the city")
    assert verify_pass(city_db, clock).checked == 2
    replication.resync(city_db, code, course.conninfo())  # the course's rows dropped and copied again
    during = verify_pass(city_db, clock)  # still copying (left for later) or copied: no problem either way
    assert during.problems == 0 and during.checked == 0
    wait_until(caught_up, what="the re-synced copy")
    after = verify_pass(city_db, clock)
    assert after.problems == 0 and after.checked == 0 and not after.skipped


# -- the video evidence: evidence seals and releases, verified as they arrive ------------------

def seal_video(writer: CourseWriter, tmp_path, attempt: int):
    """The attempt's video sealed by the course's own sealer, some minutes after the attempt: two
    cameras, one small real file each (the city reads no file: their digests are what is sealed)."""
    at = china(MONDAY, 9) + timedelta(minutes=attempt)
    cameras = {}
    for n, camera in enumerate(("chase-V1", "top")):
        name = f"2026-11-30/01/{camera}/{attempt % 60:02d}.00.mp4"
        path = tmp_path / writer.code / "recordings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{camera} {attempt}\n".encode() * 64)
        cameras[camera] = [SealedSegment(camera, attempt * 2 + n, name, utc_text(at), utc_text(at + timedelta(minutes=1)),
                                         path.stat().st_size, sha256_file(path))]
    sealer = EvidenceSealer(writer.sessions, load_or_create_key(tmp_path / writer.code))
    return sealer.seal(attempt, cameras, (at, at + timedelta(seconds=65)), now=at + timedelta(minutes=5))


def evidence_tampered(city, *statements):
    """As ``tampered``, around the evidence tables' append-only triggers too."""
    tampered(city, *[("DROP TRIGGER IF EXISTS evidence_seals_append_only ON evidence_seals", {}),
                     ("DROP TRIGGER IF EXISTS evidence_releases_append_only ON evidence_releases", {}),
                     *statements])


def evidence_results(city, code, kind):
    return [r for r in results(city, code) if r.kind == kind]


@pg
def test_evidence_seals_are_verified_as_they_arrive_after_their_attempts(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    ids = write(a, 3)
    first = verify_pass(city, clock)
    assert (first.checked, first.evidence_checked) == (3, 0)  # no video sealed yet
    for attempt in ids[:2]:
        seal_video(a, tmp_path, attempt)
    second = verify_pass(city, clock)
    assert (second.checked, second.evidence_checked, second.problems) == (0, 2, 0)
    assert "2 evidence seal(s)" in second.line()
    assert verify_pass(city, clock).evidence_checked == 0  # nothing new: nothing checked, nothing stored
    (late,) = write(a, 1, first=10)
    for attempt in (ids[2], late):
        seal_video(a, tmp_path, attempt)  # the newest attempt's seal and its video's both arrive by the next pass
    third = verify_pass(city, clock)
    assert (third.checked, third.evidence_checked, third.problems) == (1, 2, 0)
    assert [(r.from_seq, r.to_seq, r.checked, r.ok) for r in evidence_results(city, "4201001", EVIDENCE)] \
        == [(1, 2, 2, True), (3, 4, 2, True)]
    assert [r.to_seq for r in evidence_results(city, "4201001", SEALS)] == [3, 4]  # the seal chain's, apart
    with session_factory(city, None)() as session:
        assert session.scalars(select(CityVerifiedEvidence.attempt_id).order_by(CityVerifiedEvidence.seq)).all() \
            == [*ids, late]
    assert seal_chain_warnings(session_factory(city, None), START, END) == []


@pg
def test_an_evidence_seal_waits_for_its_attempts_seal_and_a_restarted_pass_resumes(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    ids = write(a, 2)
    for attempt in reversed(ids):  # the second attempt's video is sealed first
        seal_video(a, tmp_path, attempt)
    first = verify_pass(city, clock, limit=1)
    # The first seal is verified; evidence seal 1 names the second attempt, whose seal is not yet.
    assert (first.checked, first.evidence_checked, first.problems) == (1, 0, 0)
    city.dispose()
    again = make_engine(city.url.render_as_string(hide_password=False))  # a new process: only the database remembers
    try:
        second = verify_pass(again, clock, limit=1)
        assert (second.checked, second.evidence_checked) == (1, 1)
        third = verify_pass(again, clock)
        assert (third.checked, third.evidence_checked, third.problems) == (0, 1, 0)
        assert verify_pass(again, clock).evidence_checked == 0
    finally:
        again.dispose()


@pg
def test_an_edited_or_removed_evidence_seal_is_stored_with_its_attempts(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    ids = write(a, 6)
    for attempt in ids[:4]:
        seal_video(a, tmp_path, attempt)
    assert verify_pass(city, clock).evidence_checked == 4
    for attempt in ids[4:]:
        seal_video(a, tmp_path, attempt)
    edit = "UPDATE evidence_seals SET payload = replace(payload, '\"bytes\":', '\"bytes\": ') " \
           "WHERE course_key = '4201001' AND seq = :s"
    # Evidence seal 2 removed and 4 (the last verified) edited after the city verified them; 5 edited before.
    evidence_tampered(city, ("DELETE FROM evidence_seals WHERE course_key = '4201001' AND seq = 2", {}),
                      (edit, {"s": 4}), (edit, {"s": 5}))
    found = verify_pass(city, clock)
    assert (found.checked, found.evidence_checked) == (0, 2)
    (chain,) = [c for c in found.chains if c.kind == "evidence"]
    wheres = {(p["attempt"], p["where"]) for p in chain.problems}
    assert wheres == {(ids[1], "evidence chain head"), (ids[3], "evidence chain head"),
                      (ids[4], "evidence seal signature"), (ids[5], "evidence chain")}
    assert any("is gone" in p["message"] for p in chain.problems if p["attempt"] == ids[1])
    assert any("replaced or edited" in p["message"] for p in chain.problems if p["attempt"] == ids[3])
    (stored,) = [r for r in evidence_results(city, "4201001", EVIDENCE) if not r.ok]
    assert set(stored.attempts) == {ids[1], ids[3], ids[4], ids[5]} and (stored.from_seq, stored.to_seq) == (5, 6)
    assert verify_pass(city, clock).problems == 0  # found once, kept once
    (warning,) = seal_chain_warnings(session_factory(city, None), START, END)
    assert warning.msgid == SEAL_EVIDENCE and "录像封存" in str(warning)
    assert warning.attempts == tuple(("4201001", i) for i in (ids[1], ids[3], ids[4], ids[5]))


@pg
def test_an_evidence_seal_naming_another_seal_than_the_city_verified_is_found(city, tmp_path):
    a = course(city, "4201001", tmp_path)
    (attempt,) = write(a, 1)
    assert verify_pass(city, clock).checked == 1
    # The attempt's seal replaced at the course after the city verified it, and its video sealed over the new one.
    tampered(city, ("UPDATE seals SET payload = payload || ' ' WHERE course_key = '4201001' AND attempt_id = :a",
                    {"a": attempt}))
    seal_video(a, tmp_path, attempt)
    found = verify_pass(city, clock)
    (chain,) = [c for c in found.chains if c.kind == "evidence"]
    assert [(p["attempt"], p["where"]) for p in chain.problems] == [(attempt, "evidence seal")]
    assert "the one the city verified" in chain.problems[0]["message"]


@pg
def test_a_forged_or_edited_evidence_release_is_found_with_the_attempts_it_names(city, tmp_path):


    a = course(city, "4201001", tmp_path)
    ids = write(a, 3)
    statements = [json.loads(seal_video(a, tmp_path, attempt).payload) for attempt in ids]

    def released(n: int) -> list[ReleasedSegment]:
        return [ReleasedSegment(s.camera, s.file, s.bytes, s.sha256, (ids[n],)) for s in sealed_segments(statements[n])]

    course_sealer = EvidenceSealer(a.sessions, load_or_create_key(tmp_path / "4201001"))
    honest = course_sealer.release(released(0), 30, NOW)
    first = verify_pass(city, clock)
    assert (first.evidence_checked, first.releases_checked, first.problems) == (3, 1, 0)
    # A release signed with a key the city never registered, and the honest one edited afterwards.
    EvidenceSealer(a.sessions, Ed25519PrivateKey.generate()).release(released(1), 30, NOW)
    second_honest = course_sealer.release(released(2), 30, NOW)
    evidence_tampered(city, ("UPDATE evidence_releases SET payload = replace(payload, :was, :now) "
                             "WHERE course_key = '4201001' AND id = :r",
                             {"was": '"evidence_days":30', "now": '"evidence_days":1', "r": second_honest.id}))
    found = verify_pass(city, clock)
    assert found.releases_checked == 2
    (chain,) = [c for c in found.chains if c.kind == "releases"]
    assert chain.attempts == (ids[1], ids[2])
    assert any("not registered at the city" in p["message"] for p in chain.problems if p["attempt"] == ids[1])
    assert any("does not hold" in p["message"] for p in chain.problems if p["attempt"] == ids[2])
    # The honest release removed after the city verified it: its attempt is named.
    evidence_tampered(city, ("DELETE FROM evidence_releases WHERE course_key = '4201001' AND id = :r",
                             {"r": honest.id}))
    gone = verify_pass(city, clock)
    assert [(p["attempt"], "is gone" in p["message"]) for c in gone.chains for p in c.problems] == [(ids[0], True)]
    stored = [r for r in evidence_results(city, "4201001", RELEASES) if not r.ok]
    assert [sorted(r.attempts) for r in stored] == [[ids[1], ids[2]], [ids[0]]]
    (warning,) = seal_chain_warnings(session_factory(city, None), START, END)
    assert warning.msgid == SEAL_EVIDENCE and warning.attempts == tuple(("4201001", i) for i in ids)

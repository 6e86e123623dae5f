"""A course replicates its records to the city by PostgreSQL logical replication; a cut link
loses nothing and repeats nothing; the city shows each course's link; a slot holding back WAL
warns; a lost slot is recovered by re-sync. Real clusters (initdb), a TCP relay as the link."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text

from examroom.city import replication
from examroom.city.errors import CityError
from examroom.city.relay import TcpRelay
from examroom.city.watch import LinkWatch, slot_states
from examroom.records.database import make_engine, session_factory
from examroom.records.attempt_log import Records
from examroom.simulation.busy_course import AttemptShape, BusyCourse
from tests.examroom.city.conftest import counts, row_sets, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers and their replication, in real time

CODE = "4201001"
START = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
SMALL = AttemptShape(seconds=5.0, batch_s=1.0)  # 151 journal rows in 6 commits
LONGER = AttemptShape(seconds=20.0, batch_s=1.0)  # 601 rows: five of them pass the warning size below
WARN = 1 << 20  # the slot warns when it holds 1 MiB of WAL (a course's default is 1 GiB)


@pytest.fixture
def relays():
    made = []

    def make(target):
        relay = TcpRelay(target).start()
        made.append(relay)
        return relay
    yield make
    for relay in made:
        relay.close()


def _course_and_city(clusters, settings=None):
    course, city = clusters("course", settings=settings), clusters("city")
    course_db = make_engine(course.create_database())
    city_db = make_engine(city.create_database())
    clusters.engines += [course_db, city_db]
    replication.prepare_course(course_db, CODE)
    replication.prepare_city(city_db)
    return course, course_db, city_db


def test_a_cut_link_loses_nothing_and_repeats_nothing_and_the_city_shows_it(clusters, relays):
    course, course_db, city_db = _course_and_city(clusters)
    busy = BusyCourse(Records(session_factory(course_db)), CODE, shape=SMALL)
    busy.attempt(1, START)  # records made before the city subscribed come with the first copy
    relay = relays(("127.0.0.1", course.port))
    replication.subscribe(city_db, CODE, course.conninfo(port=relay.port))
    wait_until(lambda: replication.sync_state(city_db, CODE).done, what="the first copy")
    busy.attempt(2, START + timedelta(minutes=6))
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the city to catch up")

    watch = LinkWatch(city_db, {CODE: course_db}, warn_bytes=WARN)
    link = wait_until(lambda: next((l for l in watch.sample() if l.connected and l.slot and l.slot.active), None),
                      what="a connected link")
    assert link.last_contact is not None and link.lag_s is not None and link.slot.warning is None
    contact_before_cut = link.last_contact

    relay.cut()
    wait_until(lambda: not watch.sample()[0].connected, what="the city to see the link down")
    accepted_at_cut = relay.counts().accepted
    busier = BusyCourse(busy.records, CODE, shape=LONGER)
    for n in range(3, 8):  # the course examines on: every write commits at once, the city is not waited for
        busier.attempt(n, START + timedelta(minutes=6 * n))
    course_rows = row_sets(course_db, CODE)
    assert counts(row_sets(city_db, CODE))["attempts"] == 2
    down = watch.sample()[0]
    # Seen once in ten fresh-clone runs: connected again here, with the relay cut. What each side
    # said is in the message, for whoever meets it next.
    assert not down.connected and down.lag_s is None, link_evidence(city_db, course_db, relay, accepted_at_cut, down)
    assert down.last_contact is not None and down.last_contact >= contact_before_cut  # remembered
    assert down.slot is not None and not down.slot.active and down.slot.behind_bytes > 0
    assert down.slot.warning is not None and "保留了" in down.slot.warning_text
    assert relay.counts().cuts == 1

    relay.restore()
    wait_until(lambda: row_sets(city_db, CODE) == course_rows, what="the city to catch up after the cut")
    assert counts(course_rows) == counts(row_sets(city_db, CODE))
    assert counts(course_rows)["attempts"] == 7
    assert counts(course_rows)["journal"] == 2 * SMALL.journal_rows + 5 * LONGER.journal_rows
    with course_db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CHECKPOINT"))  # logs the running transactions the slot's restart point moves to
    back = wait_until(lambda: next((l for l in watch.sample()
                                    if l.connected and l.slot and l.slot.warning is None), None),
                      what="the warning to clear once caught up")
    assert back.last_contact > contact_before_cut


def link_evidence(city_db, course_db, relay, accepted_at_cut, link) -> str:
    """Both servers' own view of the link, and the relay's counts, as text."""
    with city_db.connect() as connection:
        city = connection.execute(text("SELECT pid, relid, received_lsn::text, last_msg_send_time, "
                                       "last_msg_receipt_time FROM pg_stat_subscription")).all()
    with course_db.connect() as connection:
        course = connection.execute(text("SELECT pid, application_name, client_addr, state "
                                         "FROM pg_stat_replication")).all()
    return (f"{link}; relay {relay.counts()} (accepted at the cut: {accepted_at_cut}); "
            f"city pg_stat_subscription {city}; course pg_stat_replication {course}")


def test_a_lost_slot_is_recovered_by_re_sync(clusters, relays):
    # The course keeps at most one WAL segment for the city: a long outage loses the slot.
    course, course_db, city_db = _course_and_city(clusters, settings={"max_slot_wal_keep_size": "1MB"})
    busy = BusyCourse(Records(session_factory(course_db)), CODE, shape=SMALL)
    relay = relays(("127.0.0.1", course.port))
    replication.subscribe(city_db, CODE, course.conninfo(port=relay.port))
    busy.attempt(1, START)
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the city to catch up")

    relay.cut()
    wait_until(lambda: not slot_states(course_db)[0].active, what="the slot to be released")
    with course_db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for n in range(2, 6):  # the course examines on, its WAL moves past what the slot may keep
            busy.attempt(n, START + timedelta(minutes=6 * n))
            connection.execute(text("SELECT pg_switch_wal()"))
        connection.execute(text("CHECKPOINT"))
    lost = slot_states(course_db)[0]
    assert lost.lost and "必须重新同步" in lost.warning_text

    relay.restore()
    replication.resync(city_db, CODE, course.conninfo(port=relay.port))
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the re-synced copy")
    assert counts(row_sets(city_db, CODE))["attempts"] == 5
    assert not slot_states(course_db)[0].lost


def test_the_city_database_refuses_a_course_database_and_a_second_subscription(clusters):
    course, course_db, city_db = _course_and_city(clusters)
    BusyCourse(Records(session_factory(course_db)), CODE, shape=SMALL).attempt(1, START)
    with pytest.raises(CityError, match="不能用作城市中心的汇总库"):
        replication.prepare_city(course_db)
    replication.subscribe(city_db, CODE, course.conninfo())
    with pytest.raises(CityError, match="已经订阅了考场"):
        replication.subscribe(city_db, CODE, course.conninfo())
    with pytest.raises(CityError, match="只能由字母、数字和下划线组成"):
        replication.subscribe(city_db, "42-01", course.conninfo())


def test_a_course_that_would_wait_for_the_city_is_refused(clusters):
    course, course_db, _city_db = _course_and_city(clusters)
    with course_db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("ALTER SYSTEM SET synchronous_standby_names = '*'")
        connection.exec_driver_sql("SELECT pg_reload_conf()")
    course_db.dispose()

    def reloaded():  # the postmaster reloads on its own time; a new session then reads the setting
        with course_db.connect() as connection:
            return connection.exec_driver_sql("SHOW synchronous_standby_names").scalar() == "*"
    wait_until(reloaded, what="the reloaded configuration")
    with pytest.raises(CityError, match="断网时考场将无法考试"):
        replication.publish(course_db)


def test_pictures_and_face_descriptors_stay_at_the_course(clusters, relays):
    """Personal data (个人信息保护法): the city gets a booking's digests, never its photos or descriptor."""
    from examroom.records.models import Booking, Candidate, Sitting

    course, course_db, city_db = _course_and_city(clusters)
    sessions = session_factory(course_db)
    with sessions.begin() as session:
        candidate = Candidate(name="王建国", id_number="62120219900101123X", exam_number="62000001",
                              vehicle_class="E")
        sitting = Sitting(code="S1", course_code=CODE, checkin_opens_utc=START, starts_utc=START,
                          ends_utc=START + timedelta(hours=4), status="open")
        session.add_all([candidate, sitting])
        session.flush()
        session.add(Booking(sitting_id=sitting.id, candidate_id=candidate.id, vehicle_class="E", state="checked_in",
                            serial_number="", school="", exam_reason="初考", confirmed_by="考试员甲",
                            photo=b"\xff\xd8 check-in photo", photo_sha256="a" * 64, photo_bytes=19,
                            reference_photo=b"\xff\xd8 roster photo", reference_sha256="b" * 64,
                            face_descriptor=b"\x00" * 1024, face_model="dlib_resnet_v1+5pt", tries=0, outcome=""))
    relay = relays(("127.0.0.1", course.port))
    replication.subscribe(city_db, CODE, course.conninfo(port=relay.port))
    wait_until(lambda: replication.sync_state(city_db, CODE).done, what="the first copy")
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the city to catch up")
    query = text("SELECT photo, reference_photo, face_descriptor, photo_sha256, reference_sha256, face_model "
                 "FROM bookings WHERE course_key = :c")
    with course_db.connect() as connection:
        at_course = connection.execute(query, {"c": CODE}).one()
    with city_db.connect() as connection:
        at_city = connection.execute(query, {"c": CODE}).one()
    assert all(value is not None for value in at_course)
    assert at_city[:3] == (None, None, None)
    assert at_city[3:] == ("a" * 64, "b" * 64, "dlib_resnet_v1+5pt")


def test_an_attempts_video_statement_replicates_with_its_seal_and_verifies_at_the_city(clusters, tmp_path):
    """The evidence seal and the evidence release (records.evidence_seals) are replicated tables of the
    publication: they reach the city after the attempt's seal, and the city verifies them against the
    course's key (the video the release deleted is gone by retention, not missing)."""
    from examroom.records.evidence_seals import EvidenceSealer, ReleasedSegment, SealedSegment
    from examroom.records.sealing import Sealer, load_or_create_key
    from examroom.records.verify import verify

    course, course_db, city_db = _course_and_city(clusters)
    assert {"evidence_seals", "evidence_releases"} <= set(replication.publish(course_db))
    sessions = session_factory(course_db)
    key = load_or_create_key(tmp_path / "key")
    busy = BusyCourse(Records(sessions), CODE, shape=SMALL, sealer=Sealer(sessions, key))
    attempt = busy.attempt(1, START)
    replication.subscribe(city_db, CODE, course.conninfo())
    wait_until(lambda: replication.sync_state(city_db, CODE).done, what="the first copy")
    segment = SealedSegment("top", 1, "2026-12-01/01/top/00.00.mp4", "2026-12-01T01:00:00.000000Z",
                            "2026-12-01T01:00:10.000000Z", 1234, "ab" * 32)
    sealer = EvidenceSealer(sessions, key)
    sealer.seal(attempt, {"top": [segment]}, (START, START + timedelta(seconds=10)))
    # A year on, the course's evidence retention signs the segment's deletion.
    sealer.release([ReleasedSegment("top", segment.file, 1234, segment.sha256, (attempt,))], 365,
                   START + timedelta(days=366))
    wait_until(lambda: row_sets(city_db, CODE) == row_sets(course_db, CODE), what="the city to catch up")
    assert counts(row_sets(city_db, CODE))["evidence_seals"] == counts(row_sets(city_db, CODE))["evidence_releases"] == 1
    report = verify(session_factory(city_db, None), course=CODE, public_key=key.public_key())
    assert report.ok and report.checked == [attempt], [str(p) for p in report.problems]
    assert [g.file for g in report.video_gone] == [segment.file]

"""Start after a crash: running attempts become interrupted, candidates wait again, the rest is untouched."""

from datetime import datetime, timedelta, timezone

from examroom.records.models import Attempt, Booking, Candidate, Sitting
from examroom.station.recovery import INTERRUPTED_REASON, mark_interrupted
from tests.examroom.attempts import UTC, finished_attempt, id_number


def _booking(session, sitting_id, n, state):
    c = Candidate(name=f"考生{n}", id_number=id_number(n), exam_number=f"63{n:08d}", vehicle_class="E")
    session.add(c)
    session.flush()
    b = Booking(sitting_id=sitting_id, candidate_id=c.id, vehicle_class="E", state=state, vehicle_id="V1",
                serial_number="", school="", exam_reason="初考", confirmed_by="甲", photo_sha256="", tries=0, outcome="")
    session.add(b)
    session.flush()
    return c.id, b.id


def test_recovery(records):
    sessions = records.sessions
    finished = finished_attempt(records)
    with sessions.begin() as session:
        sitting = Sitting(code="S1", course_code="", checkin_opens_utc=UTC, starts_utc=UTC,
                          ends_utc=UTC + timedelta(hours=1), status="running")
        session.add(sitting)
        session.flush()
        running_candidate, running_booking = _booking(session, sitting.id, 1, "on_vehicle")
        _, stale_booking = _booking(session, sitting.id, 2, "on_vehicle")
    attempt = records.check_in(running_candidate, "V1", "demo", "ga1026-2022", UTC, booking_id=running_booking,
                               attempt_no=1)
    records.mark_running(attempt, UTC)
    before = records.attempt(finished)
    now = datetime(2026, 11, 29, 4, 0, tzinfo=timezone.utc)
    assert mark_interrupted(sessions, now) == [attempt]
    assert mark_interrupted(sessions, now) == []
    with sessions() as session:
        interrupted = session.get(Attempt, attempt)
        assert (interrupted.status, interrupted.reason) == ("interrupted", INTERRUPTED_REASON)
        for booking_id in (running_booking, stale_booking):
            booking = session.get(Booking, booking_id)
            assert (booking.state, booking.tries, booking.vehicle_id) == ("checked_in", 0, None)
    after = records.attempt(finished)
    assert (after.status, after.score, after.ended_utc, after.result) == (before.status, before.score,
                                                                         before.ended_utc, before.result)

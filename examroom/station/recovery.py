"""What the controller does on start after a crash.

Attempts found running (or checked in but never started) belong to a
controller that died: they are marked interrupted (中断) with their journal as
it was committed — the controller commits every ≤ 50 ms, so at most that much of
the observation stream is gone — and sealed like any finished attempt. Their
bookings go back to the queue for a re-run that uses no try. Finished attempts
are not touched.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.examday.callup import release
from examroom.records.models import Attempt, AttemptStatus, Booking, BookingState

INTERRUPTED_REASON = "控制器中断：重启时发现考试未结束"


def mark_interrupted(sessions: sessionmaker[Session], utc: datetime | None = None) -> list[int]:
    utc = utc or datetime.now(timezone.utc)
    with sessions.begin() as session:
        attempts = session.scalars(select(Attempt).where(
            Attempt.status.in_([AttemptStatus.RUNNING.value, AttemptStatus.CHECKED_IN.value]))
            .order_by(Attempt.id)).all()
        for attempt in attempts:
            attempt.status = AttemptStatus.INTERRUPTED.value
            attempt.ended_utc = utc
            attempt.reason = INTERRUPTED_REASON
            if attempt.booking_id is not None:
                release(session.get(Booking, attempt.booking_id), AttemptStatus.INTERRUPTED)
        # A candidate marked on a vehicle whose attempt never began (the crash came between the
        # two writes) waits again too: nothing is running now.
        for booking in session.scalars(select(Booking).where(Booking.state == BookingState.ON_VEHICLE.value)):
            release(booking, AttemptStatus.INTERRUPTED)
        return [a.id for a in attempts]

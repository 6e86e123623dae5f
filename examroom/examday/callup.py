"""Vehicle assignment, the call-up queue (叫号) and the life of a booking's attempts.

Checked-in candidates wait in queue-number order. A vehicle calls the first
waiting candidate of its class (or the supervisor assigns one); a candidate is
never put on a vehicle of another class, nor on two vehicles at once. Starting
a called candidate needs a sitting that passed its self-check.

After each attempt the booking moves on: a pass ends it; a first failure
sends the candidate back to the queue for the one re-test (补考) of the
sitting; a second failure ends it. A supervisor stop, a device fault or a
controller crash uses no try: the candidate waits again and the re-run carries
the same attempt number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from examroom.messages import N_, SupervisorError
from examroom.records.people import mask_id_number, public_name
from examroom.records.models import (Attempt, AttemptStatus, Booking, BookingOutcome, BookingState, Sitting,
                                     SittingStatus, Vehicle)

TRIES_PER_SITTING = 2  # the attempt and one 补考 (research.md §1.2)
_BUSY = (BookingState.CALLED.value, BookingState.ON_VEHICLE.value)


class CallUpError(SupervisorError, ValueError):
    """Why an assignment or a start is refused (a Chinese msgid: the supervisor reads it, the web translates it)."""


@dataclass(frozen=True)
class HallEntry:
    queue_no: int
    name: str  # masked for the public screen: 张*伟
    masked_id: str
    vehicle_class: str
    state: str
    plate: str
    retest: bool




class CallUp:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # -- assignment -----------------------------------------------------------------
    def assign(self, booking_id: int, vehicle_id: str, utc: datetime | None = None) -> None:
        with self._sessions.begin() as session:
            booking = session.get(Booking, booking_id)
            vehicle = session.get(Vehicle, vehicle_id)
            if booking is None:
                raise CallUpError(N_("无此预约（%(booking)s）"), booking=booking_id)
            if vehicle is None:
                raise CallUpError(N_("无此考试车辆（%(vehicle)s）"), vehicle=vehicle_id)
            self._assign(session, booking, vehicle, utc or datetime.now(timezone.utc))

    def call_next(self, sitting_id: int, vehicle_id: str, utc: datetime | None = None) -> int | None:
        """Call the first waiting candidate of the vehicle's class; their booking id, or None."""
        with self._sessions.begin() as session:
            vehicle = session.get(Vehicle, vehicle_id)
            if vehicle is None:
                raise CallUpError(N_("无此考试车辆（%(vehicle)s）"), vehicle=vehicle_id)
            booking = session.scalar(
                select(Booking).where(Booking.sitting_id == sitting_id,
                                      Booking.state == BookingState.CHECKED_IN.value,
                                      Booking.vehicle_class == vehicle.vehicle_class)
                .order_by(Booking.queue_no).limit(1))
            if booking is None:
                return None
            self._assign(session, booking, vehicle, utc or datetime.now(timezone.utc))
            return booking.id

    def _assign(self, session: Session, booking: Booking, vehicle: Vehicle, utc: datetime) -> None:
        name = booking.candidate.name
        if booking.vehicle_class != vehicle.vehicle_class:
            raise CallUpError(N_("%(name)s预约的准驾车型为%(booked)s，车辆%(plate)s考%(examined)s"), name=name,
                              booked=booking.vehicle_class, plate=vehicle.plate, examined=vehicle.vehicle_class)
        if booking.state in _BUSY:
            raise CallUpError(N_("%(name)s已在车辆%(vehicle)s上"), name=name, vehicle=booking.vehicle_id)
        if booking.state != BookingState.CHECKED_IN.value:
            raise CallUpError(N_("%(name)s未签到或已考完（状态：%(state)s）"), name=name, state=booking.state)
        elsewhere = session.scalar(select(Booking).where(Booking.candidate_id == booking.candidate_id,
                                                         Booking.state.in_(_BUSY)))
        if elsewhere is not None:
            raise CallUpError(N_("%(name)s已在车辆%(vehicle)s上"), name=name, vehicle=elsewhere.vehicle_id)
        occupied = session.scalar(select(Booking).where(Booking.vehicle_id == vehicle.id, Booking.state.in_(_BUSY)))
        if occupied is not None:
            raise CallUpError(N_("车辆%(plate)s上已有考生%(name)s"), plate=vehicle.plate, name=occupied.candidate.name)
        booking.state = BookingState.CALLED.value
        booking.vehicle_id = vehicle.id
        booking.called_utc = utc

    # -- the attempt ----------------------------------------------------------------
    def start(self, booking_id: int, controller) -> int:
        """Start the called candidate's attempt on their vehicle; returns the attempt id."""
        with self._sessions.begin() as session:
            booking = session.get(Booking, booking_id)
            if booking is None:
                raise CallUpError(N_("无此预约（%(booking)s）"), booking=booking_id)
            sitting = session.get(Sitting, booking.sitting_id)
            if sitting.status != SittingStatus.RUNNING.value:
                if sitting.self_check and not sitting.self_check.get("ok"):
                    raise CallUpError(N_("场次%(sitting)s设备自检未通过，不能开始考试"), sitting=sitting.code)
                raise CallUpError(N_("场次%(sitting)s未开考，不能开始考试"), sitting=sitting.code)
            if booking.state != BookingState.CALLED.value:
                raise CallUpError(N_("%(name)s未被叫号（状态：%(state)s）"), name=booking.candidate.name, state=booking.state)
            vehicle_id, candidate_id, name = booking.vehicle_id, booking.candidate_id, booking.candidate.name
            attempt_no = booking.tries + 1
            booking.state = BookingState.ON_VEHICLE.value
        try:
            return controller.begin_attempt(vehicle_id, candidate_id, name, booking_id=booking_id,
                                            attempt_no=attempt_no)
        except Exception:
            with self._sessions.begin() as session:  # the candidate is still called, not on the vehicle
                session.get(Booking, booking_id).state = BookingState.CALLED.value
            raise

    def on_finished(self, attempt_id: int, status: AttemptStatus) -> None:
        """Move the attempt's booking on (a controller finish listener)."""
        with self._sessions.begin() as session:
            attempt = session.get(Attempt, attempt_id)
            if attempt is None or attempt.booking_id is None:
                return
            booking = session.get(Booking, attempt.booking_id)
            release(booking, status)


def release(booking: Booking, status: AttemptStatus) -> None:
    """The booking's next state once an attempt of it ended as ``status``."""
    booking.vehicle_id = None
    if status == AttemptStatus.PASSED:
        booking.tries += 1
        booking.state, booking.outcome = BookingState.DONE.value, BookingOutcome.PASSED.value
    elif status == AttemptStatus.FAILED:
        booking.tries += 1
        if booking.tries >= TRIES_PER_SITTING:
            booking.state, booking.outcome = BookingState.DONE.value, BookingOutcome.FAILED.value
        else:
            booking.state = BookingState.CHECKED_IN.value  # waits for the 补考
    else:  # stopped, device fault, interrupted: no try used, a re-run follows
        booking.state = BookingState.CHECKED_IN.value


def hall(sessions: sessionmaker[Session], sitting_id: int) -> dict:
    """The waiting-hall screen: who is called to which vehicle, who waits, in order."""
    with sessions() as session:
        sitting = session.get(Sitting, sitting_id)
        if sitting is None:
            return {}
        rows = session.scalars(select(Booking).where(Booking.sitting_id == sitting_id,
                                                     Booking.queue_no.is_not(None))
                               .order_by(Booking.queue_no)).all()
        plates = {v.id: v.plate for v in session.scalars(select(Vehicle))}
        entries = [HallEntry(b.queue_no, public_name(b.candidate.name), mask_id_number(b.candidate.id_number),
                             b.vehicle_class, b.state, plates.get(b.vehicle_id, ""), b.tries > 0) for b in rows]
        return {"sitting": sitting.code, "status": sitting.status,
                # Called to a vehicle and not yet on it: those already testing are not on the hall screen.
                "called": [e for e in entries if e.state == BookingState.CALLED.value],
                "waiting": [e for e in entries if e.state == BookingState.CHECKED_IN.value]}


@dataclass(frozen=True)
class DeskEntry:
    booking_id: int
    queue_no: int
    name: str  # in full: the supervisor's desk identifies the person
    masked_id: str
    vehicle_class: str
    state: str
    vehicle_id: str | None
    tries: int


@dataclass(frozen=True)
class DeskQueue:
    sitting_id: int
    code: str
    status: str
    entries: list[DeskEntry]  # checked in and not yet done, in queue order
    finished: int  # bookings done or absent
    booked: int  # bookings not yet checked in


def desk_queues(sessions: sessionmaker[Session]) -> list[DeskQueue]:
    """The queue of every sitting open for check-in or running, for the supervisor's console."""
    live = (SittingStatus.OPEN.value, SittingStatus.RUNNING.value)
    waiting = (BookingState.CHECKED_IN.value, *_BUSY)
    finished = (BookingState.DONE.value, BookingState.NO_SHOW.value)
    out = []
    with sessions() as session:
        for sitting in session.scalars(select(Sitting).where(Sitting.status.in_(live)).order_by(Sitting.starts_utc)):
            bookings = session.scalars(select(Booking).where(Booking.sitting_id == sitting.id)
                                       .order_by(Booking.queue_no, Booking.id)).all()
            entries = [DeskEntry(b.id, b.queue_no, b.candidate.name, mask_id_number(b.candidate.id_number),
                                 b.vehicle_class, b.state, b.vehicle_id, b.tries)
                       for b in bookings if b.state in waiting]
            out.append(DeskQueue(sitting.id, sitting.code, sitting.status, entries,
                                 sum(b.state in finished for b in bookings),
                                 sum(b.state == BookingState.BOOKED.value for b in bookings)))
    return out

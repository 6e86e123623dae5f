"""Is the person at the desk (or on the vehicle) the person who booked? The booking's side of it.

A booking's reference photo comes with the roster or is the first check-in's
photo, which the supervisor confirms against the ID card. Its face descriptor
is computed once, when the photo is set (or at the first check that needs it,
when the models were missing then), and stored with the booking.

At check-in the photo is compared 1:1 with the reference
(:func:`check_arrival`): a match checks the candidate in; a mismatch, a
"cannot tell" or a course without the face models (``unavailable``: the
supervisor's eye decides alone) is kept as a pending :class:`IdentityCheck`
with both pictures, and the supervisor's decision (:func:`decide`) is stored
on it, sealed with the booking's attempts and written to the audit log by
whoever called.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from examroom.faces import verification
from examroom.faces.verification import Outcome
from examroom.records.models import Booking, IdentityCheck

ENROLLED = "enrolled"  # no reference yet: this check-in photo became it
UNAVAILABLE = "unavailable"  # no face models on this machine: the supervisor's eye alone
NO_REFERENCE_FACE = "reference"  # the reference photo itself gives no usable face
ACCEPTED, REFUSED = "accepted", "refused"
NEEDS_DECISION = (Outcome.MISMATCH.value, Outcome.CANNOT_TELL.value, UNAVAILABLE)


@dataclass(frozen=True)
class Arrival1to1:
    """The check-in photo against the booking: ``outcome`` match/enrolled lets the check-in go on."""

    check_id: int
    outcome: str
    unclear: str
    distance: float | None
    threshold: float | None
    unavailable_reason: str = ""

    @property
    def needs_decision(self) -> bool:
        return self.outcome in NEEDS_DECISION


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def set_reference(booking: Booking, photo: bytes, source: str, confirmed_by: str) -> verification.FaceReading | None:
    """Make ``photo`` the booking's reference and compute its descriptor (None: no models here)."""
    booking.reference_photo = photo
    booking.reference_sha256 = sha256(photo)
    booking.reference_source = source
    booking.reference_confirmed_by = confirmed_by
    booking.face_descriptor, booking.face_model = None, ""
    return _describe_reference(booking)


def _describe_reference(booking: Booking) -> verification.FaceReading | None:
    if verification.unavailable_reason() is not None or booking.reference_photo is None:
        return None
    reading = verification.face_models().read_encoded(booking.reference_photo)
    if reading.descriptor is not None:
        booking.face_descriptor = verification.to_bytes(reading.descriptor)
        booking.face_model = verification.MODEL
    return reading


def booking_descriptor(booking: Booking) -> np.ndarray | None:
    """The booking's descriptor, computed now from its reference photo if it was not yet (None: none usable)."""
    if booking.face_descriptor is None or booking.face_model != verification.MODEL:
        _describe_reference(booking)
    return verification.from_bytes(booking.face_descriptor) if booking.face_descriptor is not None else None


def check_arrival(session: Session, booking: Booking, photo: bytes, utc: datetime) -> Arrival1to1:
    """Compare the check-in photo with the booking's reference and store the check (in ``session``)."""
    reason = verification.unavailable_reason()
    check = IdentityCheck(booking_id=booking.id, kind="checkin", source="checkin", utc=utc, picture=photo,
                          picture_sha256=sha256(photo), frames=1, model="")
    if not booking.reference_sha256:
        check.outcome = ENROLLED
    elif reason is not None:
        check.outcome = UNAVAILABLE
    else:
        reference = booking_descriptor(booking)
        check.model, check.threshold = verification.MODEL, verification.THRESHOLD
        if reference is None:
            check.outcome, check.unclear = Outcome.CANNOT_TELL.value, NO_REFERENCE_FACE
        else:
            verdict = verification.compare(reference, verification.face_models().read_encoded(photo))
            check.outcome, check.unclear, check.distance = verdict.outcome.value, verdict.unclear, verdict.distance
    session.add(check)
    session.flush()
    return Arrival1to1(check.id, check.outcome, check.unclear, check.distance, check.threshold, reason or "")


def pending_check(session: Session, booking_id: int, check_id: int) -> IdentityCheck | None:
    """The booking's check-in check awaiting a decision, or None."""
    check = session.get(IdentityCheck, check_id)
    if (check is None or check.booking_id != booking_id or check.kind != "checkin" or check.decision
            or check.outcome not in NEEDS_DECISION):
        return None
    return check


def decide(check: IdentityCheck, accepted: bool, supervisor: str, comment: str, utc: datetime) -> None:
    check.decision = ACCEPTED if accepted else REFUSED
    check.decided_by, check.decided_utc, check.decision_comment = supervisor, utc, comment.strip()


def checks_of_booking(session: Session, booking_id: int) -> list[IdentityCheck]:
    return list(session.scalars(select(IdentityCheck).where(IdentityCheck.booking_id == booking_id)
                                .order_by(IdentityCheck.utc, IdentityCheck.id)))


def describe_models() -> str:
    """One line for logs and the check-in page: which models run, or why none does."""
    reason = verification.unavailable_reason()
    return f"1:1 face verification: {verification.MODEL}, threshold {verification.THRESHOLD}" if reason is None \
        else f"1:1 face verification unavailable: {reason}"


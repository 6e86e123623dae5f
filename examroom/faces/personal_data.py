"""Deleting candidates' face data when its retention ends (个人信息保护法: kept no longer than needed).

Photos and face descriptors are sensitive personal information. They are kept
on the course machine only, for ``retention_days`` after the booking's sitting
ended; then the booking's reference photo, check-in photo and descriptor, the
pictures of its 1:1 checks and the face-flag frames of it and its attempts are
deleted. What stays is what the seals name: each picture's SHA-256 (and the
check-in photo's size), so sealed records keep verifying; the booking row
itself stays with its attempts, which are evidence. Every deletion is written
to the audit log by :func:`delete_expired`'s caller (``on_deleted``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from examroom.courseclock import as_utc
from examroom.records.models import Attempt, Booking, FaceFlag, IdentityCheck, Sitting


def expired_bookings(session: Session, now: datetime, retention_days: float) -> list[int]:
    """Bookings whose sitting ended more than ``retention_days`` ago and whose face data is not yet deleted."""
    cutoff = as_utc(now) - timedelta(days=retention_days)
    return list(session.scalars(
        select(Booking.id).join(Sitting, Sitting.id == Booking.sitting_id)
        .where(Sitting.ends_utc < cutoff, Booking.personal_data_deleted_utc.is_(None))
        .order_by(Booking.id)))


def delete_booking_faces(session: Session, booking_id: int, now: datetime) -> dict:
    """Delete one booking's pictures and descriptor; returns what was deleted (for the audit entry)."""
    booking = session.get(Booking, booking_id, with_for_update=True)
    photo = booking.photo
    deleted = {"checkin_photo": photo is not None, "reference_photo": booking.reference_sha256 != "",
               "descriptor": booking.face_descriptor is not None}
    if photo is not None:
        booking.photo_bytes = len(photo)
    booking.photo = None
    booking.reference_photo = None
    booking.face_descriptor = None
    booking.personal_data_deleted_utc = now
    deleted["identity_pictures"] = session.execute(
        update(IdentityCheck).where(IdentityCheck.booking_id == booking_id, IdentityCheck.picture.is_not(None))
        .values(picture=None)).rowcount
    attempts = select(Attempt.id).where(Attempt.booking_id == booking_id).scalar_subquery()
    deleted["face_flags"] = session.execute(
        update(FaceFlag).where(or_(FaceFlag.booking_id == booking_id, FaceFlag.attempt_id.in_(attempts)),
                               FaceFlag.jpeg != b"")
        .values(jpeg=b"")).rowcount
    return deleted


def delete_expired(sessions: sessionmaker[Session], now: datetime, retention_days: float,
                   on_deleted: Callable[[int, dict], None] | None = None) -> list[int]:
    """Delete the face data of every booking past its retention, one transaction per booking."""
    with sessions() as session:
        due = expired_bookings(session, now, retention_days)
    for booking_id in due:
        with sessions.begin() as session:
            deleted = delete_booking_faces(session, booking_id, now)
        if on_deleted is not None:
            on_deleted(booking_id, deleted)
    return due

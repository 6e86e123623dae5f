"""Reviewing face flags: an attempt's flagged pictures, its candidate's check-in photo, the review mark.

The flags of an attempt are those its in-car camera raised while it ran and
those raised at the check-in of the booking it serves (the check-in photo
itself is kept with the booking). A supervisor or auditor compares each
flagged picture with the check-in photo and marks it reviewed with what they
found; the web layer writes the audit entry.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, defer, sessionmaker

from examroom.records.models import Attempt, Booking, FaceFlag, IdentityCheck

THUMBNAIL_WIDTH = 240
THUMBNAIL_QUALITY = 80


class FaceReviewError(LookupError):
    pass


def _belongs(attempt: Attempt):
    """The flags of an attempt: its own, and its booking's check-in flags."""
    own = FaceFlag.attempt_id == attempt.id
    if attempt.booking_id is None:
        return own
    return or_(own, and_(FaceFlag.attempt_id.is_(None), FaceFlag.booking_id == attempt.booking_id))


def flags_to_review(sessions: sessionmaker[Session], attempt_id: int) -> list[FaceFlag]:
    """The attempt's flags in time order, without their pictures (detached rows; ``jpeg`` not loaded)."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None:
            return []
        rows = session.scalars(select(FaceFlag).where(_belongs(attempt)).options(defer(FaceFlag.jpeg))
                               .order_by(FaceFlag.utc, FaceFlag.id)).all()
        session.expunge_all()
        return list(rows)


def flag_picture(sessions: sessionmaker[Session], attempt_id: int, flag_id: int) -> bytes:
    """The flagged frame's JPEG; FaceReviewError unless the flag is one of the attempt's."""
    with sessions() as session:
        jpeg = _flag(session, attempt_id, flag_id).jpeg
        if not jpeg:  # deleted when its retention ended (examroom.faces.personal_data)
            raise FaceReviewError(f"the picture of face flag {flag_id} was deleted")
        return jpeg


def mark_reviewed(sessions: sessionmaker[Session], attempt_id: int, flag_id: int, reviewer: str, comment: str,
                  utc: datetime) -> None:
    """Record who looked at the flag, when and what they found (a later review replaces the mark;
    the audit log keeps every one)."""
    with sessions.begin() as session:
        flag = _flag(session, attempt_id, flag_id)
        flag.reviewed_by, flag.reviewed_utc, flag.review_comment = reviewer, utc, comment.strip()


def checkin_photo(sessions: sessionmaker[Session], attempt_id: int) -> bytes | None:
    """The photo taken at the check-in of the attempt's booking (None without a booking or photo)."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.booking_id is None:
            return None
        booking = session.get(Booking, attempt.booking_id)
        return booking.photo if booking is not None else None


def identity_checks(sessions: sessionmaker[Session], attempt_id: int) -> list[IdentityCheck]:
    """The attempt's 1:1 checks (its booking's check-in comparisons with their decisions, its in-cab
    mismatch runs) in time order, without their pictures (detached rows)."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.booking_id is None:
            return []
        rows = session.scalars(select(IdentityCheck).where(IdentityCheck.booking_id == attempt.booking_id)
                               .where((IdentityCheck.kind == "checkin") | (IdentityCheck.attempt_id == attempt_id))
                               .order_by(IdentityCheck.utc, IdentityCheck.id)).all()
        session.expunge_all()
        return list(rows)


def identity_picture(sessions: sessionmaker[Session], attempt_id: int, check_id: int) -> bytes:
    """The picture of one of the attempt's 1:1 checks; FaceReviewError if it is not the attempt's or was deleted."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        check = session.get(IdentityCheck, check_id)
        if (attempt is None or check is None or check.booking_id != attempt.booking_id
                or (check.kind != "checkin" and check.attempt_id != attempt_id) or not check.picture):
            raise FaceReviewError(f"attempt {attempt_id} has no identity picture {check_id}")
        return check.picture


def reference_photo(sessions: sessionmaker[Session], attempt_id: int) -> bytes | None:
    """The reference photo of the attempt's booking (None without one, or after its retention ended)."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.booking_id is None:
            return None
        return session.get(Booking, attempt.booking_id).reference_photo


def face_data_deleted(sessions: sessionmaker[Session], attempt_id: int) -> datetime | None:
    """When the pictures of the attempt's booking were deleted at the end of their retention (None: kept)."""
    with sessions() as session:
        attempt = session.get(Attempt, attempt_id)
        if attempt is None or attempt.booking_id is None:
            return None
        return session.get(Booking, attempt.booking_id).personal_data_deleted_utc


def thumbnail(picture: bytes, width: int = THUMBNAIL_WIDTH) -> bytes:
    """A JPEG ``width`` pixels wide (never enlarged) of a JPEG/PNG picture; ValueError if it does not decode."""
    # OpenCV (about 50 MB resident) is imported when a picture is shown, not with the web process's routes.
    import cv2

    image = cv2.imdecode(np.frombuffer(picture, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("picture is not a decodable image")
    if image.shape[1] > width:
        height = max(1, round(image.shape[0] * width / image.shape[1]))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, THUMBNAIL_QUALITY])
    if not ok:
        raise ValueError(f"could not encode a picture of shape {image.shape} as JPEG")
    return data.tobytes()


def _flag(session: Session, attempt_id: int, flag_id: int) -> FaceFlag:
    attempt = session.get(Attempt, attempt_id)
    flag = session.scalar(select(FaceFlag).where(FaceFlag.id == flag_id, _belongs(attempt))) if attempt else None
    if flag is None:
        raise FaceReviewError(f"attempt {attempt_id} has no face flag {flag_id}")
    return flag

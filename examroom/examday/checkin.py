"""Check-in (签到): identify a booked candidate by ID number, take the photo, confirm.

The ID number comes typed, from a card reader that types like a keyboard (the
check-in page's field), or from a serial card reader (``devices.cardreader``).
The supervisor compares the candidate with the booking shown for that number,
and confirms; the confirmation stores the check-in photo with the booking (its
digest goes into every sealed attempt of that booking) and gives a queue number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone

from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from examroom.messages import N_, SupervisorError
from examroom.records.people import IdNumberError, mask_id_number, validate_id_number
from examroom.records.models import Booking, BookingState, Candidate, Sitting, SittingStatus

if TYPE_CHECKING:
    from examroom.faces.detection import FaceCheck

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class CheckInError(SupervisorError, ValueError):
    """Why a check-in is refused (a Chinese msgid: the supervisor reads it, the web translates it)."""


@dataclass(frozen=True)
class Arrival:
    """What the supervisor compares with the person at the desk."""

    booking_id: int
    name: str
    masked_id: str
    exam_number: str
    vehicle_class: str
    school: str
    exam_reason: str
    state: str


def check_photo(photo: bytes) -> tuple[int, int]:
    """The photo's (width, height); refuses what is not a decodable image."""
    if not photo:
        raise CheckInError(N_("未提供签到照片"))
    if len(photo) > MAX_PHOTO_BYTES:
        raise CheckInError(N_("照片过大（%(size)s 字节，上限 %(limit)s）"), size=len(photo), limit=MAX_PHOTO_BYTES)
    # OpenCV and the face detector are imported at the first photo: the web process imports this
    # module with its routes and would otherwise hold OpenCV (about 50 MB) from the start.
    import cv2

    image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise CheckInError(N_("照片不是可识别的图像（JPEG/PNG）"))
    return image.shape[1], image.shape[0]


class CheckIn:
    """Identify and confirm arrivals.

    A photo that does not show exactly one face is kept with a review flag
    (``face_flags``); with ``require_one_face`` it is refused instead, so the
    supervisor retakes it.
    """

    def __init__(self, sessions: sessionmaker[Session], require_one_face: bool = False) -> None:
        self._sessions = sessions
        self.require_one_face = require_one_face

    def identify(self, sitting_id: int, id_number: str) -> Arrival:
        try:
            number = validate_id_number(id_number)
        except IdNumberError as exc:
            raise CheckInError(N_("身份证明号码无效：%(why)s"), why=str(exc)) from None
        with self._sessions() as session:
            sitting = self._open_sitting(session, sitting_id)
            booking = session.scalar(select(Booking).join(Candidate, Booking.candidate_id == Candidate.id)
                                     .where(Booking.sitting_id == sitting.id, Candidate.id_number == number))
            if booking is None:
                raise CheckInError(N_("场次%(sitting)s没有身份证明号码为%(id_number)s的预约"), sitting=sitting.code,
                                   id_number=mask_id_number(number))
            if booking.state != BookingState.BOOKED.value:
                raise CheckInError(N_("%(name)s已签到或已考完（状态：%(state)s）"), name=booking.candidate.name,
                                   state=booking.state)
            c = booking.candidate
            return Arrival(booking.id, c.name, mask_id_number(c.id_number), c.exam_number, booking.vehicle_class,
                           booking.school, booking.exam_reason, booking.state)

    def confirm(self, booking_id: int, photo: bytes, supervisor: str, utc: datetime | None = None) -> int:
        """The supervisor confirms the identity; returns the candidate's queue number."""
        if not supervisor.strip():
            raise CheckInError(N_("须由考试员确认签到"))
        check_photo(photo)
        import cv2

        from examroom.faces.detection import shared_detector
        from examroom.faces.watch import flag_frame

        image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
        faces = shared_detector().check(image)
        if self.require_one_face and not faces.ok:
            raise CheckInError(N_("签到照片%(faces)s，须只拍考生本人正脸，请重拍"), faces=faces.describe())
        with self._sessions.begin() as session:
            booking = session.get(Booking, booking_id, with_for_update=True)
            if booking is None:
                raise CheckInError(N_("无此预约（%(booking)s）"), booking=booking_id)
            self._open_sitting(session, booking.sitting_id)
            if booking.state != BookingState.BOOKED.value:
                raise CheckInError(N_("%(name)s已签到（状态：%(state)s）"), name=booking.candidate.name, state=booking.state)
            last = session.scalar(select(func.max(Booking.queue_no)).where(Booking.sitting_id == booking.sitting_id))
            booking.queue_no = (last or 0) + 1
            booking.state = BookingState.CHECKED_IN.value
            booking.checked_in_utc = utc or datetime.now(timezone.utc)
            booking.confirmed_by = supervisor.strip()
            booking.photo = photo
            booking.photo_sha256 = hashlib.sha256(photo).hexdigest()
            if not faces.ok:
                flag_frame(session, faces, image, booking.checked_in_utc, "checkin", booking_id=booking.id)
            return booking.queue_no

    @staticmethod
    def face_check(photo: bytes) -> FaceCheck:
        """How many faces the photo shows, for the check-in page to warn before confirming."""
        check_photo(photo)
        from examroom.faces.detection import shared_detector

        return shared_detector().check_encoded(photo)

    @staticmethod
    def _open_sitting(session: Session, sitting_id: int) -> Sitting:
        sitting = session.get(Sitting, sitting_id)
        if sitting is None:
            raise CheckInError(N_("无此场次（%(sitting)s）"), sitting=sitting_id)
        if sitting.status not in (SittingStatus.OPEN.value, SittingStatus.RUNNING.value):
            if sitting.status == SittingStatus.PLANNED.value:
                raise CheckInError(N_("场次%(sitting)s尚未开始签到"), sitting=sitting.code)
            raise CheckInError(N_("场次%(sitting)s已结束"), sitting=sitting.code)
        return sitting

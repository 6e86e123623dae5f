"""Check-in (签到): identify a booked candidate by ID number, take the photo, confirm.

The ID number comes typed, from a card reader that types like a keyboard (the
check-in page's field), or from a serial card reader (``devices.cardreader``).
The supervisor compares the candidate with the booking shown for that number
(and its reference photo, where it has one) and takes the photo. The photo is
compared 1:1 with the booking's reference (examroom.faces.identity, issue 17):
a match, or a booking without a reference (the photo becomes it), checks the
candidate in; a mismatch, a photo that cannot tell, or a machine without the
face models waits for the supervisor's decision (:meth:`CheckIn.decide`).
Checking in stores the photo with the booking (its digest goes into every
sealed attempt of that booking, with the comparison and the decision) and
gives a queue number.
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
    from examroom.faces.identity import Arrival1to1

MAX_PHOTO_BYTES = 5 * 1024 * 1024


class CheckInError(SupervisorError, ValueError):
    """Why a check-in is refused (a Chinese msgid: the supervisor reads it, the web translates it)."""


class IdentityUndecided(CheckInError):
    """The 1:1 comparison did not pass the photo: the supervisor decides (``CheckIn.decide``)."""

    def __init__(self, identity: "Arrival1to1") -> None:
        super().__init__(N_("人脸核验未通过（%(outcome)s），须由考试员比对两张照片后决定"), outcome=identity.outcome)
        self.identity = identity


@dataclass(frozen=True)
class Presented:
    """A check-in photo presented: the queue number (None: waiting for the supervisor's decision)."""

    queue_no: int | None
    identity: "Arrival1to1"


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
    has_reference: bool = False  # a reference photo to compare with (issue 17): shown beside the form


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
                           booking.school, booking.exam_reason, booking.state, bool(booking.reference_sha256))

    def present(self, booking_id: int, photo: bytes, supervisor: str, utc: datetime | None = None) -> Presented:
        """The check-in photo is compared 1:1 with the booking's reference photo (issue 17).

        A match checks the candidate in; so does a booking without a reference, whose photo
        becomes it (the supervisor has compared the person with the ID card). A mismatch, a
        picture that cannot tell, or a course without the face models leaves the booking as it
        was, with a pending check for the supervisor's :meth:`decide`.
        """
        supervisor = self._supervisor(supervisor)
        image, faces = self._faces(photo)
        from examroom.faces.identity import ENROLLED, check_arrival, set_reference

        utc = utc or datetime.now(timezone.utc)
        with self._sessions.begin() as session:
            booking = self._booked(session, booking_id)
            identity = check_arrival(session, booking, photo, utc)
            if identity.needs_decision:
                return Presented(None, identity)
            queue_no = self._check_in(session, booking, photo, image, faces, supervisor, utc)
            if identity.outcome == ENROLLED:
                set_reference(booking, photo, "checkin", supervisor)
            return Presented(queue_no, identity)

    def decide(self, booking_id: int, check_id: int, accepted: bool, supervisor: str, comment: str = "",
               utc: datetime | None = None) -> int | None:
        """The supervisor's decision on a check the 1:1 comparison left open; the queue number if accepted.

        Refusing leaves the booking unchecked-in (a new photo may be presented); the decision
        and who took it are kept on the check, and sealed with the booking's attempts.
        """
        supervisor = self._supervisor(supervisor)
        if not accepted and not comment.strip():
            raise CheckInError(N_("拒绝签到须填写原因"))
        from examroom.faces.identity import decide, pending_check

        utc = utc or datetime.now(timezone.utc)
        with self._sessions.begin() as session:
            booking = self._booked(session, booking_id)
            check = pending_check(session, booking.id, check_id)
            if check is None:
                raise CheckInError(N_("没有待决定的人脸核验（%(check)s）"), check=check_id)
            decide(check, accepted, supervisor, comment, utc)
            if not accepted:
                return None
            image, faces = self._faces(check.picture)
            return self._check_in(session, booking, check.picture, image, faces, supervisor, utc)

    def confirm(self, booking_id: int, photo: bytes, supervisor: str, utc: datetime | None = None) -> int:
        """The supervisor confirms the identity; returns the candidate's queue number.

        A photo the 1:1 comparison does not pass is refused with the pending check's id (see :meth:`present`).
        """
        presented = self.present(booking_id, photo, supervisor, utc)
        if presented.queue_no is None:
            raise IdentityUndecided(presented.identity)
        return presented.queue_no

    @staticmethod
    def _supervisor(supervisor: str) -> str:
        if not supervisor.strip():
            raise CheckInError(N_("须由考试员确认签到"))
        return supervisor.strip()

    def _faces(self, photo: bytes | None):
        check_photo(photo or b"")
        import cv2

        from examroom.faces.detection import shared_detector

        image = cv2.imdecode(np.frombuffer(photo, dtype=np.uint8), cv2.IMREAD_COLOR)
        faces = shared_detector().check(image)
        if self.require_one_face and not faces.ok:
            raise CheckInError(N_("签到照片%(faces)s，须只拍考生本人正脸，请重拍"), faces=faces.describe())
        return image, faces

    def _booked(self, session: Session, booking_id: int) -> Booking:
        booking = session.get(Booking, booking_id, with_for_update=True)
        if booking is None:
            raise CheckInError(N_("无此预约（%(booking)s）"), booking=booking_id)
        self._open_sitting(session, booking.sitting_id)
        if booking.state != BookingState.BOOKED.value:
            raise CheckInError(N_("%(name)s已签到（状态：%(state)s）"), name=booking.candidate.name, state=booking.state)
        return booking

    @staticmethod
    def _check_in(session: Session, booking: Booking, photo: bytes, image, faces, supervisor: str,
                  utc: datetime) -> int:
        from examroom.faces.watch import flag_frame

        last = session.scalar(select(func.max(Booking.queue_no)).where(Booking.sitting_id == booking.sitting_id))
        booking.queue_no = (last or 0) + 1
        booking.state = BookingState.CHECKED_IN.value
        booking.checked_in_utc = utc
        booking.confirmed_by = supervisor
        booking.photo = photo
        booking.photo_sha256 = hashlib.sha256(photo).hexdigest()
        booking.photo_bytes = len(photo)
        if not faces.ok:
            flag_frame(session, faces, image, utc, "checkin", booking_id=booking.id)
        return booking.queue_no

    def reference_photo(self, booking_id: int) -> bytes | None:
        """The booking's reference photo, for the supervisor at the desk (None without one)."""
        with self._sessions() as session:
            booking = session.get(Booking, booking_id)
            return booking.reference_photo if booking is not None else None

    def identity_picture(self, booking_id: int, check_id: int) -> bytes | None:
        """The photo presented at one of the booking's check-in comparisons (None: no such, or deleted)."""
        from examroom.records.models import IdentityCheck

        with self._sessions() as session:
            check = session.get(IdentityCheck, check_id)
            if check is None or check.booking_id != booking_id or check.kind != "checkin":
                return None
            return check.picture

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

"""Face review during an attempt: sample the in-car camera, flag frames without exactly one face,
and compare the face with the booking's (1:1, issue 17): a run of mismatches warns the console.

A :class:`FaceWatch` subscribes to a camera's :class:`devices.camera.FrameFanout`
like any other consumer, checks one frame per ``interval`` seconds (face
detection costs far more than a frame interval, and a candidate swap does not
happen between two frames), and stores every frame that does not show exactly
one face as a :class:`examroom.records.models.FaceFlag` with its JPEG for a supervisor.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from datetime import datetime

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.camera import Frame, FrameFanout
from examroom.courseclock import as_utc
from examroom.faces.detection import FaceCheck, FaceDetector, shared_detector
from examroom.records.models import Attempt, Booking, FaceFlag, IdentityCheck

log = logging.getLogger(__name__)

JPEG_QUALITY = 85
# In-cab samples unlike the booking's face, one after another, that make a warning and a flag:
# one unlike sample is a turned head or a glare more often than a new rider; at one sample every
# two seconds three take six seconds, far less than any item.
MISMATCH_RUN = 3


def jpeg_of(image: np.ndarray) -> bytes:
    """The frame as a JPEG, as kept for review."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"could not encode a frame of shape {image.shape} as JPEG")
    return data.tobytes()


def flag_frame(session: Session, check: FaceCheck | None, image: np.ndarray | bytes, utc: datetime, source: str, *,
               attempt_id: int | None = None, booking_id: int | None = None, faces: int | None = None,
               distance: float | None = None) -> FaceFlag:
    """Add a review flag: a picture that failed the one-face check, or (with ``distance``) a face
    unlike the booking's (``image`` may be the JPEG already)."""
    jpeg = image if isinstance(image, bytes) else jpeg_of(image)
    flag = FaceFlag(attempt_id=attempt_id, booking_id=booking_id, source=source, utc=utc,
                    faces=check.count if check is not None else faces, jpeg=jpeg,
                    jpeg_sha256=hashlib.sha256(jpeg).hexdigest(),
                    reason="faces" if distance is None else "mismatch", distance=distance)
    session.add(flag)
    return flag


def face_flags(sessions: sessionmaker[Session], attempt_id: int) -> list[FaceFlag]:
    """The flags of one attempt in time order (detached rows, JPEG included)."""
    with sessions() as session:
        rows = session.scalars(select(FaceFlag).where(FaceFlag.attempt_id == attempt_id)
                               .order_by(FaceFlag.utc, FaceFlag.id)).all()
        session.expunge_all()
        return list(rows)


class FaceWatch:
    """Samples one camera during one attempt and records review flags; run it with ``start``/``stop``.

    With the booking's face descriptor (``reference``) each sample is also compared 1:1 with it:
    ``mismatch_run`` mismatches in a row (a different rider after check-in) store an in-cab
    :class:`IdentityCheck` for the auditor with every frame of the run as evidence, and
    ``publish`` a warning to the console. A match ends the run; a sample that cannot tell (no
    face, turned away) neither counts nor ends it. The score is never touched.
    """

    def __init__(self, sessions: sessionmaker[Session], fanout: FrameFanout, attempt_id: int, camera: str,
                 interval: float = 2.0, detector: FaceDetector | None = None, *, reference: np.ndarray | None = None,
                 booking_id: int | None = None, vehicle: str = "", mismatch_run: int = MISMATCH_RUN,
                 publish: Callable[[dict], object] | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"sampling interval must be positive, got {interval}")
        if mismatch_run < 1:
            raise ValueError(f"a mismatch run is at least one sample, got {mismatch_run}")
        self._sessions = sessions
        self._fanout = fanout
        self.attempt_id = attempt_id
        self.camera = camera
        self.interval = interval
        self._detector = detector or shared_detector()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_mono: float | None = None
        self.checked = 0
        self.flagged = 0
        self.reference = reference
        self.booking_id = booking_id
        self.vehicle = vehicle
        self.mismatch_run = mismatch_run
        self._publish = publish
        self._streak: list[tuple[datetime, bytes, float, int]] = []  # the current run's frames, not yet stored
        self._streak_check: int | None = None  # the run's stored check, once it is long enough
        self.verdicts: list = []  # every 1:1 verdict, in sample order (what the tests and the bench read)
        self.warnings = 0

    def sample(self, frame: Frame) -> FaceCheck | None:
        """Check the frame if ``interval`` has passed since the last checked one; flag it if not one face."""
        if self._last_mono is not None and frame.mono - self._last_mono < self.interval:
            return None
        self._last_mono = frame.mono
        check = self._detector.check(frame.image)
        self.checked += 1
        if not check.ok:
            with self._sessions.begin() as session:
                flag_frame(session, check, frame.image, as_utc(frame.utc), self.camera,
                           attempt_id=self.attempt_id)
            self.flagged += 1
        if self.reference is not None:
            self._compare(frame)
        return check

    def _compare(self, frame: Frame) -> None:
        from examroom.faces import verification
        from examroom.faces.verification import Outcome

        reading = verification.face_models().read(frame.image)
        verdict = verification.compare(self.reference, reading)
        self.verdicts.append(verdict)
        if verdict.outcome is Outcome.MATCH:
            self._streak, self._streak_check = [], None
            return
        if verdict.outcome is not Outcome.MISMATCH:
            return
        self._streak.append((as_utc(frame.utc), jpeg_of(frame.image), verdict.distance, reading.faces))
        if self._streak_check is None and len(self._streak) < self.mismatch_run:
            return  # not (yet) a run; a run already flagged takes each further frame at once
        new_run = self._streak_check is None
        with self._sessions.begin() as session:
            if self._streak_check is None:
                first_utc, _, _, _ = self._streak[0]
                check = IdentityCheck(booking_id=self.booking_id, attempt_id=self.attempt_id, kind="in_cab",
                                      source=self.camera, utc=first_utc, outcome=Outcome.MISMATCH.value,
                                      distance=min(d for _, _, d, _ in self._streak), threshold=verdict.threshold,
                                      model=verification.MODEL, frames=0, picture_sha256="")
                session.add(check)
                session.flush()
                self._streak_check = check.id
            else:
                check = session.get(IdentityCheck, self._streak_check)
            for utc, jpeg, distance, faces in self._streak:
                flag = flag_frame(session, None, jpeg, utc, self.camera, attempt_id=self.attempt_id, faces=faces,
                                  distance=distance)
                check.frames += 1
                check.frame_sha256s = [*(check.frame_sha256s or []), flag.jpeg_sha256]
                check.distance = min(check.distance, distance)
                if not check.picture_sha256:
                    check.picture_sha256 = flag.jpeg_sha256
            frames, distance = check.frames, check.distance
        self._streak = []
        if new_run:
            self.warnings += 1
            log.warning("attempt %d: %d in-cab samples on %s unlike the booking's face (distance %.3f)",
                        self.attempt_id, frames, self.camera, distance)
            if self._publish is not None:
                self._publish({"type": "identity", "vehicle": self.vehicle, "attempt": self.attempt_id,
                               "camera": self.camera, "frames": frames, "distance": round(distance, 3)})

    def start(self) -> None:
        slot = self._fanout.subscribe()
        self._thread = threading.Thread(target=self._run, args=(slot,), name=f"faces-{self.camera}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self, slot) -> None:
        with slot:
            while not self._stop.is_set():
                frame = slot.get(timeout=0.2)
                if frame is not None:
                    self.sample(frame)


class AttemptFaceWatch:
    """A controller attempt listener: watches each vehicle's in-car camera while its attempt runs.

    ``cameras`` maps a vehicle id to (camera name, that camera's fan-out);
    vehicles without an in-car camera are not watched. Where the attempt's booking has a face
    descriptor and the face models are installed, each sample is compared with it 1:1
    (:class:`FaceWatch`); ``publish`` takes the console warnings.
    """

    def __init__(self, sessions: sessionmaker[Session], cameras: dict[str, tuple[str, FrameFanout]],
                 interval: float = 2.0, detector: FaceDetector | None = None,
                 publish: Callable[[dict], object] | None = None, mismatch_run: int = MISMATCH_RUN) -> None:
        self._sessions = sessions
        self._cameras = cameras
        self._interval = interval
        self._detector = detector
        self._publish = publish
        self._mismatch_run = mismatch_run
        self.watches: dict[int, FaceWatch] = {}

    def __call__(self, event: str, attempt_id: int, vehicle_id: str) -> None:
        if event == "started" and vehicle_id in self._cameras and attempt_id not in self.watches:
            camera, fanout = self._cameras[vehicle_id]
            booking_id, reference = self._reference(attempt_id)
            watch = FaceWatch(self._sessions, fanout, attempt_id, camera, self._interval, self._detector,
                              reference=reference, booking_id=booking_id, vehicle=vehicle_id,
                              mismatch_run=self._mismatch_run, publish=self._publish)
            watch.start()
            self.watches[attempt_id] = watch
        elif event == "finished" and attempt_id in self.watches:
            self.watches.pop(attempt_id).stop()

    def on_finished(self, attempt_id: int, _status=None) -> None:
        """A controller finish listener that runs before the seal: the attempt's watch stops and its
        last sample is written first, so nothing is added to a sealed attempt's 1:1 checks."""
        if attempt_id in self.watches:
            self.watches.pop(attempt_id).stop()

    def _reference(self, attempt_id: int) -> tuple[int | None, np.ndarray | None]:
        """The attempt's booking and its stored face descriptor (None without one, or without the models).

        Only the stored descriptor is read: this runs in the controller's thread as the attempt
        starts, so nothing is computed here, and the models load in the watch's own thread at its
        first comparison. (The check-in stored the descriptor when it compared the photo.)
        """
        from examroom.faces import verification

        with self._sessions() as session:
            attempt = session.get(Attempt, attempt_id)
            booking = session.get(Booking, attempt.booking_id) if attempt and attempt.booking_id else None
            if booking is None:
                return None, None
            if (booking.face_descriptor is None or booking.face_model != verification.MODEL
                    or verification.unavailable_reason() is not None):
                return booking.id, None
            return booking.id, verification.from_bytes(booking.face_descriptor)

    def close(self) -> None:
        for attempt_id in list(self.watches):
            self.watches.pop(attempt_id).stop()

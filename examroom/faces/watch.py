"""Face review during an attempt: sample the in-car camera, flag frames without exactly one face.

A :class:`FaceWatch` subscribes to a camera's :class:`devices.camera.FrameFanout`
like any other consumer, checks one frame per ``interval`` seconds (face
detection costs far more than a frame interval, and a candidate swap does not
happen between two frames), and stores every frame that does not show exactly
one face as a :class:`examroom.records.models.FaceFlag` with its JPEG for a supervisor.
"""

from __future__ import annotations

import threading
from datetime import datetime

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from devices.camera import Frame, FrameFanout
from examroom.courseclock import as_utc
from examroom.faces.detection import FaceCheck, FaceDetector, shared_detector
from examroom.records.models import FaceFlag

JPEG_QUALITY = 85


def jpeg_of(image: np.ndarray) -> bytes:
    """The frame as a JPEG, as kept for review."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"could not encode a frame of shape {image.shape} as JPEG")
    return data.tobytes()


def flag_frame(session: Session, check: FaceCheck, image: np.ndarray, utc: datetime, source: str, *,
               attempt_id: int | None = None, booking_id: int | None = None) -> FaceFlag:
    """Add a review flag for a picture that failed the one-face check."""
    flag = FaceFlag(attempt_id=attempt_id, booking_id=booking_id, source=source, utc=utc,
                    faces=check.count, jpeg=jpeg_of(image))
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
    """Samples one camera during one attempt and records review flags; run it with ``start``/``stop``."""

    def __init__(self, sessions: sessionmaker[Session], fanout: FrameFanout, attempt_id: int, camera: str,
                 interval: float = 2.0, detector: FaceDetector | None = None) -> None:
        if interval <= 0:
            raise ValueError(f"sampling interval must be positive, got {interval}")
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
        return check

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
    vehicles without an in-car camera are not watched.
    """

    def __init__(self, sessions: sessionmaker[Session], cameras: dict[str, tuple[str, FrameFanout]],
                 interval: float = 2.0, detector: FaceDetector | None = None) -> None:
        self._sessions = sessions
        self._cameras = cameras
        self._interval = interval
        self._detector = detector
        self.watches: dict[int, FaceWatch] = {}

    def __call__(self, event: str, attempt_id: int, vehicle_id: str) -> None:
        if event == "started" and vehicle_id in self._cameras and attempt_id not in self.watches:
            camera, fanout = self._cameras[vehicle_id]
            watch = FaceWatch(self._sessions, fanout, attempt_id, camera, self._interval, self._detector)
            watch.start()
            self.watches[attempt_id] = watch
        elif event == "finished" and attempt_id in self.watches:
            self.watches.pop(attempt_id).stop()

    def close(self) -> None:
        for attempt_id in list(self.watches):
            self.watches.pop(attempt_id).stop()

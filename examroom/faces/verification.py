"""1:1 face verification (防替考): is the face in this picture the booked candidate's?

dlib, from the ``dlib-bin`` wheel, with three models packaged in
``face-recognition-models``: the HOG frontal-face detector (built into dlib),
the 5-point landmark model and the ResNet v1 face descriptor (128 numbers).
The 68-point landmark model in the same package is never loaded: its training
data (iBUG 300-W) is licensed for non-commercial use only. Nothing is
downloaded at run time; where either package is missing,
:func:`unavailable_reason` says so and callers fall back to the supervisor's eye.

A picture gives a :class:`FaceReading`: a descriptor, or the reason none can
be trusted (no face, several faces, too small, too dark). Two descriptors are
compared by Euclidean distance; under :data:`THRESHOLD` is a match. The
threshold and the measured distances behind it are in docs/faces.md.
"""

from __future__ import annotations

import enum
import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from examroom.faces.loaded_models import LoadedModels

MODEL = "dlib_resnet_v1+5pt"  # stored with every descriptor: descriptors of two models never compare
DESCRIPTOR_SIZE = 128
FIVE_POINT_FILE = "shape_predictor_5_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
# Under this distance two faces are the same person. dlib's own figure is 0.6 (99.38 % on LFW);
# this is lower because a false accept lets a stand-in drive while a false reject only asks the
# supervisor to look, and the model was trained mostly on Western faces. docs/faces.md gives the
# measured same-person (0.32-0.61) and different-person (0.71-0.89) ranges it sits between.
THRESHOLD = 0.55
# A second detection counts as a second person from this HOG score on. At the first, unenlarged
# pass a real face half the frame away can score as little as 0.2 and the mission patch in the
# NASA portrait (a false positive as large as the face) 0.14, so a weak second detection is
# looked at again at twice the size, where the test set's real faces score 1.1 and more and the
# patch 0.01. The face compared is always the highest-scoring detection, never the largest.
SECOND_FACE_SCORE = 0.6
# A face narrower than this (pixels, in the picture as given) is too small to tell who it is:
# the descriptor works on a 150-pixel chip, and below about 40 pixels the chip is mostly blur.
MIN_FACE_WIDTH = 40
# Mean grey level (0-255) of the face box, or of the whole picture when no face is found, under
# which the picture is too dark to judge. Measured: photos darkened to 20 % (face level 23-33)
# still kept every same-person distance under 0.5; at 12 % (13-19) the different-person minimum
# fell to 0.69. Real sensors add noise in the dark that scaling does not, hence the margin.
DARK_LEVEL = 25
# Pictures larger than this on their longer side are scaled down first: a phone's 4000-pixel
# photo costs seconds in the HOG detector and tells no more about a face.
MAX_SIDE = 1280


class Outcome(str, enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"
    CANNOT_TELL = "cannot_tell"


class Unclear(str, enum.Enum):
    """Why a picture gives no descriptor to compare."""

    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"
    TOO_SMALL = "too_small"
    TOO_DARK = "too_dark"


class FaceModelsUnavailable(RuntimeError):
    """dlib or the model package is not installed: verification falls back to the supervisor's eye."""


@dataclass(frozen=True)
class FaceReading:
    """What one picture gives: a descriptor (``unclear`` empty) or why it gives none."""

    descriptor: np.ndarray | None
    unclear: str = ""  # an Unclear value
    faces: int = 0  # faces counted (detections at SECOND_FACE_SCORE or more, or the one best)
    box: tuple[int, int, int, int] | None = None  # x, y, width, height of the face used, in the picture's pixels
    score: float = 0.0  # the HOG detector's score of that face


@dataclass(frozen=True)
class Verdict:
    """A 1:1 comparison: match, mismatch or cannot tell (then ``unclear`` says why)."""

    outcome: Outcome
    distance: float | None
    threshold: float
    unclear: str = ""


def models_dir() -> Path | None:
    """The face_recognition_models package's model folder, found without importing the package.

    Importing it runs ``pkg_resources`` (deprecated, slow to import, gone from new setuptools);
    its ``*_location()`` functions only join this folder with the file names used here.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def unavailable_reason() -> str | None:
    """Why 1:1 verification cannot run here (None: it can). Loads no model."""
    try:
        import dlib  # noqa: F401  (an 11 MB library; the models are what is heavy)
    except ImportError as exc:
        return f"dlib (the dlib-bin package) cannot be imported: {exc}"
    folder = models_dir()
    if folder is None:
        return "the face-recognition-models package is not installed"
    for name in (FIVE_POINT_FILE, DESCRIPTOR_FILE):
        if not (folder / name).is_file():
            return f"model file {folder / name} is missing"
    return None


class FaceModels:
    """The loaded detector, 5-point landmark model and descriptor network (about 60 MB resident).

    One instance serves every thread of a process; calls are serialised, as dlib does not
    document its objects as thread-safe.
    """

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason is not None:
            raise FaceModelsUnavailable(reason)
        import dlib

        folder = models_dir()
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(folder / FIVE_POINT_FILE))
        self._descriptor = dlib.face_recognition_model_v1(str(folder / DESCRIPTOR_FILE))
        self._lock = threading.Lock()

    def read(self, image: np.ndarray) -> FaceReading:
        """The face in a BGR (or grey) image: its descriptor, or why there is none to trust."""
        if image.ndim != 2 and (image.ndim != 3 or image.shape[2] != 3):
            raise ValueError(f"expected a BGR or grey image, got an array of shape {image.shape}")
        import cv2

        scale = 1.0
        if max(image.shape[:2]) > MAX_SIDE:
            scale = MAX_SIDE / max(image.shape[:2])
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rgb = (cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2
               else cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        with self._lock:
            rects, scores, _ = self._detector.run(rgb, 0, 0.0)
            if len(rects) == 0:  # a small face (a far camera, a 320-pixel frame): look again at twice the size
                rects, scores, _ = self._detector.run(rgb, 1, 0.0)
            if len(rects) == 0:
                dark = float(grey.mean()) < DARK_LEVEL
                return FaceReading(None, Unclear.TOO_DARK.value if dark else Unclear.NO_FACE.value)
            faces = _people(scores)
            if faces == 1 and len(rects) > 1:  # a weak second detection: a far face, or a false hit?
                rects, scores, _ = self._detector.run(rgb, 1, 0.0)
                faces = max(1, _people(scores))
            best = int(np.argmax(scores))  # by score, never by box size: a weak false hit can be as large
            rect, score = rects[best], float(scores[best])
            box = _box(rect, grey.shape, scale)
            if faces > 1:
                return FaceReading(None, Unclear.SEVERAL_FACES.value, faces, box, score)
            if box[2] < MIN_FACE_WIDTH:
                return FaceReading(None, Unclear.TOO_SMALL.value, faces, box, score)
            x, y, w, h = (round(v * scale) for v in box)
            if float(grey[y:y + h, x:x + w].mean()) < DARK_LEVEL:
                return FaceReading(None, Unclear.TOO_DARK.value, faces, box, score)
            shape = self._landmarks(rgb, rect)
            descriptor = np.array(self._descriptor.compute_face_descriptor(rgb, shape, 0), dtype=np.float32)
        return FaceReading(descriptor, "", faces, box, score)

    def read_encoded(self, picture: bytes) -> FaceReading:
        """The face in a JPEG/PNG picture; ValueError if it does not decode."""
        return self.read(decode(picture))


def _people(scores) -> int:
    """Detections that are people: the best one, and every other scoring SECOND_FACE_SCORE or more."""
    best = max(range(len(scores)), key=lambda i: scores[i])
    return 1 + sum(1 for i, s in enumerate(scores) if i != best and s >= SECOND_FACE_SCORE)


def decode(picture: bytes) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(picture, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("picture is not a decodable image")
    return image


def _box(rect, shape: tuple[int, ...], scale: float) -> tuple[int, int, int, int]:
    """A dlib rectangle as x, y, width, height inside the picture, in the original picture's pixels."""
    height, width = shape[:2]
    left, top = max(0, rect.left()), max(0, rect.top())
    right, bottom = min(width, rect.right()), min(height, rect.bottom())
    return tuple(round(v / scale) for v in (left, top, max(0, right - left), max(0, bottom - top)))


def compare(reference: np.ndarray, reading: FaceReading, threshold: float = THRESHOLD) -> Verdict:
    """A reading against a booking's descriptor."""
    if reading.descriptor is None:
        return Verdict(Outcome.CANNOT_TELL, None, threshold, reading.unclear)
    distance = float(np.linalg.norm(reference.astype(np.float64) - reading.descriptor.astype(np.float64)))
    return Verdict(Outcome.MATCH if distance < threshold else Outcome.MISMATCH, distance, threshold)


def to_bytes(descriptor: np.ndarray) -> bytes:
    """A descriptor as stored: 128 little-endian float32 (512 bytes)."""
    if descriptor.shape != (DESCRIPTOR_SIZE,):
        raise ValueError(f"a face descriptor has {DESCRIPTOR_SIZE} numbers, got shape {descriptor.shape}")
    return descriptor.astype("<f4").tobytes()


def from_bytes(data: bytes) -> np.ndarray:
    if len(data) != DESCRIPTOR_SIZE * 4:
        raise ValueError(f"a stored face descriptor is {DESCRIPTOR_SIZE * 4} bytes, got {len(data)}")
    return np.frombuffer(data, dtype="<f4").astype(np.float32)


shared_models: LoadedModels[FaceModels] = LoadedModels(FaceModels)


def face_models() -> FaceModels:
    """The process's one set of models, loaded at the first call after a release or ever, released
    after the site's idle time (examroom.faces.loaded_models); FaceModelsUnavailable without them."""
    return shared_models.get()

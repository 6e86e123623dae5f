"""1:1 face verification on real public-domain photos, clean and degraded at run time."""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from examroom.faces import verification
from examroom.faces.verification import (THRESHOLD, Outcome, Unclear, compare, face_models, from_bytes, to_bytes,
                                         unavailable_reason)
from tests.examroom import face_photos
from tests.examroom.face_photos import (PATCH_FALSE_POSITIVE, PHOTOS, PROFILE_ONLY, VARIANTS, brightness, encoded,
                                        fit_area, on_frame, photo, side_by_side)

pytestmark = pytest.mark.skipif(not face_photos.available(),
                                reason=f"the face photos are not in {face_photos.FOLDER} (EXAMROOM_FACE_PHOTOS)")
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def references():
    models = face_models()
    return {name: models.read(fit_area(photo(name), 640, 480)).descriptor for name in PHOTOS}


def test_every_clean_photo_gives_one_face_and_a_descriptor(references):
    assert all(d is not None and d.shape == (128,) for d in references.values())


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_false_accept_and_the_same_person_matches_under_each_degradation(references, variant):
    """Each degraded probe against the clean references of the other photos."""
    models = face_models()
    false_accepts, false_rejects = [], []
    for probe in PHOTOS:
        reading = models.read(VARIANTS[variant](photo(probe)))
        assert reading.descriptor is not None, (probe, reading.unclear)
        for ref in PHOTOS:
            if ref == probe:
                continue
            verdict = compare(references[ref], reading)
            same = PHOTOS[ref] == PHOTOS[probe]
            if not same and verdict.outcome is Outcome.MATCH:
                false_accepts.append((probe, ref, verdict.distance))
            if same and verdict.outcome is Outcome.MISMATCH:
                false_rejects.append((probe, ref, verdict.distance))
    assert false_accepts == []
    if not variant.startswith("all"):  # the combined worst cases may reject a true pair: the supervisor looks
        assert false_rejects == []


def test_match_and_mismatch_from_encoded_pictures(references):
    models = face_models()
    same = compare(references["obama_2012_official_portrait.jpg"],
                   models.read_encoded(encoded(on_frame(photo("obama_2009_joint_session.jpg")))))
    assert same.outcome is Outcome.MATCH and same.distance < THRESHOLD and same.threshold == THRESHOLD
    other = compare(references["obama_2010_blue_room.jpg"],
                    models.read_encoded(encoded(on_frame(photo("biden_2010_blue_room.jpg")), ".png")))
    assert other.outcome is Outcome.MISMATCH and other.distance > 0.7  # same room, light and camera


@pytest.mark.parametrize("picture, unclear", [
    (lambda: fit_area(photo(PROFILE_ONLY), 640, 480), Unclear.NO_FACE),
    (lambda: np.full((480, 640, 3), 128, np.uint8), Unclear.NO_FACE),
    (lambda: side_by_side("obama_2012_official_portrait.jpg", "biden_2013_official_portrait.jpg"),
     Unclear.SEVERAL_FACES),
    (lambda: side_by_side("obama_2010_blue_room.jpg", "collins_nasa_portrait.png"), Unclear.SEVERAL_FACES),
    (lambda: on_frame(photo("obama_2012_official_portrait.jpg"), 1280, 960)[::6, ::6], Unclear.TOO_SMALL),
    (lambda: brightness(fit_area(photo("biden_2013_official_portrait.jpg"), 640, 480), 0.1), Unclear.TOO_DARK),
    (lambda: np.full((480, 640, 3), 4, np.uint8), Unclear.TOO_DARK),
])
def test_cannot_tell_says_why(references, picture, unclear):
    reading = face_models().read(picture())
    assert reading.descriptor is None and reading.unclear == unclear.value
    verdict = compare(references["obama_2012_official_portrait.jpg"], reading)
    assert (verdict.outcome, verdict.distance, verdict.unclear) == (Outcome.CANNOT_TELL, None, unclear.value)


def test_the_face_is_picked_by_score_not_by_box_size():
    """The NASA portrait's mission patch is a weak detection as large as her face."""
    reading = face_models().read(fit_area(photo(PATCH_FALSE_POSITIVE), 640, 480))
    assert reading.faces == 1 and reading.unclear == ""
    x, y, w, h = reading.box
    assert 150 < x < 230 and 50 < y < 120  # her face, not the patch low on the right


def test_grey_pictures_and_bad_input():
    models = face_models()
    grey = fit_area(photo("collins_nasa_portrait.png"), 640, 480)[:, :, 1]
    assert models.read(grey).descriptor is not None
    with pytest.raises(ValueError, match="shape"):
        models.read(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="decodable"):
        models.read_encoded(b"not a picture")


def test_descriptors_round_trip_as_512_bytes(references):
    d = references["collins_nasa_portrait.png"]
    data = to_bytes(d)
    assert len(data) == 512 and np.array_equal(from_bytes(data), d)
    with pytest.raises(ValueError, match="512"):
        from_bytes(data[:-4])
    with pytest.raises(ValueError, match="128"):
        to_bytes(d[:10])


def test_models_load_once_per_process_and_never_the_68_point_file():
    assert face_models() is face_models()
    assert unavailable_reason() is None
    source = Path(verification.__file__).read_text(encoding="utf-8")
    assert "68" not in source.replace("(iBUG 300-W)", "").split("The 68-point")[0]
    assert "shape_predictor_68" not in source and "import face_recognition\n" not in source


def without_face_packages(code: str) -> subprocess.CompletedProcess:
    """Run code in a child whose import of dlib and face_recognition_models fails (as on a machine without them)."""
    # A None in sys.modules makes every import of the name fail, as when it is not installed.
    blocker = "import sys\nsys.modules.update(dlib=None, _dlib_pybind11=None, face_recognition_models=None)\n"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", blocker + code], capture_output=True, text=True, env=env,
                          timeout=120, cwd=ROOT)


def test_without_the_packages_it_says_so_and_loads_nothing():
    code = ("from examroom.faces.verification import unavailable_reason, face_models, FaceModelsUnavailable\n"
            "print(unavailable_reason())\n"
            "try:\n    face_models()\nexcept FaceModelsUnavailable as exc:\n    print('refused:', exc)\n")
    done = without_face_packages(code)
    assert done.returncode == 0, done.stderr
    reason, refused = done.stdout.splitlines()
    assert reason.startswith("dlib (the dlib-bin package) cannot be imported")
    assert refused == "refused: " + reason


def test_models_found_in_the_installed_package():
    folder = verification.models_dir()
    assert (folder / verification.FIVE_POINT_FILE).is_file()
    assert (folder / verification.DESCRIPTOR_FILE).is_file()


def test_same_person_pairs_are_closer_than_any_different_pair(references):
    pairs = list(itertools.combinations(PHOTOS, 2))
    same = [np.linalg.norm(references[a] - references[b]) for a, b in pairs if PHOTOS[a] == PHOTOS[b]]
    different = [np.linalg.norm(references[a] - references[b]) for a, b in pairs if PHOTOS[a] != PHOTOS[b]]
    assert len(same) == 4 and len(different) == 11
    assert max(same) < THRESHOLD < min(different)

"""The face models are dropped after an idle time without a verification and loaded again at the next."""

from __future__ import annotations

import pytest

from devices.readings import ManualClock
from examroom.faces.loaded_models import LoadedModels
from examroom.faces.verification import FaceModels, shared_models, unavailable_reason
from tests.examroom import face_photos
from tests.examroom.face_photos import PHOTOS, fit_area, photo


@pytest.mark.skipif(unavailable_reason() is not None, reason=f"face models: {unavailable_reason()}")
@pytest.mark.skipif(not face_photos.available(), reason=f"the face photos are not in {face_photos.FOLDER}")
def test_models_are_released_after_the_idle_time_and_loaded_again_by_the_next_verification():
    clock = ManualClock()
    models = LoadedModels(FaceModels, clock=clock, idle_seconds=600)
    picture = fit_area(photo(next(iter(PHOTOS))), 640, 480)
    first = models.get()
    descriptor = first.read(picture).descriptor
    clock.advance(599)
    assert not models.release_if_idle() and models.loaded
    models.get()  # a use starts the idle time again
    clock.advance(599)
    assert not models.release_if_idle()
    clock.advance(1)
    assert models.release_if_idle() and not models.loaded and models.releases == 1
    assert not models.release_if_idle(), "released once"
    second = models.get()
    assert second is not first and models.loads == 2
    assert (second.read(picture).descriptor == descriptor).all(), "the reloaded models read as before"
    assert first.read(picture).descriptor is not None, "a caller still holding released models finishes its check"


def test_a_models_loader_that_fails_leaves_nothing_loaded_and_the_next_use_tries_again():
    attempts = []

    def load():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("not installed")
        return object()

    models = LoadedModels(load, clock=ManualClock())
    with pytest.raises(RuntimeError):
        models.get()
    assert not models.loaded
    assert models.get() is not None and models.loads == 1


def test_the_idle_time_must_be_positive_and_the_shared_models_default_to_ten_minutes():
    assert shared_models.idle_seconds == 600
    with pytest.raises(ValueError, match="idle time must be positive"):
        LoadedModels(object).set_idle_seconds(0)

"""Face review during an attempt: frames from a camera fan-out are sampled and flagged."""

import queue
from datetime import datetime, timedelta, timezone

import cv2
import numpy as np
import pytest

from devices.camera import Frame, FrameFanout
from examroom.records.database import session_factory
from examroom.faces.watch import FaceWatch, face_flags
from examroom.records.models import FaceFlag
from tests.examroom.attempts import finished_attempt
from tests.examroom.face_pictures import no_face, one_face, two_faces

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)


def frame(image, seq, seconds):
    return Frame(image=image, utc=T0 + timedelta(seconds=seconds), mono=1000.0 + seconds, seq=seq)


def told_when_checked(watch: FaceWatch) -> queue.Queue:
    """A queue that gets each check the watch's thread makes (the wait is on it, not a poll)."""
    checks: queue.Queue = queue.Queue()
    sample = watch.sample

    def told(frame):
        result = sample(frame)
        if result is not None:
            checks.put(result)
        return result

    watch.sample = told  # the watch's thread looks the method up for every frame
    return checks


@pytest.fixture
def attempt(engine, records):
    return session_factory(engine), finished_attempt(records)


def test_samples_at_the_interval_and_flags_frames_without_exactly_one_face(attempt):
    sessions, attempt_id = attempt
    watch = FaceWatch(sessions, FrameFanout(), attempt_id, "car-V1", interval=2.0)
    pictures = [one_face(), two_faces(), no_face(), one_face(), no_face()]
    results = [watch.sample(frame(pictures[i // 2], i, i * 1.0)) for i in range(10)]
    # one frame in two is checked (every 2 s), the others are skipped
    assert [r is None for r in results] == [False, True] * 5
    assert [r.count for r in results if r] == [1, 2, 0, 1, 0]
    assert (watch.checked, watch.flagged) == (5, 3)
    flags = face_flags(sessions, attempt_id)
    assert [(f.faces, f.source, f.utc.replace(tzinfo=timezone.utc)) for f in flags] == [
        (2, "car-V1", T0 + timedelta(seconds=2)), (0, "car-V1", T0 + timedelta(seconds=4)),
        (0, "car-V1", T0 + timedelta(seconds=8))]
    kept = cv2.imdecode(np.frombuffer(flags[0].jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert kept.shape == (512, 1024, 3)  # the whole frame, as a JPEG a supervisor can open


def test_runs_as_a_fanout_consumer_until_stopped(attempt):
    sessions, attempt_id = attempt
    fanout = FrameFanout()
    watch = FaceWatch(sessions, fanout, attempt_id, "car-V1", interval=0.01)
    checks = told_when_checked(watch)
    watch.start()
    try:
        assert fanout.consumers == 1  # subscribed by start(), before its thread runs
        for i, picture in enumerate([one_face(), two_faces()]):
            fanout.publish(Frame(picture, T0 + timedelta(seconds=i), 1000.0 + i, i))
            assert checks.get(timeout=20) is not None
    finally:
        watch.stop()
    assert fanout.consumers == 0
    assert [f.faces for f in face_flags(sessions, attempt_id)] == [2]


def test_refuses_a_non_positive_interval(attempt):
    sessions, attempt_id = attempt
    with pytest.raises(ValueError, match="interval"):
        FaceWatch(sessions, FrameFanout(), attempt_id, "car-V1", interval=0)
    with sessions() as session:
        assert session.query(FaceFlag).count() == 0


def test_the_attempt_listener_watches_a_vehicles_camera_from_start_to_finish(attempt):
    from examroom.faces.watch import AttemptFaceWatch

    sessions, attempt_id = attempt
    fanout = FrameFanout()
    listener = AttemptFaceWatch(sessions, {"V1": ("car-V1", fanout)}, interval=0.01)
    listener("started", attempt_id + 1, "V9")  # no in-car camera: not watched
    assert listener.watches == {}
    listener("started", attempt_id, "V1")
    watch = listener.watches[attempt_id]
    checks = told_when_checked(watch)
    assert fanout.consumers == 1  # the watch subscribed as the attempt started
    fanout.publish(Frame(no_face(), T0, 1000.0, 0))
    assert checks.get(timeout=20) is not None
    listener("finished", attempt_id, "V1")  # stops the watch and joins its thread
    assert listener.watches == {} and fanout.consumers == 0
    fanout.publish(Frame(no_face(), T0, 1001.0, 1))  # after the finish: nobody is there to look at it
    assert checks.empty()
    assert [(f.faces, f.source) for f in face_flags(sessions, attempt_id)] == [(0, "car-V1")]

from datetime import datetime, timedelta, timezone

import av
import numpy as np
import pytest

from examroom.video import timecode

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

MOMENT = datetime(2026, 11, 29, 4, 30, 12, 345000, tzinfo=timezone.utc)


def _picture(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)


def test_a_stamped_picture_reads_back_to_the_millisecond():
    image = _picture()
    timecode.stamp(image, MOMENT)
    assert timecode.read(image) == MOMENT


def test_a_picture_without_a_strip_reads_as_none():
    assert timecode.read(_picture()) is None
    assert timecode.read(np.zeros((8, 8, 3), np.uint8)) is None


def test_a_damaged_strip_fails_its_parity_instead_of_giving_a_wrong_time():
    image = _picture()
    timecode.stamp(image, MOMENT)
    x = timecode.MARGIN + (len(timecode.SYNC) + 20) * timecode.BLOCK
    image[timecode.MARGIN:timecode.MARGIN + timecode.BLOCK, x:x + timecode.BLOCK] ^= 255
    assert timecode.read(image) is None


def test_the_code_survives_h264(tmp_path):
    path = tmp_path / "clip.mp4"
    moments = [MOMENT + timedelta(milliseconds=66 * i) for i in range(30)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=15, options={"preset": "ultrafast", "crf": "28"})
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i, moment in enumerate(moments):
            image = _picture(i)
            timecode.stamp(image, moment)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with av.open(str(path)) as clip:
        read = [timecode.read(f.to_ndarray(format="bgr24")) for f in clip.decode(video=0)]
    assert read == moments


def test_times_outside_the_code_are_refused():
    with pytest.raises(ValueError):
        timecode.stamp(_picture(), datetime(1960, 1, 1, tzinfo=timezone.utc))

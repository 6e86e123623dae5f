from datetime import datetime, timezone

import numpy as np
import pytest

from devices.camera import CameraSpec, Frame, FrameFanout

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others


def _frame(seq: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), datetime.now(timezone.utc), float(seq), seq)


def test_every_consumer_gets_frames_and_a_slow_one_skips_to_the_newest():
    fanout = FrameFanout()
    fast, slow = fanout.subscribe(), fanout.subscribe()
    fanout.publish(_frame(1))
    assert fast.get(0.1).seq == 1
    fanout.publish(_frame(2))
    fanout.publish(_frame(3))
    assert fast.get(0.1).seq == 3 and fast.dropped == 1
    assert slow.get(0.1).seq == 3 and slow.dropped == 2
    assert slow.get(0.05) is None, "a frame is handed out once"
    slow.close()
    assert fanout.consumers == 1


def test_camera_spec_refuses_unknown_roles_and_modes():
    with pytest.raises(ValueError, match="unknown roles"):
        CameraSpec("a", "x", roles=("record", "stream"))
    with pytest.raises(ValueError, match="mode"):
        CameraSpec("a", "x", mode="h265")
    with pytest.raises(ValueError, match="id"):
        CameraSpec("a/b", "x")

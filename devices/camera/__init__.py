"""Cameras: what a camera is (its spec and roles), OpenCV frame readers and frame fan-out.

Recording, evidence and export live above, in ``examroom.video``; this package
only opens cameras and hands out their frames, once per camera.
"""

from devices.camera.spec import CameraSpec, ROLES
from devices.camera.frames import Frame, FrameFanout

__all__ = ["CameraSpec", "ROLES", "Frame", "FrameFanout"]

"""The ffmpeg binary used for recording and export.

The imageio-ffmpeg wheel ships a static ffmpeg with libx264 (the OpenCV wheel
cannot write H.264), so every machine gets the same encoder without a system
package. ``EXAMROOM_FFMPEG`` points at another binary if a site needs one.
"""

from __future__ import annotations

import functools
import os


@functools.cache
def ffmpeg_exe() -> str:
    override = os.environ.get("EXAMROOM_FFMPEG")
    if override:
        return override
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()

"""A machine-readable time code burned into a picture, and reading it back.

A strip of black and white blocks in the top-left corner carries the UTC
time of the picture in milliseconds since the Unix epoch, framed by a fixed
sync pattern. Blocks of 8×8 pixels survive H.264 at ordinary quality, so a
frame decoded from a recording — or drawn by a browser — still says when it
was taken. The simulated cameras stamp every frame; a site can show the same
strip on a screen in front of a real camera to calibrate that camera's offset.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

BLOCK = 8  # pixels per bit, both ways
BITS = 44  # milliseconds since 1970 fit in 44 bits until the year 2527
SYNC = (1, 0, 1, 1, 0, 1)  # marks a real strip; a picture of the course never matches it by chance
MARGIN = 4  # white border so the strip stands apart from the picture
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _bits(utc: datetime) -> list[int]:
    ms = round((utc - EPOCH).total_seconds() * 1000)
    if not 0 <= ms < 1 << BITS:
        raise ValueError(f"time {utc} cannot be encoded in {BITS} bits of milliseconds")
    value = [(ms >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    parity = sum(value) & 1
    return list(SYNC) + value + [parity]


def strip_size() -> tuple[int, int]:
    """Width and height in pixels of the strip including its margin."""
    return (len(SYNC) + BITS + 1) * BLOCK + 2 * MARGIN, BLOCK + 2 * MARGIN


def stamp(image: np.ndarray, utc: datetime) -> None:
    """Draw the time code of ``utc`` into the top-left corner of a BGR image, in place."""
    width, height = strip_size()
    image[:height, :width] = 255
    for i, bit in enumerate(_bits(utc)):
        if bit:
            x = MARGIN + i * BLOCK
            image[MARGIN:MARGIN + BLOCK, x:x + BLOCK] = 0


def read(image: np.ndarray) -> datetime | None:
    """The UTC time coded in the picture, or None when no intact strip is found.

    ``image`` is BGR or RGB(A) (channels are averaged) or grey; each block is
    judged by the mean of its centre so a blurred edge does not flip a bit.
    """
    grey = image.astype(np.float32) if image.ndim == 2 else image[..., :3].astype(np.float32).mean(axis=2)
    width, height = strip_size()
    if grey.shape[0] < height or grey.shape[1] < width:
        return None
    bits = []
    for i in range(len(SYNC) + BITS + 1):
        x = MARGIN + i * BLOCK
        centre = grey[MARGIN + 2:MARGIN + BLOCK - 2, x + 2:x + BLOCK - 2]
        bits.append(1 if centre.mean() < 128 else 0)
    if tuple(bits[:len(SYNC)]) != SYNC:
        return None
    value = bits[len(SYNC):len(SYNC) + BITS]
    if sum(value) & 1 != bits[-1]:
        return None
    ms = 0
    for bit in value:
        ms = (ms << 1) | bit
    return EPOCH + timedelta(milliseconds=ms)

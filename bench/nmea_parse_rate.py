"""NMEA sentences parsed per second on one core, through the GNSS driver's framer and decoder.

Two inputs: the real receiver logs under ../shared/data/nmea (mixed sentence
types, some binary UBX), and a stream from the twin (RMC, VTG, HDT, GGA per
epoch, 10 Hz). CPU time is measured with time.process_time (one thread, so
one core). Run: python bench/nmea_parse_rate.py
"""

from __future__ import annotations

import glob
import math
import os
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from devices.gnss import GnssDriver, GnssTruth, build_epoch  # noqa: E402

from tests.shared_data import NMEA_DIR  # noqa: E402  (../shared beside the repository)
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)


def rate(data: bytes, repeat: int, epoch_end="auto") -> tuple[float, int, int]:
    sentences = fixes = 0
    cpu = time.process_time()
    for _ in range(repeat):
        drv = GnssDriver("bench://", epoch_end=epoch_end)
        for i in range(0, len(data), 512):
            fixes += len(drv.feed(data[i:i + 512], i * 1e-6, T0))
        sentences += drv.framer.sentences
    cpu = time.process_time() - cpu
    return sentences / cpu, sentences, fixes


def main() -> None:
    logs = b"".join(open(p, "rb").read() for p in sorted(glob.glob(os.path.join(NMEA_DIR, "*.log"))))
    per_s, n, fixes = rate(logs, 3)
    print(f"real logs:  {per_s:10,.0f} sentences/s per core  ({n} sentences, {fixes} fixes)")
    # 5 m/s east, and its positions move so (0.5 m an epoch): the decoder's track check runs on every fix.
    east = 0.5 / (6371000.0 * math.pi / 180.0 * math.cos(math.radians(30.5)))
    twin = "".join(s + "\r\n" for k in range(3000) for s in build_epoch(
        GnssTruth(30.5, 114.25 + k * east, speed=5.0, course=90.0, heading=90.0), T0 + timedelta(seconds=k / 10)))
    per_s, n, fixes = rate(twin.encode(), 3, epoch_end="GGA")
    print(f"twin 10 Hz: {per_s:10,.0f} sentences/s per core  ({n} sentences, {fixes} fixes)"
          f" = {per_s / 4:,.0f} epochs/s, {per_s / 40:,.0f} receivers at 10 Hz")


if __name__ == "__main__":
    main()

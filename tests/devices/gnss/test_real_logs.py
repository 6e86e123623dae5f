"""Every fix the driver reports from a real log matches that log's own sentences.

The oracle is written independently of pynmea2 and the decoder: plain string
splitting of the checksum-valid GGA and RMC lines, ddmm.mmmm converted by
hand. A fix must have the position, quality and satellites of the GGA (or,
for an epoch without GGA, the RMC) with the same time, and every epoch with a
GGA fix in the log must come out as a fix.
"""

import glob
import os
from functools import reduce

import pytest

from devices.gnss.driver import replay
from devices.gnss.layout import CONFIRM_VOTES
from tests.shared_data import NMEA_DIR

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

LOGS = sorted(glob.glob(os.path.join(NMEA_DIR, "*.log")))
assert LOGS, f"no receiver logs in {NMEA_DIR} (../shared beside the repository, or EXAMROOM_SHARED_DATA)"


def degrees(value: str, hemisphere: str) -> float:
    dot = value.index(".")
    deg = float(value[:dot - 2]) + float(value[dot - 2:]) / 60.0
    return -deg if hemisphere in ("S", "W") else deg


def valid_lines(data: bytes):
    for raw in data.split(b"\n"):
        line = raw.strip(b"\r").decode("ascii", "replace")
        start = line.find("$")
        star = line.rfind("*")
        if start < 0 or star < start or len(line) < star + 3:
            continue
        body = line[start + 1:star]
        try:
            if reduce(lambda a, c: a ^ ord(c), body, 0) != int(line[star + 1:star + 3], 16):
                continue
        except ValueError:
            continue
        yield body.split(",")


def oracle(data: bytes):
    """time -> {"gga": (lat, lon, quality, sats) | None, "rmc": (lat, lon) | None} of fixed epochs."""
    epochs: dict[str, dict] = {}
    for f in valid_lines(data):
        kind = f[0][2:]
        if kind == "GGA" and len(f) >= 8 and f[6] not in ("", "0") and f[2]:
            epochs.setdefault(f[1], {})["gga"] = (degrees(f[2], f[3]), degrees(f[4], f[5]), int(f[6]),
                                                  int(f[7]) if f[7] else None)
        elif kind == "RMC" and len(f) >= 7 and f[2] == "A" and f[3]:
            epochs.setdefault(f[1], {})["rmc"] = (degrees(f[3], f[4]), degrees(f[5], f[6]))
    return epochs


@pytest.mark.parametrize("path", LOGS, ids=os.path.basename)
def test_fixes_match_the_sentences(path):
    with open(path, "rb") as fh:
        data = fh.read()
    fixes, drv = replay(data, epoch_end="auto")
    truth = oracle(data)
    for fix in fixes:
        epoch = truth.get(fix.receiver_time)
        assert epoch is not None, f"fix at {fix.receiver_time} has no GGA/RMC fix in the log"
        if "gga" in epoch:
            lat, lon, quality, sats = epoch["gga"]
            assert (fix.quality, fix.satellites) == (quality, sats), fix
        else:
            lat, lon = epoch["rmc"]
        assert fix.latitude == pytest.approx(lat, abs=1e-9) and fix.longitude == pytest.approx(lon, abs=1e-9)
    reported = {f.receiver_time for f in fixes}
    positions = [t for t, e in truth.items() if "gga" in e]
    missing = [t for t in positions if t not in reported]
    if len(positions) < CONFIRM_VOTES:  # a layout is confirmed by three sentences, and a
        assert missing == positions  # capture ending with fewer has nothing confirmed
    else:  # only a receiver's multi-GGA epochs or an epoch cut by the end of the capture may be missing
        assert len(missing) <= 1, f"GGA fixes not reported: {missing[:5]}"
    assert drv.decoder.counts["inconsistent_epochs"] == 0
    # A receiver's own speed and course always agree with its track (the track check refuses none).
    assert drv.decoder.counts["track_disagrees"] == 0
    # Nor do a receiver's fixes contradict each other (a lone value may go unwitnessed: rst39.log's
    # one RMC with a speed, at its start, has no other speed within a second).
    assert drv.decoder.counts["neighbours_disagree"] == 0

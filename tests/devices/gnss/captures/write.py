"""Writes the sentence-order captures in this folder (run once; the files are committed).

Each capture is 60 epochs at 10 Hz of one receiver's sentence order, written
field by field from the NMEA 0183 sentence formats (no pynmea2, so the
decoder is not checked against itself):

* GGA ``hhmmss.ss,llll.llllllll,a,yyyyy.yyyyyyyy,a,q,nn,h.h,a.aaa,M,g.g,M,age,ssss``
* RMC ``hhmmss.ss,A,llll.ll,a,yyyyy.yy,a,knots,course,ddmmyy,,,mode`` (NMEA 2.3)
* VTG ``course,T,,M,knots,N,kmh,K,mode``
* HDT ``heading,T``

The true values are functions of the epoch number ``k`` that the test's
oracle recomputes from the sentence time: speed ``0.3 * min(k % 20, 20 - k % 20)``
m/s (0 to 3 m/s and back, 3 m/s² as a vehicle can), course ``k * 7 % 360``, heading
``k * 11 % 360`` (110°/s); the position starts at 30.5 N, 114.25 E and moves each epoch by
its speed and course (what a real track does). The decoder compares what one sentence
alone reports with the epochs beside it, so a capture moves as a vehicle can.
Run: python tests/devices/gnss/captures/write.py
"""

from __future__ import annotations

import math
import os
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = datetime(2026, 11, 3, 2, 15, 0, tzinfo=timezone.utc)
KNOT = 1852.0 / 3600.0
ORDERS = {
    "hemisphere-hdt-gga-vtg": ("HDT", "GGA", "VTG"),
    "gga-rmc-vtg-hdt": ("GGA", "RMC", "VTG", "HDT"),
    "vtg-hdt-rmc-gga": ("VTG", "HDT", "RMC", "GGA"),
    "gga-vtg": ("GGA", "VTG"),
    "vtg-gga": ("VTG", "GGA"),
    "hdt-rmc-gga": ("HDT", "RMC", "GGA"),
    "gga-hdt-vtg": ("GGA", "HDT", "VTG"),
    "gga-only-no-speed": ("GGA",),
}
EPOCHS = 60


M_PER_DEG = 6371000.0 * math.pi / 180.0  # metres per degree of latitude


def _speed(k: int) -> float:
    return 0.3 * min(k % 20, 20 - k % 20)


def truth(k: int) -> dict:
    # The position follows the speed and course (each epoch moved speed * 0.1 s along its course
    # from the one before), as a real receiver's does: the decoder refuses a speed or course
    # its RTK track contradicts.
    lat, lon = 30.5, 114.25
    for j in range(1, k + 1):
        step, course = _speed(j) * 0.1, math.radians(j * 7 % 360)
        lat += step * math.cos(course) / M_PER_DEG
        lon += step * math.sin(course) / (M_PER_DEG * math.cos(math.radians(lat)))
    return {"speed": _speed(k), "course": k * 7 % 360, "heading": k * 11 % 360, "lat": lat, "lon": lon}


def _dm(value: float, width: int) -> str:
    deg = int(value)
    return "%0*d%011.8f" % (width, deg, (value - deg) * 60.0)


def sentence(body: str) -> str:
    checksum = 0
    for ch in body:
        checksum ^= ord(ch)
    return "$%s*%02X\r\n" % (body, checksum)


def epoch(k: int, order: tuple[str, ...], talker: str = "GP") -> str:
    t = T0 + timedelta(seconds=k / 10)
    hms = t.strftime("%H%M%S") + ".%02d" % (t.microsecond // 10000)
    v = truth(k)
    lat, lon = _dm(v["lat"], 2), _dm(v["lon"], 3)
    knots = v["speed"] / KNOT
    bodies = {
        "GGA": f"{talker}GGA,{hms},{lat},N,{lon},E,4,18,0.7,1032.500,M,-25.0,M,1.0,0001",
        "RMC": f"{talker}RMC,{hms},A,{lat},N,{lon},E,{knots:.3f},{v['course']:.2f},{t:%d%m%y},,,R",
        "VTG": f"{talker}VTG,{v['course']:.2f},T,,M,{knots:.3f},N,{v['speed'] * 3.6:.3f},K,R",
        "HDT": f"{talker}HDT,{v['heading']:.2f},T",
    }
    return "".join(sentence(bodies[kind]) for kind in order)


def main() -> None:
    for name, order in ORDERS.items():
        with open(os.path.join(HERE, f"{name}.nmea"), "w", encoding="ascii", newline="") as fh:
            fh.write("".join(epoch(k, order) for k in range(EPOCHS)))


if __name__ == "__main__":
    main()

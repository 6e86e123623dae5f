"""A GNSS receiver that sends no speed: a named configuration fault, and never a speed of 0.

The receiver is a pty peer writing GGA (and HDT) only, the way a receiver
configured without RMC and VTG talks; the real driver reads it.
"""

import threading
from datetime import datetime, timedelta, timezone

from devices.gnss import GnssReceiver
from devices.gnss.simulator import GnssTruth, build_epoch
from devices.nullmodem import NullModem
from examroom.station.device_health import device_fault, device_status
from examroom.live.observing import CourseOrigin, pose_from_fix
from examroom.station.selfcheck import SPEED_MISSING, SelfCheck
from examroom.site.settings import parse_settings
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from scoring.course import load_course
from tests.devices.conftest import wait_for

T0 = datetime(2026, 11, 3, 2, 15, tzinfo=timezone.utc)


def test_a_receiver_without_speed_fails_the_check_by_name_and_is_a_device_fault():
    course = load_course(DEMO_COURSE_PATH)
    origin = course.origin
    with NullModem() as modem:
        settings = parse_settings({
            "database_url": "sqlite://", "course_file": str(DEMO_COURSE_PATH),
            "rule_set_file": str(DEMO_COURSE_PATH.parent.parent / "rules" / "ga1026-2022.toml"),
            "health": {"required_fix": "rtk_fixed"},
            "vehicles": [{"id": "V1", "plate": "甘K·0001学", "model": "E-01",
                          "gnss": {"port": modem.b}, "signals": {"port": "/dev/null-signals"}}]})
        check = SelfCheck(settings, course, T0)
        stop = threading.Event()

        def receiver():  # GGA and HDT per epoch, at 10 Hz: no RMC, no VTG
            k = 0
            with open(modem.a, "wb", buffering=0) as port:
                while not stop.wait(0.1):
                    truth = GnssTruth(origin.latitude, origin.longitude, speed=3.0, heading=90.0)
                    sentences = [s for s in build_epoch(truth, T0 + timedelta(seconds=k / 10)) if "GGA" in s or "HDT" in s]
                    port.write("".join(s + "\r\n" for s in sentences).encode())
                    k += 1

        writer = threading.Thread(target=receiver, daemon=True)
        writer.start()
        fixes = []
        try:
            with GnssReceiver(modem.b, lambda f: (fixes.append(f), check.observe(f)), device="V1.gnss") as rx:
                wait_for(lambda: rx.health().extra["speed_missing_streak"] >= 10, timeout=10)
                report = check.report([device_status(rx, "V1", 0.0)], T0)
                status = device_status(rx, "V1", 0.0)
        finally:
            stop.set()
            writer.join(5)
    gnss = next(d for d in report["devices"] if d["device"] == "V1.gnss")
    assert SPEED_MISSING in gnss["problems"] and not gnss["ok"]
    assert "无速度数据" in device_fault(status, settings)
    assert fixes and all(f.speed is None for f in fixes)
    assert pose_from_fix(fixes[-1], "V1", CourseOrigin(origin.latitude, origin.longitude)) is None

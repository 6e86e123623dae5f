"""Start the device drivers a site's settings name, and wire them to the controller."""

from __future__ import annotations

import logging

from devices.courseboard import CourseBoard
from devices.gnss import GnssReceiver
from devices.readings import Clock
from devices.runner import DeviceRunner
from devices.signalboard import SignalBoard
from examroom.settings import SiteSettings

log = logging.getLogger(__name__)


def gnss_device(vehicle_id: str) -> str:
    return f"{vehicle_id}.gnss"


def signals_device(vehicle_id: str) -> str:
    return f"{vehicle_id}.signals"


def build_runners(settings: SiteSettings, controller, clock: Clock) -> list[DeviceRunner]:
    """One runner per configured device, delivering readings to ``controller.submit``."""
    # pymodbus logs every failed poll with a frame dump; device health counts them instead.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    runners: list[DeviceRunner] = []
    for v in settings.vehicles:
        gnss = GnssReceiver(v.gnss.port, controller.submit, clock=clock, device=gnss_device(v.id),
                            baudrate=v.gnss.baudrate, rate=v.gnss_rate)
        signals = SignalBoard(v.signals.port, controller.submit, clock=clock, device=signals_device(v.id),
                              baudrate=v.signals.baudrate, rate=v.signals_rate)
        controller.attach_device(gnss.device, v.id)
        controller.attach_device(signals.device, v.id)
        runners += [gnss, signals]
    for b in settings.course_boards:
        runners.append(CourseBoard(b.serial.port, controller.submit, clock=clock, device=b.id, unit=b.unit,
                                   count=len(b.inputs), rate=b.poll_rate, baudrate=b.serial.baudrate))
    return runners

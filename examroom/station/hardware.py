"""Start the device drivers a site's settings name, and wire them to the controller."""

from __future__ import annotations

import logging

from devices.courseboard import CourseBoardDriver
from devices.gnss import GnssDriver
from devices.readings import Clock
from devices.runner import DeviceRunner, Driver
from devices.signalboard import SignalBoardDriver
from examroom.station.serial_ports import port_url
from examroom.site.settings import SerialSettings, SiteSettings

log = logging.getLogger(__name__)


def gnss_device(vehicle_id: str) -> str:
    return f"{vehicle_id}.gnss"


def signals_device(vehicle_id: str) -> str:
    return f"{vehicle_id}.signals"


def build_drivers(settings: SiteSettings) -> dict[str, Driver]:
    """One driver per configured device, by device id (also used to replay raw captures)."""
    drivers: dict[str, Driver] = {}
    for v in settings.vehicles:
        drivers[gnss_device(v.id)] = GnssDriver(port_url(v.gnss), device=gnss_device(v.id), rate=v.gnss_rate,
                                                epoch_end=v.gnss_epoch_end, **_line(v.gnss))
        drivers[signals_device(v.id)] = SignalBoardDriver(port_url(v.signals), device=signals_device(v.id),
                                                          rate=v.signals_rate, **_line(v.signals))
    for b in settings.course_boards:
        drivers[b.id] = CourseBoardDriver(port_url(b.serial), device=b.id, unit=b.unit, address=b.address,
                                          count=len(b.inputs), rate=b.poll_rate, quiet=b.quiet,
                                          timeout=b.timeout,
                                          fault_limit=settings.board_fault_limit, **_line(b.serial))
    return drivers


def _line(serial: SerialSettings) -> dict:
    return {"baudrate": serial.baudrate, "parity": serial.parity, "bytesize": serial.bytesize,
            "stopbits": serial.stopbits}


def build_runners(settings: SiteSettings, controller, clock: Clock) -> list[DeviceRunner]:
    """One runner per configured device, delivering readings to ``controller.submit``."""
    # pymodbus logs every failed poll with a frame dump; device health counts them instead.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    runners: list[DeviceRunner] = []
    for v in settings.vehicles:
        controller.attach_device(gnss_device(v.id), v.id)
        controller.attach_device(signals_device(v.id), v.id)
    for driver in build_drivers(settings).values():
        runners.append(DeviceRunner(driver, controller.submit, clock=clock))
    return runners

"""The device drivers a site's settings name, their runners, and which device is on which vehicle."""

from __future__ import annotations

import logging

from devices.courseboard import CourseBoardDriver
from devices.gnss import GnssDriver
from devices.readings import Clock
from devices.runner import DeviceRunner, Driver, OnReading, Tap
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


def device_owners(settings: SiteSettings) -> dict[str, str]:
    """Device id -> the vehicle it is mounted on: each vehicle's GNSS receiver and signal board."""
    owners = {gnss_device(v.id): v.id for v in settings.vehicles}
    owners.update({signals_device(v.id): v.id for v in settings.vehicles})
    return owners


def board_inputs(settings: SiteSettings) -> dict[str, list[str | None]]:
    """Course board id -> its inputs' course elements; a camera's vision sensor is such a board too."""
    boards = {b.id: list(b.inputs) for b in settings.course_boards}
    if settings.video is not None:
        boards.update({v.device: list(v.elements) for v in settings.video.vision})
    return boards


def build_runners(settings: SiteSettings, on_reading: OnReading, clock: Clock,
                  tap: Tap | None = None) -> list[DeviceRunner]:
    """One runner per configured device, delivering its readings to ``on_reading`` (from its thread)
    and, when ``tap`` is given, its raw bytes to ``tap``."""
    # pymodbus logs every failed poll with a frame dump; device health counts them instead.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    return [DeviceRunner(driver, on_reading, clock=clock, tap=tap) for driver in build_drivers(settings).values()]

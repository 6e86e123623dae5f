"""Where a configured serial device is: a path, a stable by-id path, or a USB serial number.

``/dev/ttyUSB0`` numbers follow plug order and change after a reboot or when a
cable is moved, so a course should name its USB adapters by
``/dev/serial/by-id/...`` (udev's stable link) or by the adapter's USB serial
number. A serial number becomes pyserial's ``hwgrep://`` URL, which pyserial
resolves with ``serial.tools.list_ports`` *every time the port is opened*, so
a driver that reconnects after the adapter moved to another socket finds it
again. :func:`locate` answers "is it there now, and where", with a message
naming the device for the self-check.
"""

from __future__ import annotations

import os
import re

from serial.tools import list_ports

from examroom.site.settings import SerialSettings


class PortNotFound(LookupError):
    pass


def port_url(serial: SerialSettings) -> str:
    """What the driver opens: the port as configured, or a hwgrep URL for a USB serial number."""
    if serial.usb_serial is None:
        return serial.port
    # hwid looks like "USB VID:PID=0403:6001 SER=A10KJ3 LOCATION=1-1.2"; "&" would end the regexp.
    return "hwgrep://SER=%s(\\s|$)" % re.escape(serial.usb_serial).replace("&", ".")


def locate(serial: SerialSettings, device: str) -> str:
    """The device path now; PortNotFound with a message naming ``device`` if it is not there."""
    if serial.usb_serial is not None:
        ports = list(list_ports.comports())
        for port in ports:
            if port.serial_number == serial.usb_serial:
                return port.device
        present = "、".join(f"{p.device}（{p.serial_number}）" for p in ports if p.serial_number) or "无"
        raise PortNotFound(f"{device}：未插入序列号为 {serial.usb_serial} 的 USB 串口（现有：{present}）")
    if "://" in serial.port:
        return serial.port  # a URL (socket://, rfc2217://): reachability shows when it opens
    if not os.path.exists(serial.port):
        hint = ""
        if serial.port.startswith("/dev/serial/by-id/"):
            links = sorted(os.listdir("/dev/serial/by-id")) if os.path.isdir("/dev/serial/by-id") else []
            hint = f"（/dev/serial/by-id 下现有：{'、'.join(links) or '无'}）"
        raise PortNotFound(f"{device}：未找到串口 {serial.port}{hint}")
    return os.path.realpath(serial.port)

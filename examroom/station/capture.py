"""Raw device bytes captured per attempt, next to its journal.

For each attempt the controller starts, the raw bytes of that vehicle's GNSS
receiver and signal board and of every course board are written under
``<raw_capture_dir>/<attempt id>/`` (format: :mod:`devices.rawcapture`), from
a couple of seconds before the start to the end of the attempt.
:mod:`examroom.station.raw_replay` feeds them back through the same drivers.
"""

from __future__ import annotations

import logging
from pathlib import Path

from devices.rawcapture import RawCapture
from examroom.station.hardware import gnss_device, signals_device
from examroom.site.settings import SiteSettings

log = logging.getLogger(__name__)


def attempt_dir(raw_capture_dir: Path, attempt_id: int) -> Path:
    return Path(raw_capture_dir) / str(attempt_id)


class AttemptCapture:
    """Opens and closes a raw capture per attempt; a controller attempt listener."""

    def __init__(self, settings: SiteSettings, capture: RawCapture | None = None) -> None:
        if settings.raw_capture_dir is None:
            raise ValueError("raw_capture_dir is not set in the site settings")
        self.root = Path(settings.raw_capture_dir)
        self.capture = capture or RawCapture()
        self._boards = [b.id for b in settings.course_boards]

    def devices_of(self, vehicle_id: str) -> list[str]:
        return [gnss_device(vehicle_id), signals_device(vehicle_id), *self._boards]

    def __call__(self, event: str, attempt_id: int, vehicle_id: str) -> None:
        if event == "started":
            directory = attempt_dir(self.root, attempt_id)
            self.capture.start(attempt_id, directory, self.devices_of(vehicle_id))
            log.info("attempt %d: raw capture in %s", attempt_id, directory)
        elif event == "finished":
            self.capture.stop(attempt_id)

    def close(self) -> None:
        self.capture.stop_all()

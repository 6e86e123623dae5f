"""Site settings: which course, rule set, database, vehicles and devices.

A site file is TOML. Errors name the field path and the reason, so a wrong
port or a missing model id is found before the exam day, not during it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARITIES = {"N", "E", "O", "M", "S"}


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class SerialSettings:
    port: str  # a device path, a by-id path, or a pyserial URL (socket://, loop://)
    baudrate: int = 38400
    parity: str = "N"
    bytesize: int = 8
    stopbits: float = 1


@dataclass(frozen=True)
class VehicleSettings:
    id: str
    plate: str
    model: str  # the exam vehicle's id in the course file
    gnss: SerialSettings
    signals: SerialSettings
    gnss_rate: float = 10.0
    signals_rate: float = 20.0


@dataclass(frozen=True)
class CourseBoardSettings:
    id: str
    serial: SerialSettings
    unit: int
    inputs: list[str | None]  # input index -> course element id (None: not wired)
    poll_rate: float = 20.0


@dataclass(frozen=True)
class SiteSettings:
    database_url: str
    course_file: Path
    rule_set_file: Path
    vehicles: list[VehicleSettings] = field(default_factory=list)
    course_boards: list[CourseBoardSettings] = field(default_factory=list)
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Where the course keeps its seal key (and, later, evidence); None: beside the settings file.
    data_dir: Path | None = None
    province_files: list[Path] = field(default_factory=list)  # rule overrides, applied in order
    video: Any = None  # examroom.video.config.VideoSettings when the site has cameras


def load_settings(path: str | Path) -> SiteSettings:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"{path}: no such settings file") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    return parse_settings(data, base=path.parent)


def parse_settings(data: dict[str, Any], base: Path = Path(".")) -> SiteSettings:
    reader = _Reader(data, "")
    database_url = reader.text("database_url")
    vehicles = [_vehicle(_Reader(v, f"vehicles[{i}]")) for i, v in enumerate(reader.list("vehicles", []))]
    boards = [_board(_Reader(b, f"course_boards[{i}]")) for i, b in enumerate(reader.list("course_boards", []))]
    _unique([v.id for v in vehicles], "vehicles", "id")
    _unique([b.id for b in boards], "course_boards", "id")
    web = _Reader(reader.table("web", {}), "web")
    settings = SiteSettings(
        database_url=database_url,
        course_file=(base / reader.text("course_file")).resolve(),
        rule_set_file=(base / reader.text("rule_set_file")).resolve(),
        vehicles=vehicles, course_boards=boards,
        web_host=web.text("host", "127.0.0.1"), web_port=web.integer("port", 8080, low=0, high=65535),
        data_dir=(base / reader.text("data_dir", ".")).resolve(),
        province_files=_files(reader.list("province_files", []), base, "province_files"),
        video=_video(reader.table("video", None), base))
    reader.done()
    web.done()
    return settings


def _files(entries: list, base: Path, key: str) -> list[Path]:
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry:
            raise SettingsError(f"{key}[{i}]: expected a file name, got {entry!r}")
    return [(base / entry).resolve() for entry in entries]


def _video(table: dict | None, base: Path):
    if table is None:
        return None
    from examroom.video.config import parse_video  # the video layer is optional; load it only when used

    return parse_video(table, base)


def _vehicle(r: "_Reader") -> VehicleSettings:
    v = VehicleSettings(id=r.text("id"), plate=r.text("plate"), model=r.text("model"),
                        gnss=_serial(_Reader(r.table("gnss"), r.path + ".gnss")),
                        signals=_serial(_Reader(r.table("signals"), r.path + ".signals")),
                        gnss_rate=r.number("gnss_rate", 10.0, low=1, high=50),
                        signals_rate=r.number("signals_rate", 20.0, low=1, high=200))
    r.done()
    return v


def _board(r: "_Reader") -> CourseBoardSettings:
    inputs = r.list("inputs")
    for i, element in enumerate(inputs):
        if not isinstance(element, str):
            raise SettingsError(f"{r.path}.inputs[{i}]: must be a course element id or \"\", got {element!r}")
    b = CourseBoardSettings(id=r.text("id"), serial=_serial(_Reader(r.table("serial"), r.path + ".serial")),
                            unit=r.integer("unit", low=1, high=247),
                            inputs=[e or None for e in inputs],
                            poll_rate=r.number("poll_rate", 20.0, low=1, high=100))
    r.done()
    return b


def _serial(r: "_Reader") -> SerialSettings:
    s = SerialSettings(port=r.text("port"), baudrate=r.integer("baudrate", 38400, low=1200, high=921600),
                       parity=r.text("parity", "N").upper(), bytesize=r.integer("bytesize", 8, low=5, high=8),
                       stopbits=r.number("stopbits", 1, low=1, high=2))
    if s.parity not in PARITIES:
        raise SettingsError(f"{r.path}.parity: must be one of {sorted(PARITIES)}, got {s.parity!r}")
    r.done()
    return s


def _unique(values: list[str], path: str, name: str) -> None:
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SettingsError(f"{path}[{i}].{name}: duplicate {value!r}")
        seen.add(value)


_MISSING = object()


class _Reader:
    """Reads typed fields from one TOML table and remembers which were used."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise SettingsError(f"{path or 'settings'}: must be a table")
        self.data, self.path, self.used = data, path, set()

    def _get(self, key: str, default: Any, kinds: tuple[type, ...], what: str) -> Any:
        self.used.add(key)
        where = f"{self.path}.{key}" if self.path else key
        if key not in self.data:
            if default is _MISSING:
                raise SettingsError(f"{where}: missing")
            return default
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise SettingsError(f"{where}: must be {what}, got {value!r}")
        return value

    def text(self, key: str, default: Any = _MISSING) -> str:
        value = self._get(key, default, (str,), "text")
        if not value.strip():
            raise SettingsError(f"{self.path}.{key}: must not be empty")
        return value

    def integer(self, key: str, default: Any = _MISSING, low: int | None = None, high: int | None = None) -> int:
        return self._range(key, self._get(key, default, (int,), "a whole number"), low, high)

    def number(self, key: str, default: Any = _MISSING, low: float | None = None, high: float | None = None) -> float:
        return float(self._range(key, self._get(key, default, (int, float), "a number"), low, high))

    def list(self, key: str, default: Any = _MISSING) -> list:
        return self._get(key, default, (list,), "a list")

    def table(self, key: str, default: Any = _MISSING) -> dict:
        return self._get(key, default, (dict,), "a table")

    def _range(self, key: str, value, low, high):
        if (low is not None and value < low) or (high is not None and value > high):
            raise SettingsError(f"{self.path}.{key}: must be between {low} and {high}, got {value}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            where = self.path or "settings"
            raise SettingsError(f"{where}: unknown field(s) {', '.join(unknown)}")

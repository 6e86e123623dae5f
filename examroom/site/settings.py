"""Site settings: which course, rule set, database, vehicles and devices.

A site file is TOML. Errors name the field path and the reason, so a wrong
port or a missing model id is found before the exam day, not during it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from examroom.courseclock import DEFAULT_ZONE, parse_zone
from examroom.site.errors import SettingsError
from scoring.fields import Fields, load_file

PARITIES = {"N", "E", "O", "M", "S"}
EPOCH_ENDS = ("auto", "GGA", "RMC", "VTG", "HDT")
# Fix qualities a site may require for judging, best first (GGA quality indicator values).
REQUIRED_FIX = {"rtk_fixed": (4,), "rtk_float": (4, 5), "dgps": (2, 4, 5), "single": (1, 2, 4, 5)}


@dataclass(frozen=True)
class SerialSettings:
    # A device path, a stable /dev/serial/by-id/ path, or a pyserial URL (socket://, loop://);
    # or "" with usb_serial: the USB adapter's serial number, resolved when the course starts
    # (examroom.station.serial_ports), so a device moved to another USB socket is still found.
    port: str
    baudrate: int = 38400
    parity: str = "N"
    bytesize: int = 8
    stopbits: float = 1
    usb_serial: str | None = None


@dataclass(frozen=True)
class VehicleSettings:
    id: str
    plate: str
    model: str  # the exam vehicle's id in the course file
    gnss: SerialSettings
    signals: SerialSettings
    gnss_rate: float = 10.0
    signals_rate: float = 20.0
    # The receiver's last sentence of an epoch; "auto" learns it (receivers differ: u-blox
    # sends GGA last, many others GGA first).
    gnss_epoch_end: str = "auto"


@dataclass(frozen=True)
class CourseBoardSettings:
    id: str
    serial: SerialSettings
    unit: int
    inputs: list[str | None]  # input index -> course element id (None: not wired)
    poll_rate: float = 20.0
    address: int = 0  # first discrete input read (function 02); len(inputs) are read
    # Silence after a reply before it is accepted (a second frame means neither is believed).
    # 20 ms covers a USB adapter's latency timer (FTDI: 16 ms); a pty or a native UART needs less.
    quiet: float = 0.02
    timeout: float = 0.1  # seconds from request to the end of the reply


@dataclass(frozen=True)
class SiteSettings:
    database_url: str
    course_file: Path
    rule_set_file: Path
    vehicles: list[VehicleSettings] = field(default_factory=list)
    course_boards: list[CourseBoardSettings] = field(default_factory=list)
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    # Reverse proxies in front of the web server whose X-Forwarded-* it believes (web.serving).
    web_trusted_proxies: int = 0
    web_tls: bool = False  # pages reach browsers over HTTPS (at the proxy): cookies are marked Secure
    web_threads: int = 600  # each open console screen holds one
    # Where the course keeps its seal key (and, later, evidence); None: beside the settings file.
    data_dir: Path | None = None
    province_files: list[Path] = field(default_factory=list)  # rule overrides, applied in order
    video: Any = None  # examroom.site.cameras.VideoSettings when the site has cameras
    raw_capture_dir: Path | None = None  # raw device bytes per attempt (None: not captured)
    required_fix: str = "rtk_fixed"  # GNSS fix judging needs (a key of REQUIRED_FIX)
    max_correction_age: float = 10.0  # seconds; older RTK corrections are a device fault
    fault_after: float = 1.0  # seconds a device must stay at fault before an attempt is suspended
    # Replies that do not match the request (wrong unit/function/length, bad CRC, short, late,
    # unsolicited) within a course board's last 100 polls after which the board is faulted.
    board_fault_limit: int = 3
    # Exams start only after a passed pre-sitting self-check or a logged override (examroom.station.selfcheck).
    require_selfcheck: bool = True
    # The zone of every time a person reads (pages, slips, overlays, exports); storage stays UTC.
    timezone: str = DEFAULT_ZONE
    # The course's 考场代码: the course part of every record's key and of what version-3 seals sign
    # (docs/city.md). "" until the course is given one (it seals version 2 meanwhile).
    course_code: str = ""
    # Days after a sitting ends that its candidates' photos and face descriptors are kept
    # (个人信息保护法: no longer than needed; examroom.faces.personal_data deletes them, daily).
    personal_data_days: float = 90.0
    # Minutes without a 1:1 face verification after which a process drops the face models (about
    # 40 MB) until the next one (examroom.faces.loaded_models): the controller and the web worker.
    face_models_idle_minutes: float = 10.0


def load_settings(path: str | Path) -> SiteSettings:
    path = Path(path)
    return load_file(path, SettingsError, lambda data: parse_settings(data, base=path.parent), shown=str(path),
                     missing="no such settings file")


def parse_settings(data: dict[str, Any], base: Path = Path(".")) -> SiteSettings:
    reader = Fields(data, "", SettingsError)
    database_url = reader.text("database_url")
    from examroom.records.database_url import DatabaseURLError, database_url as check_database_url

    try:  # a database examroom cannot use is found here; a SQLite folder where the course opens it
        check_database_url(database_url, folder=False)
    except DatabaseURLError as exc:
        raise SettingsError(f"database_url: {exc}") from None
    vehicles = [_vehicle(table) for table in reader.tables("vehicles", [])]
    boards = [_board(table) for table in reader.tables("course_boards", [])]
    _unique([v.id for v in vehicles], "vehicles", "id")
    _unique([b.id for b in boards], "course_boards", "id")
    web = reader.table("web", {})
    health = reader.table("health", {})
    selfcheck = reader.table("selfcheck", {})
    personal = reader.table("personal_data", {})
    faces = reader.table("faces", {})
    raw_dir = reader.optional_text("raw_capture_dir")
    required_fix = health.text("required_fix", "rtk_fixed")
    if required_fix not in REQUIRED_FIX:
        raise SettingsError(f"health.required_fix: must be one of {list(REQUIRED_FIX)}, got {required_fix!r}")
    zone = reader.text("timezone", DEFAULT_ZONE)
    try:
        parse_zone(zone)
    except ValueError as exc:
        raise SettingsError(f"timezone: {exc}") from None
    course_code = reader.text("course_code", "")
    if len(course_code) > 32 or any(c in course_code for c in "/'\"") or course_code != "".join(course_code.split()):
        raise SettingsError(f"course_code: the 考场代码 is up to 32 characters without spaces, '/' or quotes, "
                            f"got {course_code!r}")
    settings = SiteSettings(
        database_url=database_url, timezone=zone, course_code=course_code,
        course_file=(base / reader.text("course_file")).resolve(),
        rule_set_file=(base / reader.text("rule_set_file")).resolve(),
        vehicles=vehicles, course_boards=boards,
        web_host=web.text("host", "127.0.0.1"), web_port=web.integer("port", 8080, minimum=0, maximum=65535),
        web_trusted_proxies=web.integer("trusted_proxies", 0, minimum=0, maximum=5), web_tls=web.boolean("tls", False),
        web_threads=web.integer("threads", 600, minimum=32, maximum=4000),
        data_dir=(base / reader.text("data_dir", ".")).resolve(),
        province_files=_files(reader.array("province_files", []), base, "province_files"),
        video=_video(reader.raw("video", None), base),
        raw_capture_dir=(base / raw_dir).resolve() if raw_dir else None, required_fix=required_fix,
        max_correction_age=health.number("max_correction_age", 10.0, minimum=0.5, maximum=600),
        fault_after=health.number("fault_after", 1.0, minimum=0.2, maximum=30),
        board_fault_limit=health.integer("board_fault_limit", 3, minimum=1, maximum=100),
        require_selfcheck=selfcheck.boolean("required", True),
        personal_data_days=personal.number("retention_days", 90.0, minimum=1, maximum=3650),
        face_models_idle_minutes=faces.number("models_idle_minutes", 10.0, minimum=1, maximum=1440))
    reader.done()
    personal.done()
    faces.done()
    web.done()
    health.done()
    selfcheck.done()
    _check_inputs(boards)
    _check_ports(vehicles, boards)
    if settings.video is not None:
        from examroom.site.cameras import check_cameras

        check_cameras(settings.video, [v.id for v in vehicles])  # items: against the course at start-up
    return settings


def _files(entries: list, base: Path, key: str) -> list[Path]:
    for i, entry in enumerate(entries):
        if not isinstance(entry, str) or not entry:
            raise SettingsError(f"{key}[{i}]: expected a file name, got {entry!r}")
    return [(base / entry).resolve() for entry in entries]


def _video(table: dict | None, base: Path):
    if table is None:
        return None
    from examroom.site.cameras import parse_video  # the video layer is optional; load it only when used

    return parse_video(table, base)


def _vehicle(r: Fields) -> VehicleSettings:
    vid = r.text("id")
    try:
        epoch_end = r.text("gnss_epoch_end", "auto")
        if epoch_end not in EPOCH_ENDS:
            raise SettingsError(f"{r.path}.gnss_epoch_end: must be one of {list(EPOCH_ENDS)}, got {epoch_end!r}")
        v = VehicleSettings(id=vid, plate=r.text("plate"), model=r.text("model"),
                            gnss=_serial(r.table("gnss")),
                            signals=_serial(r.table("signals")),
                            gnss_rate=r.number("gnss_rate", 10.0, minimum=1, maximum=50),
                            signals_rate=r.number("signals_rate", 20.0, minimum=1, maximum=200),
                            gnss_epoch_end=epoch_end)
        r.done()
    except SettingsError as exc:
        raise SettingsError(f"{exc} (vehicle {vid})") from None
    return v


def _board(r: Fields) -> CourseBoardSettings:
    bid = r.text("id")
    try:
        inputs = r.array("inputs")
        for i, element in enumerate(inputs):
            if not isinstance(element, str):
                raise SettingsError(f"{r.path}.inputs[{i}]: must be a course element id or \"\", got {element!r}")
        if not 1 <= len(inputs) <= 2000:
            raise SettingsError(f"{r.path}.inputs: a board has 1 to 2000 inputs, got {len(inputs)}")
        b = CourseBoardSettings(id=bid, serial=_serial(r.table("serial")),
                                unit=r.integer("unit", minimum=1, maximum=247),
                                inputs=[e or None for e in inputs],
                                poll_rate=r.number("poll_rate", 20.0, minimum=1, maximum=100),
                                quiet=r.number("quiet", 0.02, minimum=0.001, maximum=0.5),
                                timeout=r.number("timeout", 0.1, minimum=0.01, maximum=2.0),
                                address=r.integer("address", 0, minimum=0, maximum=65535 - len(inputs) + 1))
        r.done()
    except SettingsError as exc:
        raise SettingsError(f"{exc} (course board {bid})") from None
    return b


def _serial(r: Fields) -> SerialSettings:
    usb_serial = r.optional_text("usb_serial")
    port = r.optional_text("port") or ""
    if usb_serial is None and not port:
        raise SettingsError(f"{r.path}: give port (a device path, /dev/serial/by-id/... or a URL) "
                            f"or usb_serial (the USB adapter's serial number)")
    if usb_serial is not None and port:
        raise SettingsError(f"{r.path}: give port or usb_serial, not both")
    s = SerialSettings(port=port, baudrate=r.integer("baudrate", 38400, minimum=1200, maximum=921600),
                       parity=r.text("parity", "N").upper(), bytesize=r.integer("bytesize", 8, minimum=5, maximum=8),
                       stopbits=r.number("stopbits", 1, minimum=1, maximum=2), usb_serial=usb_serial)
    if s.parity not in PARITIES:
        raise SettingsError(f"{r.path}.parity: must be one of {sorted(PARITIES)}, got {s.parity!r}")
    if s.stopbits not in (1, 1.5, 2):
        raise SettingsError(f"{r.path}.stopbits: must be 1, 1.5 or 2, got {s.stopbits}")
    r.done()
    return s


def _check_ports(vehicles: list[VehicleSettings], boards: list[CourseBoardSettings]) -> None:
    """Two devices on one port would each read half of the bytes (ports are opened exclusively)."""
    seen: dict[tuple[str, str], str] = {}
    places = [(f"vehicles[{i}].gnss", f"{v.id} GNSS", v.gnss) for i, v in enumerate(vehicles)]
    places += [(f"vehicles[{i}].signals", f"{v.id} signal board", v.signals) for i, v in enumerate(vehicles)]
    places += [(f"course_boards[{i}].serial", f"course board {b.id}", b.serial) for i, b in enumerate(boards)]
    for path, device, serial in places:
        key = ("usb_serial", serial.usb_serial) if serial.usb_serial else ("port", serial.port)
        if key in seen:
            raise SettingsError(f"{path}: {device} uses the same {key[0]} {key[1]!r} as {seen[key]}; "
                                f"each device needs its own serial port")
        seen[key] = device


def check_against_course(settings: "SiteSettings", course) -> None:
    """Board inputs must name sensed elements of the course (pole and bridge-deck switches)."""
    from scoring.item_geometry import BridgeItem, PileItem

    known = set()
    for item in course.items.values():
        if isinstance(item, PileItem):
            known.update(pole.element for pole in item.poles)
        elif isinstance(item, BridgeItem) and item.deck_sensors:
            known.update(deck.element for deck in item.decks.values())
    for i, b in enumerate(settings.course_boards):
        for j, element in enumerate(b.inputs):
            if element is not None and element not in known:
                raise SettingsError(f"course_boards[{i}].inputs[{j}]: {element!r} is not a sensed element of "
                                    f"course {course.name} (course board {b.id}; known: {', '.join(sorted(known))})")


def _check_inputs(boards: list[CourseBoardSettings]) -> None:
    """One course element is wired to one input: two would make its sensor fire twice."""
    seen: dict[str, str] = {}
    for i, b in enumerate(boards):
        for j, element in enumerate(b.inputs):
            if element is None:
                continue
            here = f"course_boards[{i}].inputs[{j}]"
            if element in seen:
                raise SettingsError(f"{here}: element {element!r} is already wired at {seen[element]} "
                                    f"(course board {b.id})")
            seen[element] = here


def _unique(values: list[str], path: str, name: str) -> None:
    seen = set()
    for i, value in enumerate(values):
        if value in seen:
            raise SettingsError(f"{path}[{i}].{name}: duplicate {value!r}")
        seen.add(value)

"""The course's clock as people read it: local time in the zone the site file names.

Storage and the journal stay UTC (``as_utc`` is the one way a moment becomes UTC: a naive
moment is UTC, as SQLite hands stored times back). Everything a person reads — pages, slips, camera
overlays, export chapters and titles, file names, CSV — is the course's local time,
with the zone stated once where the reader meets it (``zone_note``). One process
serves one course, so the zone is set once at start-up (``use_zone``) from the site
file's ``timezone`` (Asia/Shanghai when it names none). What the national record and the
signed slip state is in China time (``CHINA``) whatever the course's zone, so that a record
reads the same at every course.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Asia/Shanghai"
# Zones a Chinese course is likely to use, by the name people say (others show their IANA name).
_SPOKEN = {"Asia/Shanghai": "北京时间", "Asia/Urumqi": "乌鲁木齐时间"}

_zone = ZoneInfo(DEFAULT_ZONE)
CHINA = ZoneInfo(DEFAULT_ZONE)  # China time (北京时间): the national record's and the signed slip's


def use_zone(name: str) -> ZoneInfo:
    """Make ``name`` (an IANA zone such as Asia/Shanghai) the zone every reader sees."""
    global _zone
    _zone = parse_zone(name)
    return _zone


def parse_zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"timezone must be an IANA zone name such as {DEFAULT_ZONE}, got {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone {name!r} is not a known zone (such as {DEFAULT_ZONE})") from None


def zone() -> ZoneInfo:
    return _zone


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` in UTC (a naive moment is UTC, as SQLite returns stored times); None stays None."""
    if moment is None:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def local(moment: datetime, zone: ZoneInfo | None = None) -> datetime:
    """``moment`` in ``zone`` (default: the course's); a naive moment is UTC, as SQLite returns stored times."""
    return as_utc(moment).astimezone(zone or _zone)


def day_bounds(day: date, zone: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """A local calendar day in ``zone`` (default: the course's) as UTC bounds [start, end)."""
    start = datetime.combine(day, time(0), tzinfo=zone or _zone).astimezone(timezone.utc)
    return start, start + timedelta(days=1)


def local_text(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "" if moment is None else local(moment).strftime(fmt)


def offset_text(moment: datetime | None = None) -> str:
    """``UTC+08:00`` for the zone at ``moment`` (now by default)."""
    offset = local(moment or datetime.now(timezone.utc)).utcoffset()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def offset_seconds(moment: datetime | None = None) -> int:
    """The zone's offset from UTC at ``moment``, for a page that turns UTC into local time itself."""
    return int(local(moment or datetime.now(timezone.utc)).utcoffset().total_seconds())


def zone_note(moment: datetime | None = None) -> str:
    """The zone stated once for a reader: ``北京时间（UTC+08:00）``."""
    name = _SPOKEN.get(str(_zone.key), str(_zone.key))
    return f"{name}（{offset_text(moment)}）"


def file_stamp(moment: datetime) -> str:
    """Local time for a file name, with its offset so the name alone is unambiguous: 20261205-091500+0800."""
    return local(moment).strftime("%Y%m%d-%H%M%S%z")

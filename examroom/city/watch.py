"""What the city sees of each course's link: connected or not, last contact, lag, and the WAL a
course's slot holds back.

Two places know something. The city's ``pg_stat_subscription`` knows whether the course's apply
worker is connected and when the course last spoke (``last_msg_receipt_time``; keepalives come
every few seconds even when nothing changes). It forgets that time when the worker stops, so
``LinkWatch`` remembers the last contact it saw. The course's ``pg_replication_slots`` and
``pg_stat_replication`` know how far behind the city is (bytes not yet confirmed, the replay lag
in time) and how much WAL the slot keeps on the course's disk: ``slot_states`` warns when that
passes a configured size (``warn_bytes``), and when the server says the WAL is at risk or gone
(``wal_status`` unreserved / lost: then the city must re-sync, ``replication.resync``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from examroom.records.database_url import database_url

from examroom.city.replication import slot_name, subscription_name
from examroom.messages import N_

DEFAULT_WARN_BYTES = 1 << 30  # 1 GiB of WAL held back for the city: days of a busy course's records
REACH_TIMEOUT_S = 3  # how long the city waits for a course's answer before showing it out of reach


def course_engine(url: str, timeout_s: int = REACH_TIMEOUT_S) -> Engine:
    """An engine on a course's database as the city reaches it, for ``LinkWatch``.

    A new connection each time (no pool: a pooled connection over a link that went down would
    hang on the dead socket for as long as TCP retransmits, a quarter of an hour), with a connect
    timeout, a TCP user timeout and a statement timeout, so a course out of reach costs the
    city's screen ``timeout_s`` seconds, not minutes.
    """
    return create_engine(database_url(url), poolclass=NullPool, connect_args={
        "connect_timeout": timeout_s, "tcp_user_timeout": timeout_s * 1000,
        "keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": timeout_s,
        "options": f"-c statement_timeout={timeout_s * 1000}"})


@dataclass(frozen=True)
class SlotState:
    """The city's replication slot at a course, as the course sees it."""

    slot: str
    active: bool  # a city worker is connected to it now
    retained_bytes: int  # WAL kept on the course's disk for this slot (current position - restart_lsn)
    behind_bytes: int  # changes the city has not yet confirmed (current position - confirmed_flush_lsn)
    wal_status: str | None  # reserved / extended / unreserved / lost (PostgreSQL 13+)
    safe_wal_size: int | None  # bytes that may still be written before the slot is at risk (13+)
    replay_lag_s: float | None  # how long the city's apply trails the course's commits, while connected
    warn_bytes: int

    @property
    def lost(self) -> bool:
        return self.wal_status == "lost"

    @property
    def warning(self) -> str | None:
        """A Chinese warning for the course's and the city's screens, or None when all is well."""
        if self.lost:
            return N_("复制槽 %(slot)s 所需的 WAL 已被删除：城市中心无法再追上这个考场，必须重新同步（见 docs/city-replication.md）。")
        if self.wal_status == "unreserved":
            return N_("复制槽 %(slot)s 保留的 WAL 已超出上限，下一次检查点就会删除：请尽快恢复与城市中心的连接。")
        if self.retained_bytes >= self.warn_bytes:
            return N_("复制槽 %(slot)s 为城市中心保留了 %(size)s 的 WAL（警戒值 %(limit)s）：与城市中心的连接已中断较久，"
                      "请检查网络并留意考场磁盘空间。")
        return None

    def warning_params(self) -> dict[str, str]:
        return {"slot": self.slot, "size": human_bytes(self.retained_bytes), "limit": human_bytes(self.warn_bytes)}

    @property
    def warning_text(self) -> str | None:
        """The warning as a Chinese sentence (the command line, the log); pages translate the msgid."""
        return None if self.warning is None else self.warning % self.warning_params()


def slot_states(course_db: Engine, warn_bytes: int = DEFAULT_WARN_BYTES) -> list[SlotState]:
    """Every logical slot at a course (the city's and any other), with its WAL and lag."""
    with course_db.connect() as connection:
        has_status = connection.execute(text(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'pg_replication_slots' "
            "AND column_name = 'wal_status'")).first() is not None
        extra = "s.wal_status, s.safe_wal_size" if has_status else "NULL, NULL"
        rows = connection.execute(text(
            "SELECT s.slot_name, s.active, "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn), 0)::bigint, "
            "coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), s.confirmed_flush_lsn), 0)::bigint, "
            f"{extra}, extract(epoch FROM r.replay_lag)::float8 "
            "FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON r.pid = s.active_pid "
            "WHERE s.slot_type = 'logical' ORDER BY s.slot_name")).all()
    return [SlotState(slot=row[0], active=bool(row[1]), retained_bytes=max(int(row[2]), 0),
                      behind_bytes=max(int(row[3]), 0), wal_status=row[4],
                      safe_wal_size=None if row[5] is None else int(row[5]), replay_lag_s=row[6],
                      warn_bytes=warn_bytes) for row in rows]


@dataclass(frozen=True)
class CourseLink:
    """One course's link as the city shows it."""

    course: str
    enabled: bool  # the subscription is enabled (a re-sync or an administrator may disable it)
    connected: bool  # the city's apply worker for this course is running and has heard from it
    last_contact: datetime | None  # when the course last spoke (kept across disconnections by LinkWatch)
    received_lsn: str | None
    slot: SlotState | None  # from the course, when the city could reach it; None otherwise
    newest_record: datetime | None = None  # the time of the course's newest journal row the city holds

    @property
    def behind_bytes(self) -> int | None:
        return None if self.slot is None else self.slot.behind_bytes

    @property
    def lag_s(self) -> float | None:
        """The city's replay lag behind the course in seconds: 0 when caught up, None when unknown."""
        if self.slot is None or not self.connected:
            return None
        # pg_stat_replication shows no replay lag once the city has applied everything and
        # nothing new came: that is a lag of zero.
        return self.slot.replay_lag_s or 0.0

    def silent_for(self, now: datetime) -> float | None:
        return None if self.last_contact is None else (now - self.last_contact).total_seconds()


def subscription_rows(city: Engine) -> dict[str, tuple[bool, bool, datetime | None, str | None]]:
    """Subscription name -> (enabled, worker running, last_msg_receipt_time, received_lsn)."""
    with city.connect() as connection:
        rows = connection.execute(text(
            "SELECT s.subname, s.subenabled, st.pid IS NOT NULL, st.last_msg_receipt_time, st.received_lsn::text "
            "FROM pg_subscription s LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL "
            "WHERE s.subname LIKE 'examroom\\_%'")).all()
    return {row[0]: (bool(row[1]), bool(row[2]), row[3], row[4]) for row in rows}


def newest_records(city: Engine, courses: list[str]) -> dict[str, datetime | None]:
    """Each course's newest journal row at the city (by id, so one index probe a course)."""
    with city.connect() as connection:
        return {course: connection.execute(text(
            "SELECT utc FROM journal WHERE course_key = :c ORDER BY id DESC LIMIT 1"), {"c": course}).scalar()
            for course in courses}


@dataclass
class LinkWatch:
    """The city's view of its courses' links, sampled on demand (the city console's refresh).

    ``courses`` maps each course code to an engine on the course's database as the city reaches
    it (``course_engine``: no pool, short timeouts), or None where the city has no such access:
    then only the city's own view (connected, last contact, newest record) is shown.
    ``state_file``: where the last contacts are kept between runs (a command run from cron
    remembers them as the console process does).
    """

    city: Engine
    courses: dict[str, Engine | None]
    warn_bytes: int = DEFAULT_WARN_BYTES
    state_file: Path | None = None
    _last_contact: dict[str, datetime] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.state_file is not None and Path(self.state_file).is_file():
            try:
                saved = json.loads(Path(self.state_file).read_text())
                self._last_contact = {course: datetime.fromisoformat(utc) for course, utc in saved.items()}
            except (ValueError, AttributeError):  # a damaged state file costs the remembered times, nothing else
                self._last_contact = {}

    def sample(self) -> list[CourseLink]:
        rows = subscription_rows(self.city)
        newest = newest_records(self.city, sorted(self.courses))
        links = []
        for course, engine in sorted(self.courses.items()):
            enabled, worker, receipt, received = rows.get(subscription_name(course), (False, False, None, None))
            if receipt is not None and (course not in self._last_contact or receipt > self._last_contact[course]):
                self._last_contact[course] = receipt
            links.append(CourseLink(course=course, enabled=enabled, connected=worker and receipt is not None,
                                    last_contact=self._last_contact.get(course), received_lsn=received,
                                    slot=self._course_slot(course, engine), newest_record=newest[course]))
        if self.state_file is not None:
            Path(self.state_file).write_text(json.dumps(
                {course: utc.isoformat() for course, utc in sorted(self._last_contact.items())}, indent=1) + "\n")
        return links

    def _course_slot(self, course: str, engine: Engine | None) -> SlotState | None:
        if engine is None:
            return None
        try:
            states = slot_states(engine, self.warn_bytes)
        except DBAPIError:  # the course is out of reach (the link is down): the city shows what it knows
            return None
        return next((state for state in states if state.slot == slot_name(course)), None)


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")

"""Logical replication between a course and the city: the course publishes, the city subscribes.

Each course's database has one publication, ``examroom_city``, of the tables that hold records:
the tables keyed by their course (``records.database.keyed_tables``; docs/city.md), so nine
courses' rows meet in the city's tables without a clash. The city's database is made by the
same migrations and holds one subscription per course, ``examroom_<course>``, whose
replication slot at the course is
``examroom_city_<course>``: the slot keeps every change the city has not yet confirmed, so a
course examines with its link down and the city catches up when it is back, each change once.

Video, users, their sign-ins, the course's own identity (``course_identity``: empty at the city,
which is how the app knows it is the city) and its settings stay at the course. TRUNCATE is not
published: no course can empty the city's tables.

Re-sync (``resync``) is the recovery when a course's slot was lost (its WAL outgrew
``max_slot_wal_keep_size`` during a long outage) or the city's copy is in doubt: the city drops
that course's subscription and its rows, and subscribes again with a fresh copy of the tables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Engine, text

from examroom.city.errors import CityError
from examroom.messages import N_
from examroom.records.database import claim_course, database_course, keyed_tables, replicated_columns, upgrade
from examroom.records.database import prepare_city as make_city_schema

PUBLICATION = "examroom_city"
# Inserts, updates and deletes; never TRUNCATE (a course must not be able to empty the city).
PUBLISH = "insert, update, delete"
_CODE = re.compile(r"[A-Za-z0-9_]{1,40}")
# The city's verification pass (city/verification.py) holds this PostgreSQL advisory lock while it
# runs; a re-sync holds it too, so no pass reads a course's rows while they are dropped and copied
# again (it would take the gap for removed seals, and keep that as evidence).
CITY_RECORDS_LOCK = 0x6578_7672


def subscription_name(course: str) -> str:
    return f"examroom_{_checked(course).lower()}"


def slot_name(course: str) -> str:
    return f"examroom_city_{_checked(course).lower()}"


def _checked(course: str) -> str:
    if not _CODE.fullmatch(course or ""):
        raise CityError(N_("考场代码 %(course)s 不能用作复制名称：只能由字母、数字和下划线组成，最长 40 个字符。"),
                        course=course)
    return course


def _autocommit(engine: Engine):
    # CREATE/DROP SUBSCRIPTION with a slot cannot run inside a transaction block.
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def _require_postgresql(engine: Engine, at_city: bool) -> None:
    if engine.dialect.name == "postgresql":
        return
    if at_city:
        raise CityError(N_("城市中心的数据库必须是 PostgreSQL（现在是 %(backend)s）。"), backend=engine.dialect.name)
    raise CityError(N_("考场的数据库必须是 PostgreSQL 才能向城市中心复制（现在是 %(backend)s）：请先用 examroom db move-to 迁移。"),
                    backend=engine.dialect.name)


def prepare_course(course_db: Engine, course: str) -> tuple[str, ...]:
    """A course's PostgreSQL database ready to publish: migrated, named by its code, published."""
    _require_postgresql(course_db, at_city=False)
    upgrade(course_db, _checked(course))
    claim_course(course_db, course)
    return publish(course_db)


def prepare_city(city: Engine) -> None:
    """The city's database: the courses' schema (the same migrations) and no course of its own
    (``records.database.prepare_city``), after checking it holds no course's records.
    """
    _require_postgresql(city, at_city=True)
    upgrade(city)
    if database_course(city) is not None:
        with city.connect() as connection:
            rows = sum(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one()
                       for table in keyed_tables())
        if rows:
            raise CityError(N_("这个数据库已有 %(rows)s 行考场记录，不能用作城市中心的汇总库：请新建一个空数据库。"),
                            rows=rows)
    make_city_schema(city)


def publish(course: Engine) -> tuple[str, ...]:
    """Make (or bring up to date) the course's publication; returns the tables it publishes.

    Run after the course's migrations: a table a newer migration added is published from then on.
    """
    _require_postgresql(course, at_city=False)
    with _autocommit(course) as connection:
        if connection.exec_driver_sql("SHOW wal_level").scalar() != "logical":
            raise CityError(N_("考场数据库的 wal_level 不是 logical，无法向城市中心复制：请在 postgresql.conf 中设置 "
                               "wal_level = logical 并重启数据库。"))
        standbys = connection.exec_driver_sql("SHOW synchronous_standby_names").scalar() or ""
        if standbys.strip() and ("*" in standbys or "examroom" in standbys.lower()):
            # A synchronous standby makes every commit wait for it: with the link down the course
            # would stop examining. The city must only ever be an asynchronous subscriber.
            raise CityError(N_("考场数据库的 synchronous_standby_names（%(names)s）会让每次提交等待城市中心，断网时考场将无法考试："
                               "请从中去掉城市中心的订阅。"), names=standbys)
        present = set(connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())
        tables = tuple(table for table in keyed_tables() if table in present)
        listed = ", ".join(_published(table) for table in tables)
        exists = connection.execute(text("SELECT 1 FROM pg_publication WHERE pubname = :name"),
                                    {"name": PUBLICATION}).first()
        if exists:
            connection.exec_driver_sql(f"ALTER PUBLICATION {PUBLICATION} SET TABLE {listed}")
            connection.exec_driver_sql(f"ALTER PUBLICATION {PUBLICATION} SET (publish = '{PUBLISH}')")
        else:
            connection.exec_driver_sql(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {listed} "
                                       f"WITH (publish = '{PUBLISH}')")
    return tables


def _published(table: str) -> str:
    """A table of the publication, with a column list where personal data stays at the course."""
    columns = replicated_columns(table)
    if columns is None:
        return f'public."{table}"'
    return f'public."{table}" (' + ", ".join(f'"{c}"' for c in columns) + ")"


def subscribe(city: Engine, course: str, conninfo: str, *, copy_data: bool = True) -> str:
    """Subscribe the city to a course's publication; returns the subscription's name.

    ``conninfo`` is how the city reaches the course (libpq form, ``Cluster.conninfo``). Creating
    the subscription creates the slot at the course, so the course must be reachable now; from
    then on the link may come and go. ``copy_data``: first copy the tables as they are (a new
    course, a re-sync); False when the city already holds exactly the course's rows.
    """
    _require_postgresql(city, at_city=True)
    name, slot = subscription_name(course), slot_name(course)
    with _autocommit(city) as connection:
        if connection.execute(text("SELECT 1 FROM pg_subscription WHERE subname = :n"), {"n": name}).first():
            raise CityError(N_("城市中心已经订阅了考场 %(course)s。"), course=course)
        try:
            # A utility statement takes no bound parameters: the string is quoted as a literal.
            connection.exec_driver_sql(
                f"CREATE SUBSCRIPTION {name} CONNECTION {_literal(conninfo)} PUBLICATION {PUBLICATION} "
                f"WITH (slot_name = '{slot}', copy_data = {'true' if copy_data else 'false'})")
        except Exception as exc:  # psycopg's OperationalError/ObjectNotInPrerequisiteState, via SQLAlchemy
            raise CityError(N_("城市中心没能订阅考场 %(course)s：%(detail)s"), course=course,
                            detail=str(getattr(exc, "orig", exc)).strip().splitlines()[0]) from exc
    return name


def reconnect(city: Engine, course: str, conninfo: str) -> None:
    """Point the city's subscription to a course at a new address (the course moved, a new relay)."""
    with _autocommit(city) as connection:
        connection.exec_driver_sql(f"ALTER SUBSCRIPTION {subscription_name(course)} CONNECTION {_literal(conninfo)}")


def _literal(value: str) -> str:
    if "\\" in value or "\0" in value:
        raise ValueError("a connection string with a backslash or NUL is not accepted")
    return "'" + value.replace("'", "''") + "'"


def subscribed_courses(city: Engine) -> list[str]:
    """The courses the city subscribes to (by subscription name), sorted."""
    with city.connect() as connection:
        names = connection.execute(text(
            "SELECT subname FROM pg_subscription WHERE subname LIKE 'examroom\\_%' ORDER BY subname")).scalars()
        return [name.removeprefix("examroom_") for name in names]


def unsubscribe(city: Engine, course: str, *, course_reachable: bool = True) -> None:
    """Drop the city's subscription to a course.

    With the course reachable, its slot is dropped too. A course that cannot be reached keeps
    its slot (which then holds back WAL there): drop it at the course with
    ``drop_slot(course_engine, course)`` once the course is back.
    """
    name = subscription_name(course)
    with _autocommit(city) as connection:
        if not connection.execute(text("SELECT 1 FROM pg_subscription WHERE subname = :n"), {"n": name}).first():
            return
        connection.exec_driver_sql(f"ALTER SUBSCRIPTION {name} DISABLE")
        if not course_reachable:
            connection.exec_driver_sql(f"ALTER SUBSCRIPTION {name} SET (slot_name = NONE)")
        connection.exec_driver_sql(f"DROP SUBSCRIPTION {name}")


def drop_slot(course_db: Engine, course: str) -> bool:
    """Drop the city's slot at a course (after a re-sync done while the course was away)."""
    with _autocommit(course_db) as connection:
        dropped = connection.execute(text(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            "WHERE slot_name = :slot AND NOT active"), {"slot": slot_name(course)}).first()
        return dropped is not None


def resync(city: Engine, course: str, conninfo: str) -> None:
    """Start the city's copy of one course again: drop its subscription and rows, copy afresh.

    The recovery when a course's slot was lost (``wal_status = 'lost'``: its WAL outgrew
    ``max_slot_wal_keep_size`` while the link was down) or the city's copy is in doubt. The
    course must be reachable. The course's rows at the city are those keyed by its code; the
    other courses' rows and subscriptions are not touched.
    """
    with city.connect() as lock:
        # Until the new subscription exists (and shows its tables still copying), no verification pass runs.
        lock.execute(text("SELECT pg_advisory_lock(:k)"), {"k": CITY_RECORDS_LOCK})
        lock.commit()
        try:
            unsubscribe(city, course, course_reachable=True)
            with city.begin() as connection:
                # The city's copies are replicas: the append-only and sealed-record triggers guard the
                # course's writes, not a re-copy, so they are set aside here as the apply worker does.
                connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
                for table in reversed(keyed_tables()):
                    connection.execute(text(f'DELETE FROM "{table}" WHERE course_key = :code'), {"code": course})
            subscribe(city, course, conninfo, copy_data=True)
        finally:
            lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": CITY_RECORDS_LOCK})
            lock.commit()


@dataclass(frozen=True)
class SyncState:
    """Whether the initial copy of every table of a subscription is done (state 'r', ready)."""

    course: str
    tables: int
    ready: int

    @property
    def done(self) -> bool:
        return self.tables > 0 and self.tables == self.ready


def sync_state(city: Engine, course: str) -> SyncState:
    with city.connect() as connection:
        row = connection.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE r.srsubstate = 'r') FROM pg_subscription_rel r "
            "JOIN pg_subscription s ON s.oid = r.srsubid WHERE s.subname = :n"),
            {"n": subscription_name(course)}).one()
    return SyncState(course, row[0], row[1])

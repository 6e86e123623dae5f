"""Engine, sessions and migrations.

The database URL is a setting: SQLite (WAL) by default, PostgreSQL for a city
centre. The schema is created and upgraded only by Alembic.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker, with_loader_criteria

from examroom.messages import N_, SupervisorError
from examroom.records.database_url import database_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(str(files("examroom.records") / "migrations"))  # package data; alembic wants a folder
# The newest migration's revision. A process that finds its database there has nothing to migrate
# and need not import Alembic to learn so (tests/examroom/records/test_migration_order.py holds
# this to Alembic's own head: a new migration fails that test until it is named here).
SCHEMA_HEAD = "0018_city_evidence_verification"


def make_engine(url: str, existing: bool = False) -> Engine:
    """An engine for a checked URL (:func:`database_url`); raises DatabaseURLError with one line."""
    checked = database_url(url, existing)
    if checked.get_backend_name() == "sqlite":
        engine = create_engine(checked, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(checked, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the web pages read while the controller writes; NORMAL keeps a
    # commit durable against a process crash (not a power cut) at ~3k commits/s.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(url: str) -> Config:
    # Alembic (with Mako and Pygments, 11 MB private in a bare interpreter) is imported only by
    # who migrates: the controller once at its start, the db commands. The web worker opens the
    # database through this module too and never migrates.
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def schema_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at (Alembic's ``alembic_version``); None before the first."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, course_code: str = "") -> None:
    """Bring the schema to the newest migration.

    ``course_code``: the course's 考场代码 (the site file's), given to the rows that exist when the
    migration adding the course to every key runs (0013); a database already past it keeps its own.
    """
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["course_code"] = course_code
        command.upgrade(config, "head")


class CourseSession(Session):
    """A session of one course's database, or (``info["course_code"]`` None) of the city's.

    A keyed row's identity is (course_key, id) (docs/city.md). At a course a bare id means this
    course's row, so ``get(Attempt, 17)`` works as it always did; at the city it is refused (name
    the course: ``get(Attempt, ("4201001", 17))``). New keyed rows get the session's code when they
    name none (``before_flush`` below).
    """

    def get(self, entity, ident, **kwargs):
        if not isinstance(ident, (tuple, list, dict)) and _keyed(entity):
            ident = (self._course_code(), ident)
        return super().get(entity, ident, **kwargs)

    def _course_code(self) -> str:
        code = self.info.get("course_code")
        if code is None:
            raise ValueError("this database holds several courses' records (the city): name the course "
                             "of the row, e.g. (course_key, id)")
        return code


@lru_cache(maxsize=None)
def _keyed(entity) -> bool:
    mapper = inspect(entity, raiseerr=False)
    return mapper is not None and any(c.key == "course_key" for c in mapper.primary_key)


@event.listens_for(CourseSession, "do_orm_execute")
def _only_the_course(execute_state) -> None:
    """A course's view of a database holding several courses (the city's: ``session_factory(city,
    code)``) sees only that course's rows, in every ORM query. A course's own database holds only
    its rows, so its sessions need (and pay for) no such filter."""
    from examroom.records.models import CourseKeyed

    info = execute_state.session.info
    code = info.get("course_code")
    if info.get("course_view") and not execute_state.is_column_load and not execute_state.is_relationship_load:
        execute_state.statement = execute_state.statement.options(
            with_loader_criteria(CourseKeyed, lambda cls: cls.course_key == code, include_aliases=True))


@event.listens_for(CourseSession, "before_flush")
def _name_the_course(session: CourseSession, _context, _instances) -> None:
    for row in session.new:
        if getattr(row, "course_key", "") is None and _keyed(type(row)):
            row.course_key = session._course_code()


def prepare_city(engine: Engine) -> None:
    """Make ``engine``'s database a city's: the courses' schema, and no course of its own.

    Courses' rows arrive there keyed by their course (logical replication, or
    ``records.copying``); with no ``course_identity`` row, sessions refuse a bare id.
    """
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM course_identity"))


def database_course(engine: Engine) -> str | None:
    """This database's course code (course_identity), '' for a course without one, None at the city."""
    from examroom.records.models import CourseIdentity

    with Session(engine) as session:
        try:
            return session.scalar(select(CourseIdentity.code))
        except DBAPIError:  # not migrated yet: nothing of any course in it
            return ""


_FROM_DATABASE = object()


def session_factory(engine: Engine, course_code=_FROM_DATABASE) -> sessionmaker[Session]:
    """Sessions of the database's course (read from it), or of the course given (None: every course,
    at the city); a course other than the database's own is a view that filters every query."""
    own = database_course(engine)
    code = own if course_code is _FROM_DATABASE else course_code
    return sessionmaker(engine, class_=CourseSession, expire_on_commit=False,
                        info={"course_code": code, "course_view": code is not None and code != own})


class CourseCodeError(SupervisorError, ValueError):
    """A database that belongs to another course (or to the city) than the site file says."""


def keyed_tables() -> list[str]:
    """The replicated tables (each row keyed by its course), parents before children."""
    from examroom.records.models import Base

    return [table.name for table in Base.metadata.sorted_tables if "course_key" in table.c]


# Personal data that never leaves the course (个人信息保护法; docs/faces.md): pictures and face
# descriptors of replicated rows. The city gets every other column; sealed records name these by
# their stored digests (seal payload versions 4 and 5), so the city still verifies them.
COURSE_ONLY_COLUMNS = {
    "bookings": ("photo", "reference_photo", "face_descriptor"),
    "identity_checks": ("picture",),
}


def replicated_columns(table: str) -> list[str] | None:
    """The columns of a replicated table the city receives; None: all of them."""
    from examroom.records.models import Base

    kept = COURSE_ONLY_COLUMNS.get(table)
    if kept is None:
        return None
    return [column.name for column in Base.metadata.tables[table].columns if column.name not in kept]


def claim_course(engine: Engine, course_code: str) -> None:
    """Make ``course_code`` this database's course, once (docs/city.md).

    A database made before its course had a code holds '' in every key: its rows are re-keyed to
    the code. That changes nothing hashed or signed (a course without a code seals version 2 and
    names journal rows by number). A database of another course, or the city's, is refused.
    The triggers that keep sealed rows frozen are set aside for this one UPDATE of the course column.
    """
    if not course_code:
        return
    stored = database_course(engine)
    if stored == course_code:
        return
    if stored is None:
        raise CourseCodeError(N_("这个数据库是市级汇总库（没有本考场的考场代码），不能用作考场 %(code)s 的数据库"),
                              code=course_code)
    if stored:
        raise CourseCodeError(N_("这个数据库属于考场 %(stored)s，站点文件写的考场代码是 %(code)s；"
                                 "考场代码写进封存后不能更改"), stored=stored, code=course_code)
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            # The append-only and sealed-attempt triggers refuse any UPDATE of these rows; the
            # re-key touches only the course column, so they are set aside and made again as stored.
            triggers = connection.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").all()
            for name, _ in triggers:
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
            for table in keyed_tables():
                connection.execute(text(f"UPDATE {table} SET course_key = :code WHERE course_key = ''"),
                                   {"code": course_code})
            for _, sql in triggers:
                connection.exec_driver_sql(sql)
        else:
            # Replica mode fires neither the triggers nor the foreign-key checks, so parents and
            # children change their course in one transaction (it needs a role allowed to set it).
            try:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            except DBAPIError as exc:
                raise CourseCodeError(N_("这个 PostgreSQL 数据库的记录还没有考场代码，补上考场代码 %(code)s 需要能设置 "
                                         "session_replication_role 的数据库账号（如超级用户）：%(reason)s"),
                                      code=course_code, reason=str(exc.orig).strip().splitlines()[0]) from None
            for table in keyed_tables():
                connection.execute(text(f"UPDATE {table} SET course_key = :code WHERE course_key = ''"),
                                   {"code": course_code})
        connection.execute(text("UPDATE course_identity SET code = :code"), {"code": course_code})

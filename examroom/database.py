"""Engine, sessions and migrations.

The database URL is a setting: SQLite (WAL) by default, PostgreSQL for a city
centre. The schema is created and upgraded only by Alembic.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
# The databases examroom runs on, and the driver each is reached through (both installed with it).
SUPPORTED = {"sqlite": "pysqlite", "postgresql": "psycopg"}
_FORMS = "sqlite:///FILE (SQLite) or postgresql+psycopg://USER:PASSWORD@HOST/NAME (PostgreSQL)"


class DatabaseURLError(ValueError):
    """A database URL examroom cannot use; the message is one line naming the URL and why."""


def database_url(text: str, existing: bool = False, folder: bool = True) -> URL:
    """The URL checked: a supported database and driver, and for SQLite a folder that exists.

    ``existing``: the command only reads (re-judge, verify, slip, replay), so a SQLite file that
    is not there is an error rather than a new, empty database. ``folder=False`` checks the form
    only (a site file read on another machine than the course's).
    """
    try:
        url = make_url(text)
    except ArgumentError:
        raise DatabaseURLError(f"database URL {text!r} is not a URL; expected {_FORMS}") from None
    shown = url.render_as_string(hide_password=True)
    backend, driver = url.get_backend_name(), url.drivername.partition("+")[2]
    if backend not in SUPPORTED:
        raise DatabaseURLError(f"database URL {shown}: {backend} is not supported; expected {_FORMS}")
    if "+" not in url.drivername and backend == "postgresql":
        url = url.set(drivername="postgresql+psycopg")  # SQLAlchemy's default driver (psycopg2) is not installed
    elif driver not in ("", SUPPORTED[backend]):
        raise DatabaseURLError(f"database URL {shown}: driver {driver} is not supported; expected {_FORMS}")
    if folder and backend == "sqlite" and url.database not in (None, "", ":memory:") and not url.query.get("uri"):
        path = Path(url.database)
        if not path.resolve().parent.is_dir():
            raise DatabaseURLError(f"database URL {shown}: the folder {path.resolve().parent} does not exist")
        if existing and not path.is_file():
            raise DatabaseURLError(f"database URL {shown}: there is no database file {path.resolve()}")
    return url


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
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

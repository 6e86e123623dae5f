"""Engine, sessions and migrations.

The database URL is a setting: SQLite (WAL) by default, PostgreSQL for a city
centre. The schema is created and upgraded only by Alembic.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from examroom.records.database_url import database_url

MIGRATIONS = Path(str(files("examroom.records") / "migrations"))  # package data; alembic wants a folder


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

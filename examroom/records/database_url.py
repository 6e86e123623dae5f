"""Which databases a course can use, and a one-line reason when a URL names one it cannot.

The site file checks its URL with it too: it needs SQLAlchemy's URL parser only, not an engine.
"""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

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

"""The controller's schema upgrade, run in a child process.

Alembic (with Mako and Pygments) and the migration scripts it runs leave about
14 MB in the process that migrates: measured in an interpreter that had the
controller's imports already, 13.5 MB of private memory after upgrading a new
database, 14.2 after a second, no-op upgrade. The controller migrates once, at
its start, and then runs for days, so it hands the upgrade to
``python -m examroom.records.schema_process`` (about 0.8 s) and never imports
Alembic itself. A database already at the newest migration (every start but the
first after an update) needs no child: its ``alembic_version`` says so. An SQLite
database in memory lives in the process that opened it: that one is upgraded in place.
"""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from examroom.records.database import SCHEMA_HEAD, make_engine, schema_revision, upgrade
from scoring import config_files

# The URL goes to the child in its environment: on the command line ``ps`` would show a
# PostgreSQL password to every user of the machine.
DATABASE_ENV = "EXAMROOM_UPGRADE_DATABASE"
COURSE_ENV = "EXAMROOM_UPGRADE_COURSE"


class SchemaUpgradeFailed(RuntimeError):
    """The child could not bring the schema to the newest migration."""


def upgrade_apart(engine: Engine, course_code: str = "") -> None:
    """:func:`examroom.records.database.upgrade`, in a child process unless the database is in memory."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:"):
        upgrade(engine, course_code)
        return
    if _at_head(engine):
        return
    path = os.pathsep.join(p for p in (str(config_files.code_root()), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, DATABASE_ENV: engine.url.render_as_string(hide_password=False), COURSE_ENV: course_code,
           "PYTHONPATH": path}
    done = subprocess.run([sys.executable, "-m", __name__], env=env, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise SchemaUpgradeFailed("the database schema could not be upgraded:\n" + done.stderr.strip()[-2000:])


def _at_head(engine: Engine) -> bool:
    try:
        return schema_revision(engine) == SCHEMA_HEAD
    except DBAPIError:  # not a database, or not ours: the child's upgrade says why, in its words
        return False


def main() -> None:
    engine = make_engine(os.environ[DATABASE_ENV])
    try:
        upgrade(engine, os.environ.get(COURSE_ENV, ""))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

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

import logging
import os
import subprocess
import sys
import traceback

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from examroom.messages import N_, SupervisorError
from examroom.records.database import SCHEMA_HEAD, make_engine, schema_revision, upgrade
from scoring import config_files

log = logging.getLogger(__name__)

# The URL goes to the child in its environment: on the command line ``ps`` would show a
# PostgreSQL password to every user of the machine.
DATABASE_ENV = "EXAMROOM_UPGRADE_DATABASE"
COURSE_ENV = "EXAMROOM_UPGRADE_COURSE"


class SchemaUpgradeFailed(SupervisorError):
    """The child could not bring the schema to the newest migration (its reason: ``detail``)."""


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
        # The child's whole trace goes to the log; the supervisor reads its last line, the reason.
        log.error("schema upgrade child exited with %s:\n%s", done.returncode, done.stderr.strip()[-4000:])
        lines = done.stderr.strip().splitlines()
        raise SchemaUpgradeFailed(N_("数据库结构没能升级到本程序的版本，考场没有启动：%(detail)s"),
                                  detail=lines[-1] if lines else f"exit status {done.returncode}")


def _at_head(engine: Engine) -> bool:
    try:
        return schema_revision(engine) == SCHEMA_HEAD
    except DBAPIError:  # not a database, or not ours: the child's upgrade says why, in its words
        return False


def main() -> None:
    engine = make_engine(os.environ[DATABASE_ENV])
    try:
        upgrade(engine, os.environ.get(COURSE_ENV, ""))
    except Exception as exc:
        traceback.print_exc()
        # The last line is the reason the parent shows: the driver's own words where there are
        # some (SQLAlchemy's wrapper adds a line of its own after them).
        words = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        print(f"{type(exc).__name__}: {words[0] if words else ''}", file=sys.stderr)
        sys.exit(1)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()

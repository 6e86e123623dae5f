"""Shared fixtures: a migrated database (SQLite by default, PostgreSQL where asked)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import jinja2
import pytest
from flask import Flask
from hypothesis import settings

import examroom.accounts.users
from examroom.records.database import make_engine, session_factory, upgrade
from examroom.records.attempt_log import Records
from tests.process_tree import descendants

# A test owns its clock and its dice: property tests draw the same examples on every run, so a
# run's outcome never depends on luck. HYPOTHESIS_PROFILE=explore draws new ones (and keeps what
# failed in .hypothesis/) when looking for trouble.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

# Cheap argon2 in the test process only (a real hash costs ~0.14 s and the suite makes hundreds);
# the servers the tests start as child processes keep the real parameters.
examroom.accounts.users.HASH_PARAMETERS.update(time_cost=1, memory_cost=1024, parallelism=1)

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per test process, not once per app.

    A web test makes an app of its own, and every app a Jinja environment that compiled each page
    again (about an eighth of the web tests' CPU). Every app here comes from one factory with one
    Jinja configuration, so their compiled code is the same. The stored code carries its
    template's source checksum, and Jinja compiles anew when it differs (an edited template).
    In memory, not Jinja's ``FileSystemBytecodeCache``: a folder that outlived the session would
    serve code compiled under another configuration. A course's web process makes one app and
    keeps Jinja's own per-app cache.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)  # resets the bucket if the checksum differs

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


Flask.jinja_options = {**Flask.jinja_options, "bytecode_cache": CompiledTemplates()}


# Tests that measure real time (pseudo-terminals, child processes, recording cameras, replicating
# servers) run one after another on one pytest-xdist worker (``--dist loadgroup``), so they never
# compete with each other for the machine's cores; the rest, which own their clocks, share the
# other workers. A real-time test must still pass when the other worker is busy. A module in those
# folders that owns its clock (pure decoding, no port, process or thread) says so with
# ``pytestmark = pytest.mark.own_clock`` and runs beside the others; so does a slow test marked
# ``state_waits``: it waits only on its servers' own state (replication caught up, a link seen
# down), with time-outs of a minute and no time in its assertions, so a busy neighbour slows it
# and changes nothing.
REAL_TIME_FOLDERS = ("tests/devices/", "tests/examroom/video/")
REAL_TIME_MODULES = ("tests/web/test_cameras.py", "tests/web/test_replay_export.py",
                     "tests/web/test_replay_video.py", "tests/web/test_replay_player_browser.py")


def real_time(item: pytest.Item) -> bool:
    where = Path(item.path).relative_to(Path(__file__).parent.parent).as_posix()
    if item.get_closest_marker("own_clock") or item.get_closest_marker("state_waits"):
        return False
    return item.get_closest_marker("slow") is not None or where.startswith(REAL_TIME_FOLDERS) \
        or where in REAL_TIME_MODULES


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group into each test's id
def pytest_collection_modifyitems(config, items):
    for item in items:
        if real_time(item):
            item.add_marker(pytest.mark.xdist_group("real_time"))


# The real-time tests run at the machine's normal priority, the others below it (nice 10, with the
# processes and threads they started): on a worker that waits on a real-time test the cores go to
# the other workers, and when it needs them it gets them first, as a course's controller is ahead
# of its video exports. Lowering a nice value again needs root (CAP_SYS_NICE); without it nothing is
# reniced and the real-time tests share the cores as equals.
BATCH_NICE = 10


def _renice(nice: int) -> None:
    """Every thread of this process and of the processes below it to ``nice`` (Linux: per thread)."""
    for pid in [os.getpid(), *descendants(os.getpid())]:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                os.setpriority(os.PRIO_PROCESS, int(tid), nice)
            except (OSError, ValueError):
                pass  # ended meanwhile


_NICE = {"now": 0, "can_lower": hasattr(os, "setpriority") and os.geteuid() == 0}


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if os.environ.get("PYTEST_XDIST_WORKER") and _NICE["can_lower"]:
        wanted = 0 if real_time(item) else BATCH_NICE
        if wanted != _NICE["now"]:
            _renice(wanted)
            _NICE["now"] = wanted
    yield


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'examroom.sqlite3'}"


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """A SQLite file at the newest migration, made once per session (the migrations run once).

    Every database test starts from a copy of it (:func:`copy_migrated`); the migrations
    themselves are tested where they are the subject (test_sealing, test_face_review, ...).
    """
    path = tmp_path_factory.mktemp("migrated") / "examroom.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def copy_migrated(migrated_sqlite):
    """``copy_migrated(path)`` puts a migrated database at ``path`` and returns its URL."""
    def copy(path: Path) -> str:
        shutil.copyfile(migrated_sqlite, path)
        return f"sqlite:///{path}"
    return copy


@pytest.fixture
def engine(sqlite_url, copy_migrated):
    copy_migrated(Path(sqlite_url.removeprefix("sqlite:///")))
    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def records(engine) -> Records:
    return Records(session_factory(engine))


def create_test_database(conn, name: str, template: str | None = None) -> None:
    """CREATE DATABASE on the local server for a test, its commits not waiting for the disk.

    A commit waits until its WAL is flushed to disk: 3.3-3.9 ms on this machine's server, 0.2 ms
    with ``synchronous_commit = off``, and the database tests commit thousands of times. What that
    risks is the server's own crash (the last commits lost), which no test causes on this server;
    a controller killed mid-attempt (the crash drill) loses nothing either way, as the server
    holds what was committed. The clusters the city tests make with initdb keep the default.
    """
    conn.exec_driver_sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')


@pytest.fixture
def postgres_engine():
    """A fresh database on the local PostgreSQL server, dropped afterwards."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"examroom_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            create_test_database(conn, name)
    except sqlalchemy.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc.orig}")
    engine = make_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def migrated_postgres():
    """``migrated_postgres()``: the name of a database at the newest migration on the local
    PostgreSQL server, made on first use and once per session (per xdist worker), dropped at the
    end; the databases ``postgres_urls(n, migrated=True)`` makes are copies of it (CREATE DATABASE
    ... TEMPLATE: 0.1 s where running the migrations takes 0.7 s)."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def template() -> str:
        if not made:
            name = f"examroom_template_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                create_test_database(conn, name)
            made.append(name)
            engine = make_engine(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name)
            upgrade(engine)
            engine.dispose()  # a template is copied only while nobody is connected to it
        return made[0]

    yield template
    with admin.connect() as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def postgres_urls(migrated_postgres):
    """``postgres_urls(n)``: n fresh databases on the local PostgreSQL server (URLs), dropped
    afterwards; ``postgres_urls(n, migrated=True)``: at the newest migration already."""
    sqlalchemy = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    names = []

    def make(count: int, migrated: bool = False) -> list[str]:
        made = []
        for _ in range(count):
            name = f"examroom_test_{uuid.uuid4().hex[:8]}"
            try:
                template = migrated_postgres() if migrated else None
                with admin.connect() as conn:
                    create_test_database(conn, name, template)
            except sqlalchemy.exc.OperationalError as exc:
                pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc.orig}")
            names.append(name)
            made.append(POSTGRES_URL.rsplit("/", 1)[0] + "/" + name)
        return made

    yield make
    with admin.connect() as conn:
        for name in names:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()

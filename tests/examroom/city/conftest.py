"""Real PostgreSQL clusters for the city tests: made with initdb in a temporary folder, stopped
and removed by the fixture's finalizer whatever the test did. Skipped where the machine has no
PostgreSQL server programs (the skip says why)."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import pytest

from examroom.city.clusters import Cluster, find_binaries
from examroom.city.errors import CityError
from examroom.records.database import make_engine, upgrade
from tests.examroom.city.city_records import city_engine
from tests.waiting import wait_for

# Replication between real servers takes seconds, not the device tests' milliseconds.
wait_until = functools.partial(wait_for, timeout=60.0, interval=0.02)


@pytest.fixture
def pg_binaries() -> Path:
    try:
        return find_binaries()
    except CityError as exc:
        pytest.skip(f"no PostgreSQL server programs on this machine: {exc}")


@pytest.fixture
def cluster_folder():
    """A folder the PostgreSQL account can reach (pytest's tmp_path is private to root), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="er-city-", dir="/tmp"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster_template():
    """``cluster_template(binaries)``: a throwaway cluster made once per test process and never
    started, whose data folder the test clusters copy instead of running initdb each."""
    folder = Path(tempfile.mkdtemp(prefix="er-template-", dir="/tmp"))
    folder.chmod(0o755)
    made: dict[Path, Cluster] = {}

    def template(binaries: Path) -> Cluster:
        if binaries not in made:
            made[binaries] = Cluster.make(folder / f"template{len(made)}", durable=False, binaries=binaries)
        return made[binaries]

    yield template
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def clusters(pg_binaries, cluster_folder, cluster_template):
    """``clusters(name, **make_options)``: a started throwaway cluster (no fsync), copied from the
    session's template; all stopped after."""
    made: list[Cluster] = []
    engines = []

    def make(name: str, **options) -> Cluster:
        options.setdefault("durable", False)
        if not options["durable"]:
            options["template"] = cluster_template(pg_binaries)
        cluster = Cluster.make(cluster_folder / name, binaries=pg_binaries, **options)
        made.append(cluster)
        return cluster.start()

    make.engines = engines  # engines to dispose before the servers stop
    yield make
    for engine in engines:
        engine.dispose()
    for cluster in reversed(made):
        cluster.stop()
    assert not any(cluster.running() for cluster in made)


@pytest.fixture
def migrated(clusters):
    """``migrated(cluster)``: the cluster's examroom database, made and migrated; its engine."""
    def make(cluster: Cluster, host: str | None = None):
        cluster.create_database()
        engine = make_engine(cluster.url(host=host))
        clusters.engines.append(engine)
        upgrade(engine)
        return engine
    return make


def row_sets(engine, course: str) -> dict[str, list[str]]:
    """Every replicated table's rows of one course, each row as PostgreSQL's text of it, sorted:
    two databases hold the same records exactly when these are equal (nothing lost, nothing twice)."""
    from sqlalchemy import text

    from examroom.records.database import keyed_tables, replicated_columns

    def row(table: str) -> str:  # the columns the city receives (personal data stays at the course)
        columns = replicated_columns(table)
        return "t::text" if columns is None else "ROW(" + ", ".join(f't."{c}"' for c in columns) + ")::text"

    with engine.connect() as connection:
        return {table: list(connection.execute(text(
            f'SELECT {row(table)} FROM "{table}" t WHERE course_key = :c ORDER BY 1'), {"c": course}).scalars())
            for table in keyed_tables()}


def counts(sets: dict[str, list[str]]) -> dict[str, int]:
    return {table: len(rows) for table, rows in sets.items() if rows}


@pytest.fixture
def city(postgres_urls):
    """A city's database on the local PostgreSQL server: the courses' schema, no course of its own."""
    (url,) = postgres_urls(1, migrated=True)
    engine = city_engine(url)
    yield engine
    engine.dispose()

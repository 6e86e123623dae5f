"""The migration files are named in the order alembic runs them, each named after its revision."""
from alembic.script import ScriptDirectory

from examroom.records.database import MIGRATIONS, SCHEMA_HEAD, alembic_config


def test_migration_files_are_numbered_in_the_order_they_run():
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    chain = list(reversed(list(scripts.walk_revisions())))  # base first
    files = [revision.path.rsplit("/", 1)[-1].removesuffix(".py") for revision in chain]
    assert files == sorted(p.stem for p in (MIGRATIONS / "versions").glob("0*.py"))
    assert [f[:4] for f in files] == [f"{n:04d}" for n in range(1, len(files) + 1)]
    assert all(f.startswith(revision.revision) for f, revision in zip(files, chain))


def test_the_newest_migration_is_named_where_a_start_looks_for_it():
    assert SCHEMA_HEAD == ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()

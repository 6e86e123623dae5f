"""The controller's schema upgrade in a child process."""

from __future__ import annotations

import subprocess

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from examroom.records.database import alembic_config, make_engine
from examroom.records.schema_process import SchemaUpgradeFailed, upgrade_apart


def test_the_child_brings_a_new_database_to_the_newest_migration(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'course.sqlite3'}")
    upgrade_apart(engine, "4201001")
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head
    upgrade_apart(engine, "4201001")  # at the newest already: nothing to do, no error


def test_a_database_at_the_newest_migration_starts_no_child(tmp_path, monkeypatch):
    engine = make_engine(f"sqlite:///{tmp_path / 'course.sqlite3'}")
    upgrade_apart(engine, "4201001")
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a) or subprocess.CompletedProcess(a, 0))
    upgrade_apart(engine, "4201001")
    assert started == []

    behind = make_engine(f"sqlite:///{tmp_path / 'behind.sqlite3'}")  # one migration behind: a child
    config = alembic_config(str(behind.url))
    with behind.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0017_evidence_seals")
    upgrade_apart(behind, "4201001")
    assert len(started) == 1


def test_a_database_the_child_cannot_upgrade_fails_the_start_with_its_reason(tmp_path):
    path = tmp_path / "course.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(SchemaUpgradeFailed, match="file is not a database") as failed:
        upgrade_apart(make_engine(f"sqlite:///{path}"))
    # A supervisor's message (examroom.messages): Chinese, with the child's last line as the reason.
    assert str(failed.value).startswith("数据库结构没能升级") and "\n" not in str(failed.value)
    assert failed.value.params["detail"].endswith("file is not a database")


def test_the_serve_command_names_a_failed_upgrade_in_one_line(tmp_path, capsys):
    from examroom.cli.main import _failed

    path = tmp_path / "course.sqlite3"
    path.write_bytes(b"not a database" * 100)
    try:
        upgrade_apart(make_engine(f"sqlite:///{path}"))
    except SchemaUpgradeFailed as exc:
        assert _failed("serve", exc) == 2
    err = capsys.readouterr().err
    assert err.startswith("examroom serve: 数据库结构没能升级") and err.count("\n") == 1


def test_a_database_in_memory_is_upgraded_in_this_process():
    engine = make_engine("sqlite://")
    upgrade_apart(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1

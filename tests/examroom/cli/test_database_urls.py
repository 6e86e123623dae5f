"""A database URL examroom cannot use is one clear line: no ModuleNotFoundError, no new empty file."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
import tomli_w

from examroom.cli import main as cli
from examroom.records.database import make_engine
from examroom.records.database_url import DatabaseURLError, database_url
from examroom.site.settings import SettingsError, load_settings
from tests.examroom.site.test_settings import GOOD

# Every command that takes --database, with the rest of its arguments.
COMMANDS = {
    "rejudge": ["rejudge", "1"],
    "users": ["users", "add", "wang", "--role", "supervisor"],
    "verify": ["verify", "--all"],
    "sitting": ["sitting", "list"],
    "roster": ["roster", "bookings.csv"],
    "slip": ["slip", "1", "--out", "slip.pdf"],
    "export": ["export", "S1", "--out", "out"],
}
READ_ONLY = ("rejudge", "verify", "slip", "export")


def _run(capsys, monkeypatch, tmp_path, command: str, url: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-enough-password-1\n"))
    (tmp_path / "bookings.csv").write_text("", encoding="utf-8")
    code = cli.main([*COMMANDS[command], "--database", url])
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err and err.count("\n") == 1, err
    return code, err


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("url,words", [
    ("mysql://exam:secret@db.example/examroom", ["mysql is not supported", "sqlite:///FILE", "postgresql+psycopg"]),
    ("mysql+pymysql://exam@db/examroom", ["mysql is not supported"]),
    ("postgres://exam@db/examroom", ["postgres is not supported"]),
    ("sqlite+pysqlcipher:///x.db", ["driver pysqlcipher is not supported"]),
    ("not a url", ["is not a URL"]),
], ids=["mysql", "mysql_driver", "postgres_alias", "sqlite_other_driver", "garbage"])
def test_an_unsupported_database_is_one_line(capsys, monkeypatch, tmp_path, command, url, words):
    code, err = _run(capsys, monkeypatch, tmp_path, command, url)
    assert code == 2 and err.startswith(f"examroom {command}: database URL ")
    for word in words:
        assert word in err
    assert "secret" not in err  # the password is not printed


@pytest.mark.parametrize("command", COMMANDS)
def test_a_sqlite_file_in_a_missing_folder_is_one_line_and_makes_nothing(capsys, monkeypatch, tmp_path, command):
    missing = tmp_path / "no" / "such" / "folder"
    code, err = _run(capsys, monkeypatch, tmp_path, command, f"sqlite:///{missing}/examroom.sqlite3")
    assert code == 2 and f"the folder {missing} does not exist" in err
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", READ_ONLY)
def test_a_command_that_only_reads_makes_no_new_empty_file(capsys, monkeypatch, tmp_path, command):
    typo = tmp_path / "examrom.sqlite3"
    code, err = _run(capsys, monkeypatch, tmp_path, command, f"sqlite:///{typo}")
    assert code == 2 and f"there is no database file {typo}" in err
    assert not typo.exists()


def test_a_command_that_writes_still_creates_its_database(capsys, monkeypatch, tmp_path):
    code, err = (cli.main(["sitting", "list", "--database", f"sqlite:///{tmp_path / 'new.sqlite3'}"]),
                 capsys.readouterr().err)
    assert (code, err) == (0, "") and (tmp_path / "new.sqlite3").is_file()


def test_postgresql_without_a_driver_uses_the_installed_one():
    assert database_url("postgresql://exam@db/examroom").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://exam@db/examroom").drivername == "postgresql+psycopg"
    with pytest.raises(DatabaseURLError, match="driver psycopg2 is not supported"):
        make_engine("postgresql+psycopg2://exam@db/examroom")


@pytest.mark.parametrize("url,words", [
    ("mysql://exam@db/examroom", "database_url: database URL mysql://exam@db/examroom: mysql is not supported"),
    ("oracle://x", "oracle is not supported"),
])
def test_the_site_files_database_is_checked_when_the_file_is_read(tmp_path, url, words):
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps({**GOOD, "database_url": url}), encoding="utf-8")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(refused.value).startswith(f"{path}: database_url: ") and words in str(refused.value)


def test_a_site_files_sqlite_folder_is_checked_where_the_course_opens_it(tmp_path):
    # The site file may be checked on another machine; the folder must exist where it runs.
    path = tmp_path / "site.toml"
    path.write_text(tomli_w.dumps({**GOOD, "database_url": "sqlite:////nowhere/examroom.sqlite3"}), encoding="utf-8")
    settings = load_settings(path)
    with pytest.raises(DatabaseURLError, match="the folder /nowhere does not exist"):
        make_engine(settings.database_url)
    assert not Path("/nowhere").exists()


def test_the_web_process_refuses_an_unsupported_database_before_it_starts(tmp_path, capsys):
    from examroom_web.__main__ import main as web_main

    key = tmp_path / "key"
    key.write_text("k" * 32, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_:
        web_main(["--database-url", "mysql://exam@db/examroom", "--feed-url", "http://127.0.0.1:9/feed",
                  "--secret-key-file", str(key)])
    assert exit_.value.code == 2
    assert "database URL mysql://exam@db/examroom: mysql is not supported" in capsys.readouterr().err

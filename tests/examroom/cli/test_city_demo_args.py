"""``examroom demo --city N`` refuses what it cannot honour in one Chinese line (exit 2), before
any cluster, folder or process is made."""

from __future__ import annotations

import pytest

from examroom.cli.main import main


@pytest.mark.parametrize("count", ["0", "10", "-1"])
def test_a_course_count_out_of_range_is_refused(tmp_path, capsys, count):
    assert main(["demo", "--city", count, "--dir", str(tmp_path / "city")]) == 2
    err = capsys.readouterr().err
    assert f"--city 的考场数要在 1 到 9 之间（现在是 {count}）" in err
    assert not (tmp_path / "city").exists(), "nothing was made"


def test_city_with_a_database_is_refused(tmp_path, capsys):
    assert main(["demo", "--city", "2", "--dir", str(tmp_path / "city"),
                 "--database", "postgresql://postgres@127.0.0.1/nothing"]) == 2
    assert "不能同时给 --database" in capsys.readouterr().err
    assert not (tmp_path / "city").exists()


def test_city_with_a_course_code_is_refused(tmp_path, capsys):
    assert main(["demo", "--city", "2", "--dir", str(tmp_path / "city"), "--course-code", "4209999"]) == 2
    assert "不能同时给 --course-code" in capsys.readouterr().err


def test_city_without_postgresql_programs_says_how_to_install_them(tmp_path, capsys, monkeypatch):
    import examroom.city.clusters as clusters

    # The machine as one without PostgreSQL: a PATH without initdb, no distribution folders to search.
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(clusters, "SEARCH_GLOBS", ())
    assert main(["demo", "--city", "2", "--dir", str(tmp_path / "city")]) == 2
    err = capsys.readouterr().err
    assert "找不到 PostgreSQL 服务器程序" in err and "apt-get install postgresql" in err
    assert not (tmp_path / "city").exists(), "nothing was made"

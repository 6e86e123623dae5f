"""Local PostgreSQL clusters made, started, stopped and opened again with the machine's initdb/pg_ctl."""

from __future__ import annotations

import psycopg
import pytest

from examroom.city.clusters import Cluster, find_binaries
from examroom.city.errors import CityError

pytestmark = [pytest.mark.slow, pytest.mark.state_waits]  # real PostgreSQL servers


def test_a_cluster_is_made_with_logical_wal_started_stopped_and_opened_again(clusters, cluster_folder):
    cluster = clusters("course")
    with psycopg.connect(cluster.libpq("postgres")) as connection:
        assert connection.execute("SHOW wal_level").fetchone() == ("logical",)
        assert connection.execute("SHOW port").fetchone() == (str(cluster.port),)
    url = cluster.create_database()
    assert url.endswith(f":{cluster.port}/examroom")
    assert cluster.create_database() == url  # a second time changes nothing
    cluster.stop()
    assert not cluster.running()
    again = Cluster.open(cluster_folder / "course")
    assert (again.port, again.binaries, again.settings) == (cluster.port, cluster.binaries, cluster.settings)
    again.start()
    with psycopg.connect(again.libpq()) as connection:  # the database made before is still there
        assert connection.execute("SELECT current_database()").fetchone() == ("examroom",)
    again.stop()


def test_a_folder_holding_a_cluster_is_not_made_again(clusters, cluster_folder):
    clusters("course")
    with pytest.raises(CityError, match="已经有一个 PostgreSQL 数据库集群"):
        Cluster.make(cluster_folder / "course")


def test_missing_server_programs_say_how_to_install_them(tmp_path):
    with pytest.raises(CityError) as raised:
        find_binaries(path=str(tmp_path), places=())
    assert "apt-get install postgresql" in str(raised.value)
    assert "找不到 PostgreSQL 服务器程序" in str(raised.value)


def test_opening_a_folder_without_a_cluster_says_so(tmp_path):
    with pytest.raises(CityError, match="没有 examroom 建立的数据库集群"):
        Cluster.open(tmp_path)


def test_a_cluster_copied_from_a_template_gets_its_own_settings_and_networks(pg_binaries, cluster_folder):
    template = Cluster.make(cluster_folder / "template", durable=False, binaries=pg_binaries)
    copy = Cluster.make(cluster_folder / "copy", durable=False, template=template, allow_networks=("10.9.0.0/24",),
                        settings={"work_mem": "8MB"})
    try:
        copy.start()
        with psycopg.connect(copy.libpq("postgres")) as connection:
            assert connection.execute("SHOW port").fetchone() == (str(copy.port),)
            assert connection.execute("SHOW work_mem").fetchone() == ("8MB",)
            assert connection.execute("SHOW wal_level").fetchone() == ("logical",)
        assert "10.9.0.0/24" in (copy.folder / "data" / "pg_hba.conf").read_text()
        assert "10.9.0.0/24" not in (template.folder / "data" / "pg_hba.conf").read_text()
    finally:
        copy.stop()


def test_a_template_serves_only_a_throwaway_cluster_and_only_while_stopped(pg_binaries, cluster_folder):
    template = Cluster.make(cluster_folder / "template", durable=False, binaries=pg_binaries)
    with pytest.raises(ValueError, match="throwaway"):
        Cluster.make(cluster_folder / "durable", template=template)
    with template:
        with pytest.raises(ValueError, match="stopped"):
            Cluster.make(cluster_folder / "copy", durable=False, template=template)
    assert not (cluster_folder / "durable" / "data").exists() and not (cluster_folder / "copy" / "data").exists()

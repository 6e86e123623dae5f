"""What the city tier refuses before it touches a server: a course or city not on PostgreSQL,
a course code that cannot name a replication."""

from __future__ import annotations

import pytest

from examroom.city import replication
from examroom.city.errors import CityError


def test_a_course_on_sqlite_is_told_to_move_to_postgresql_first(engine):
    with pytest.raises(CityError, match="examroom db move-to"):
        replication.prepare_course(engine, "4201001")
    with pytest.raises(CityError, match="城市中心的数据库必须是 PostgreSQL"):
        replication.prepare_city(engine)


@pytest.mark.parametrize("code", ["", "42-01", "4201 001", "x" * 41, "考场"])
def test_a_course_code_that_cannot_name_a_replication_is_refused(code):
    with pytest.raises(CityError, match="不能用作复制名称"):
        replication.slot_name(code)


def test_replication_names_follow_the_course_code():
    assert replication.subscription_name("4201001") == "examroom_4201001"
    assert replication.slot_name("4201001") == "examroom_city_4201001"

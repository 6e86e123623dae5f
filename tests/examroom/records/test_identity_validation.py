from datetime import date

import pytest

from examroom.records.people import IdNumberError, validate_id_number


def test_standard_example_is_valid_and_normalised():
    assert validate_id_number(" 11010519491231002x ") == "11010519491231002X"


@pytest.mark.parametrize("number, reason", [
    ("", "为空"),
    ("110105491231002", "15位旧号码"),
    ("1101051949123100", "长度为16位"),
    ("11010519491231002Y", "第18位须为数字或X"),
    ("99010519491231002X", "地址码990105不是有效的行政区划代码"),
    ("11010519490231002X", "出生日期19490231不是有效日期"),
    ("11010520990101002X", "不在合理范围内"),
    ("110105194912310021", "校验码为1，按GB 11643应为X"),
])
def test_each_part_is_checked_with_a_reason(number, reason):
    with pytest.raises(IdNumberError, match=reason):
        validate_id_number(number, today=date(2026, 11, 29))

import pytest

from examroom.site.settings import SettingsError, load_settings, parse_settings

GOOD = {
    "database_url": "sqlite:///course.sqlite3",
    "course_file": "courses/demo.toml",
    "rule_set_file": "rules/ga1026-2022.toml",
    "vehicles": [{"id": "V1", "plate": "甘K·0001学", "model": "E-HJ110",
                  "gnss": {"port": "/dev/serial/by-id/usb-u-blox-if00", "baudrate": 115200},
                  "signals": {"port": "/dev/ttyUSB1"}}],
    "course_boards": [{"id": "B1", "unit": 1, "serial": {"port": "/dev/ttyUSB2", "baudrate": 9600, "parity": "E"},
                       "inputs": ["pile_e.pole1", "", "bridge_e.A"]}],
}


def test_good_settings(tmp_path):
    s = parse_settings(GOOD, base=tmp_path)
    assert s.vehicles[0].gnss.baudrate == 115200 and s.vehicles[0].signals.baudrate == 38400
    assert s.course_boards[0].inputs == ["pile_e.pole1", None, "bridge_e.A"]
    assert s.course_file == (tmp_path / "courses/demo.toml").resolve()
    assert s.course_code == ""  # a course without its 考场代码 yet (docs/city.md)
    assert parse_settings(dict(GOOD, course_code="4201001"), base=tmp_path).course_code == "4201001"


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("database_url"), r"database_url: missing"),
    (lambda d: d["vehicles"][0]["gnss"].update(baudrate="fast"), r"vehicles\[0\]\.gnss\.baudrate: expected an integer, got string"),
    (lambda d: d["vehicles"][0]["gnss"].update(parity="X"), r"vehicles\[0\]\.gnss\.parity: must be one of"),
    (lambda d: d["course_boards"][0].update(unit=300), r"course_boards\[0\]\.unit: must be between 1 and 247"),
    (lambda d: d["vehicles"].append(dict(d["vehicles"][0])), r"vehicles\[1\]\.id: duplicate 'V1'"),
    (lambda d: d["vehicles"][0].update(colour="red"), r"vehicles\[0\]: unknown key\(s\): colour"),
    (lambda d: d["course_boards"][0].update(inputs=[3]), r"course_boards\[0\]\.inputs\[0\]"),
    (lambda d: d.update(course_code="4201/001"), r"course_code: the 考场代码 is up to 32 characters"),
    (lambda d: d.update(course_code="42 01"), r"course_code: the 考场代码 is up to 32 characters"),
])
def test_broken_settings_name_the_field(tmp_path, change, message):
    import copy

    data = copy.deepcopy(GOOD)
    change(data)
    with pytest.raises(SettingsError, match=message):
        parse_settings(data, base=tmp_path)


def test_unreadable_file(tmp_path):
    bad = tmp_path / "site.toml"
    bad.write_text("database_url = [", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(bad)
    with pytest.raises(SettingsError, match="no such settings file"):
        load_settings(tmp_path / "missing.toml")


def test_province_files(tmp_path):
    s = parse_settings({**GOOD, "province_files": ["rules/provinces/gansu.toml"]}, base=tmp_path)
    assert s.province_files == [(tmp_path / "rules/provinces/gansu.toml").resolve()]
    assert parse_settings(GOOD, base=tmp_path).province_files == []
    with pytest.raises(SettingsError, match=r"province_files\[0\]: expected a file name"):
        parse_settings({**GOOD, "province_files": [3]}, base=tmp_path)

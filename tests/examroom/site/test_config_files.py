"""The one strict reader of configuration files (scoring.fields.load_file): typed errors naming file, field, range."""

import pytest

from examroom.site.settings import SettingsError, load_settings
from scoring.course import CourseError, load_course
from scoring.fields import ConfigError, Fields, load_file
from scoring.overrides import load_override_file
from scoring.rules import RuleSetError, load_ruleset


class _Error(ConfigError):
    pass


def _speed(data: dict) -> float:
    root = Fields(data, "", _Error)
    limits = root.table("limits")
    speed = limits.number("speed", minimum=0, maximum=60)
    limits.done()
    root.done()
    return speed


def test_a_number_out_of_range_names_the_file_the_field_and_the_range(tmp_path):
    path = tmp_path / "site.toml"
    path.write_text("[limits]\nspeed = 61\n", encoding="utf-8")
    with pytest.raises(_Error) as caught:
        load_file(path, _Error, _speed)
    error = caught.value
    assert str(error) == "site.toml: limits.speed: must be between 0 and 60, got 61"
    assert (error.file, error.field, error.allowed) == ("site.toml", "limits.speed", "between 0 and 60")
    assert error.reason == "must be between 0 and 60, got 61"
    path.write_text("[limits]\nspeed = 60\n", encoding="utf-8")
    assert load_file(path, _Error, _speed) == 60.0  # at the limit: allowed


def test_text_that_is_not_toml_and_a_missing_file_are_the_files_errors(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_bytes(b"speed = \xff\n")
    with pytest.raises(_Error, match=r"^broken.toml: not UTF-8 text") as caught:
        load_file(path, _Error, _speed)
    assert caught.value.file == "broken.toml" and caught.value.field is None
    with pytest.raises(FileNotFoundError):
        load_file(tmp_path / "none.toml", _Error, _speed)
    with pytest.raises(_Error, match="^none.toml: no such file$"):
        load_file(tmp_path / "none.toml", _Error, _speed, missing="no such file")


def test_every_loader_raises_its_own_config_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("= nonsense\n", encoding="utf-8")
    for load, error in ((load_course, CourseError), (load_ruleset, RuleSetError), (load_override_file, RuleSetError),
                        (load_settings, SettingsError)):
        with pytest.raises(error) as caught:
            load(bad)
        assert isinstance(caught.value, ConfigError) and "not valid TOML" in caught.value.reason, load.__name__


def test_the_site_files_numbers_carry_their_field_and_range(tmp_path):
    site = tmp_path / "site.toml"
    site.write_text('database_url = "sqlite://"\ncourse_file = "c.toml"\nrule_set_file = "r.toml"\n'
                    "[web]\nport = 70000\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(site)
    assert caught.value.file == str(site) and caught.value.field == "web.port"
    assert caught.value.allowed == "between 0 and 65535"

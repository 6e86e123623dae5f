"""The city settings file: the shipped example reads, and a wrong field is named."""

from __future__ import annotations

import tomllib

import pytest

from examroom.city.watch_settings import CitySettingsError, load, parse
from scoring.config_files import config_dir

EXAMPLE = config_dir() / "city" / "example-city.toml"


def example(tmp_path) -> dict:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    (tmp_path / "4201001.password").write_text("secret\n")
    data["evidence"]["courses"]["4201001"]["password_file"] = "4201001.password"
    return data


def test_the_shipped_example_reads(tmp_path):
    settings = parse(example(tmp_path), tmp_path)
    assert settings.city_code == "420100"
    assert settings.sampling.share == 0.05 and set(settings.sampling.always) == {
        "manual_fail", "device_fault", "override", "seal_warning"}
    assert (settings.warnings.test, settings.warnings.alpha, settings.warnings.min_attempts) == ("binomial_exact", 0.001, 30)
    assert (settings.warnings.tries_per_sitting, settings.warnings.rebook_after_days,
            settings.warnings.bookings_per_validity) == (2, 10, 5)
    link = settings.evidence.courses["4201001"]
    assert link.password == "secret" and link.url.startswith("https://")
    assert settings.verification.every_seconds == 60.0


def test_a_file_without_the_verification_section_passes_every_minute(tmp_path):
    data = example(tmp_path)
    del data["verification"]
    assert parse(data, tmp_path).verification.every_seconds == 60.0


@pytest.mark.parametrize("change, field", [
    (lambda d: d["sampling"].update(share=0), "sampling.share"),
    (lambda d: d["sampling"].update(share=1.5), "sampling.share"),
    (lambda d: d["sampling"].update(always=["manual_fail", "all"]), "sampling.always"),
    (lambda d: d["warnings"].update(alpha=True), "warnings.alpha"),
    (lambda d: d["warnings"].update(test="z"), "warnings.test"),
    (lambda d: d["warnings"].pop("min_attempts"), "warnings.min_attempts"),
    (lambda d: d["warnings"].update(tries_per_sitting=0), "warnings.tries_per_sitting"),
    (lambda d: d["evidence"]["courses"]["4201001"].update(password_file="nowhere"), "evidence.courses.4201001"),
    (lambda d: d.update(city_code=" "), "city.city_code"),
    (lambda d: d["verification"].update(every_seconds=0), "verification.every_seconds"),
    (lambda d: d["verification"].update(every_seconds="60"), "verification.every_seconds"),
    (lambda d: d["verification"].update(every_second=60), "verification"),
    (lambda d: d.update(verification=60), "city.verification"),
])
def test_a_wrong_field_is_named(tmp_path, change, field):
    data = example(tmp_path)
    change(data)
    with pytest.raises(CitySettingsError, match=field.replace(".", r"\.")):
        parse(data, tmp_path)


def test_a_file_that_is_not_toml(tmp_path):
    path = tmp_path / "city.toml"
    path.write_text("share = [")
    with pytest.raises(CitySettingsError, match="not TOML"):
        load(path)

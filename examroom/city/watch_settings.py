"""The city settings file's review, warning, evidence and verification sections, read strictly.

The thresholds of the random review and the warnings are rule-like data: they live in the city
settings file (``config/city/example-city.toml`` documents each), never as literals in the code
that applies them. Every field is checked on load; an error names the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

MANDATORY_CLASSES = ("manual_fail", "device_fault", "override", "seal_warning")
RATE_TESTS = ("binomial_exact",)


class CitySettingsError(ValueError):
    """A city settings file that cannot be used; the message names the field."""


@dataclass(frozen=True)
class SamplingSettings:
    share: float
    always: tuple[str, ...]


@dataclass(frozen=True)
class WarningSettings:
    test: str
    alpha: float
    min_attempts: int
    min_difference: float
    max_journal_gap_seconds: float
    tries_per_sitting: int
    rebook_after_days: int
    bookings_per_validity: int
    validity_days: int


@dataclass(frozen=True)
class CourseLink:
    """Where a course's web process answers, and the city's auditor account there."""

    code: str
    url: str
    username: str
    password: str


@dataclass(frozen=True)
class EvidenceSettings:
    cache_dir: Path
    timeout_seconds: float
    courses: dict[str, CourseLink] = field(default_factory=dict)


@dataclass(frozen=True)
class VerificationSettings:
    """How often the city's verification pass runs (``examroom city watch``, ``city/verification.py``)."""

    every_seconds: float = 60.0


@dataclass(frozen=True)
class CityWatchSettings:
    city_code: str
    sampling: SamplingSettings
    warnings: WarningSettings
    evidence: EvidenceSettings
    verification: VerificationSettings = VerificationSettings()


def _need(table: dict, key: str, kind, where: str):
    if key not in table:
        raise CitySettingsError(f"{where}.{key}: missing")
    value = table[key]
    # bool is an int in Python; a threshold written as true is a mistake, not 1.
    if isinstance(value, bool) and kind is not bool or not isinstance(value, kind):
        raise CitySettingsError(f"{where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _number(table: dict, key: str, where: str, low: float, high: float, *, low_open: bool = False) -> float:
    value = float(_need(table, key, (int, float), where))
    if not (low < value if low_open else low <= value) or value > high:
        raise CitySettingsError(f"{where}.{key}: {value} is outside {'(' if low_open else '['}{low}, {high}]")
    return value


def _whole(table: dict, key: str, where: str, low: int) -> int:
    value = _need(table, key, int, where)
    if value < low:
        raise CitySettingsError(f"{where}.{key}: {value} is below {low}")
    return value


def parse(data: dict, base: Path) -> CityWatchSettings:
    """Settings from a parsed city file (``base``: the folder relative paths start from)."""
    city_code = _need(data, "city_code", str, "city")
    if not city_code.strip():
        raise CitySettingsError("city.city_code: empty")
    sampling = _need(data, "sampling", dict, "city")
    always = tuple(_need(sampling, "always", list, "sampling"))
    unknown = [a for a in always if a not in MANDATORY_CLASSES]
    if unknown:
        raise CitySettingsError(f"sampling.always: unknown class(es) {unknown}; known: {list(MANDATORY_CLASSES)}")
    warnings = _need(data, "warnings", dict, "city")
    test = _need(warnings, "test", str, "warnings")
    if test not in RATE_TESTS:
        raise CitySettingsError(f"warnings.test: {test!r}; known: {list(RATE_TESTS)}")
    evidence = _need(data, "evidence", dict, "city")
    courses = {}
    for code, link in _need(evidence, "courses", dict, "evidence").items() if "courses" in evidence else ():
        where = f"evidence.courses.{code}"
        if not isinstance(link, dict):
            raise CitySettingsError(f"{where}: expected a table")
        password = link.get("password")
        if password is None:
            path = base / _need(link, "password_file", str, where)
            try:
                password = path.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CitySettingsError(f"{where}.password_file: {exc.strerror}: {path}") from None
        courses[str(code)] = CourseLink(str(code), _need(link, "url", str, where).rstrip("/"),
                                        _need(link, "username", str, where), password)
    # The section may be left out (a file written before it): the default, 60 s, applies.
    verification = _need(data, "verification", dict, "city") if "verification" in data else {}
    every = (_number(verification, "every_seconds", "verification", 0.0, 86400.0, low_open=True)
             if "every_seconds" in verification else VerificationSettings.every_seconds)
    unknown_keys = sorted(set(verification) - {"every_seconds"})
    if unknown_keys:
        raise CitySettingsError(f"verification: unknown field(s) {unknown_keys}")
    return CityWatchSettings(
        verification=VerificationSettings(every_seconds=every),
        city_code=city_code.strip(),
        sampling=SamplingSettings(share=_number(sampling, "share", "sampling", 0.0, 1.0, low_open=True),
                                  always=always),
        warnings=WarningSettings(
            test=test, alpha=_number(warnings, "alpha", "warnings", 0.0, 0.5, low_open=True),
            min_attempts=_whole(warnings, "min_attempts", "warnings", 1),
            min_difference=_number(warnings, "min_difference", "warnings", 0.0, 1.0),
            max_journal_gap_seconds=_number(warnings, "max_journal_gap_seconds", "warnings", 0.0, 3600.0,
                                            low_open=True),
            tries_per_sitting=_whole(warnings, "tries_per_sitting", "warnings", 1),
            rebook_after_days=_whole(warnings, "rebook_after_days", "warnings", 0),
            bookings_per_validity=_whole(warnings, "bookings_per_validity", "warnings", 1),
            validity_days=_whole(warnings, "validity_days", "warnings", 1)),
        evidence=EvidenceSettings(cache_dir=base / _need(evidence, "cache_dir", str, "evidence"),
                                  timeout_seconds=_number(evidence, "timeout_seconds", "evidence", 0.0, 600.0,
                                                          low_open=True),
                                  courses=courses))


def load(path: Path) -> CityWatchSettings:
    """The city settings file at ``path``."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CitySettingsError(f"{path}: not TOML: {exc}") from None
    return parse(data, Path(path).resolve().parent)

"""Bounds on what a request may name, so that no value a client sends reaches the database or the
clock out of range (a 400 or 404, never a 500).

- Integer ids in URLs are 1 … 2^63 − 1 (the database's BIGINT): the ``int`` converter is replaced
  so that a larger or negative number matches no route (404).
- Dates are 2000-01-01 … 2099-12-31: the course keeps no record outside, and year 1 or 9999 would
  overflow the time-zone arithmetic.
- Numbers are finite: ``nan`` and ``inf`` parse as floats in Python but mean nothing here.
- JSON answers never carry NaN or Infinity (not JSON at all): they go out as null.
- Every error under ``/api/`` is JSON, whichever handler produced it.
"""

from __future__ import annotations

import json
import math
from datetime import date

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

MAX_ID = 2**63 - 1
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
# The same bounds for the OpenAPI document (web/api/openapi.py).
DAY_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"


class IdConverter(IntegerConverter):
    """``<int:…>`` limited to 1 … 2^63 − 1 unless a route says otherwise."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID,  # noqa: A002
                 signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def parse_id(name: str, text: str) -> int:
    """An id given in a form field; ValueError unless it is 1 … 2^63 − 1."""
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise ValueError(f"{name}: a whole number from 1 to {MAX_ID}")
    return int(text)


def parse_day(name: str, text: str) -> date:
    """A date parameter; ValueError with a message naming the parameter when it is not one we keep."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: expected a date like 2026-11-29, got {text[:40]!r}") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{name}: a date from {FIRST_DAY} to {LAST_DAY}")
    return day


def parse_seconds(name: str, text: str, limit: float = 1e7) -> float:
    """A finite number of seconds within ±limit; ValueError otherwise."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}: a number of seconds") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise ValueError(f"{name}: a finite number of seconds within ±{limit:g}")
    return value


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


class FiniteJSON(DefaultJSONProvider):
    """Flask's JSON, but NaN and ±Infinity go out as null instead of as invalid JSON."""

    def dumps(self, obj, **kwargs) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        try:
            return json.dumps(obj, allow_nan=False, **kwargs)
        except ValueError:  # only here when a value is not finite: the common answer pays nothing
            return json.dumps(_finite(obj), allow_nan=False, **kwargs)


def _api_errors_as_json(response: Response) -> Response:
    if (request.path.startswith("/api/") and response.status_code >= 400
            and response.mimetype != "application/json"):
        response.set_data(json.dumps({"error": response.status.split(" ", 1)[-1].lower()}))
        response.mimetype = "application/json"
    return response


def init_app(app: Flask) -> None:
    """Call before any route is added: the converter is read when a rule is compiled."""
    app.url_map.converters["int"] = IdConverter
    app.json_provider_class = FiniteJSON
    app.json = FiniteJSON(app)
    app.after_request(_api_errors_as_json)

"""Crawl every GET route of the app with hostile values in its path and query; count server errors.

Shared by tests/web/test_no_server_errors.py (a small sample, seconds) and bench/hostile_crawl.py
(every value on every route, with every role).
"""

from __future__ import annotations

import itertools
import json
import math
import random
import re
import urllib.parse
from dataclasses import dataclass, field

# Values a careless or hostile client sends: huge and negative ids, non-numbers, dates out of range,
# control characters, look-alike paths, long and odd text.
HOSTILE = [
    "99999999999999999999", "9223372036854775808", "9223372036854775807", "-1", "0", "1.5", "1e309",
    "nan", "NaN", "inf", "-Infinity", "0x10", "",
    "0001-01-01", "9999-12-31", "2026-02-30", "2026-13-01", "-2026-01-01", "20261129",
    "\x00", "\r\n", "\t", "/%09/evil.example", "/\r/x", "//evil.example", "/\\evil.example",
    "https://evil.example/", "javascript:alert(1)", "../../etc/passwd", "%", "%ZZ", "a" * 5000,
    "'; DROP TABLE attempts; --", "<script>alert(1)</script>", "😀", "张三", "\u202e", "\ufeff",
    "[]", "{}", "true", "null",
]
# Query parameters the views read, tried on every route (a view ignores what it does not read).
QUERY_NAMES = ["day", "since", "until", "limit", "status", "rule", "candidate", "examiner", "vehicle_class",
               "t", "next", "seal", "error", "camera", "at"]


@dataclass
class Crawl:
    requests: int = 0
    server_errors: list[tuple[str, int]] = field(default_factory=list)
    non_finite_json: list[str] = field(default_factory=list)
    html_api_errors: list[str] = field(default_factory=list)

    def note(self, url: str, response) -> None:
        self.requests += 1
        if response.status_code >= 500 and response.status_code != 503:
            self.server_errors.append((url, response.status_code))
        if response.mimetype == "application/json":
            text = response.get_data(as_text=True)
            try:
                json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            except ValueError:
                self.non_finite_json.append(url)
        elif urllib.parse.urlsplit(url).path.startswith("/api/") and response.status_code >= 400:
            self.html_api_errors.append(url)


def _fill(rule: str, value: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?[a-z_]+>", urllib.parse.quote(value, safe=""), rule)


def urls(app, values: list[str] = HOSTILE, sample: int | None = None, seed: int = 13) -> list[str]:
    """Each GET route with each value in every path parameter, and in every query parameter."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in rule.methods or rule.endpoint in ("static", "live.stream", "cameras.live_stream"):
            continue  # endless streams are crawled by their first answer elsewhere
        if rule.arguments:
            found += [_fill(rule.rule, v) for v in values]
        base = _fill(rule.rule, "1")
        found += [f"{base}?{urllib.parse.urlencode({name: v})}" for name, v in itertools.product(QUERY_NAMES, values)]
    found += [f"/api/v1/{urllib.parse.quote(v, safe='')}" for v in values]  # API paths that do not exist
    if sample is not None and sample < len(found):
        found = random.Random(seed).sample(found, sample)
    return found


def crawl(clients: list, addresses: list[str]) -> Crawl:
    result = Crawl()
    for client, url in itertools.product(clients, addresses):
        response = client.get(url)
        result.note(url, response)
        response.close()
    return result


def finite(value) -> bool:
    return not isinstance(value, float) or math.isfinite(value)

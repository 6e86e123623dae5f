"""The course an attempt was driven on, kept with the attempt.

Each attempt stores the parsed course file (``Course.source``, as JSON) and its
SHA-256 over canonical JSON. A re-judge judges on that snapshot, not on today's
file, and says when today's file differs; the hash is sealed with the record.
A course built in code (no file behind it) has no snapshot.
"""

from __future__ import annotations

import hashlib
import json

from scoring.course import Course, parse_course


def _canonical(data) -> str:
    # default=str: a TOML date or time (not used by course files today) still has one text.
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def course_snapshot(course: Course) -> dict | None:
    """The course file's content as JSON-ready data, or None for a course built in code."""
    if course.source is None:
        return None
    return json.loads(_canonical(course.source))


def snapshot_sha256(snapshot: dict | None) -> str | None:
    return None if snapshot is None else hashlib.sha256(_canonical(snapshot).encode("utf-8")).hexdigest()


def course_sha256(course: Course) -> str | None:
    """The content hash of the file a course was read from (None: built in code)."""
    return snapshot_sha256(course_snapshot(course))


def course_from_snapshot(snapshot: dict) -> Course:
    return parse_course(snapshot)

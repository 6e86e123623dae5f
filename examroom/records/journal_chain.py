"""The hash chain of an attempt's journal.

Each journal row carries the hash of the row before it and its own hash over
that previous hash, the attempt, its sequence number and its line (the
observation in JSON Lines form, which holds kind, t and utc). Changing,
inserting, removing or reordering a row breaks the chain from that row on; the
chain's head is sealed with the attempt (examroom.records.sealing).

The chain names its attempt globally (form 2, a course with a code, migration
0013): ``"<course code>/<attempt id>"``, so a journal cannot pass for another
course's attempt of the same number. A course without a code (and every journal
written before 0013) names the bare number (form 1); both forms verify.
"""

from __future__ import annotations

import hashlib

HASH_NAME = "sha256"


def attempt_name(attempt_id: int, course_key: str = "") -> str:
    """How the chain names its attempt: ``4201001/17`` (form 2), or ``17`` for a course without a code."""
    return f"{course_key}/{attempt_id}" if course_key else str(attempt_id)


def genesis(attempt_id: int, course_key: str = "") -> str:
    """The 'previous hash' of an attempt's first row: binds the chain to its attempt (and course)."""
    return hashlib.sha256(f"examroom-journal\n{attempt_name(attempt_id, course_key)}".encode()).hexdigest()


def row_hash(prev_hash: str, attempt_id: int, seq: int, line: str, course_key: str = "") -> str:
    # Newline-separated fields: a JSON line never holds a raw newline, so fields cannot run together
    # (and a course code never holds "/" or a newline: the site file refuses one that does).
    data = f"{prev_hash}\n{attempt_name(attempt_id, course_key)}\n{seq}\n{line}".encode("utf-8")
    return hashlib.sha256(data).hexdigest()

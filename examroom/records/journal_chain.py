"""The hash chain of an attempt's journal.

Each journal row carries the hash of the row before it and its own hash over
that previous hash, the attempt, its sequence number and its line (the
observation in JSON Lines form, which holds kind, t and utc). Changing,
inserting, removing or reordering a row breaks the chain from that row on; the
chain's head is sealed with the attempt (examroom.records.sealing).
"""

from __future__ import annotations

import hashlib

HASH_NAME = "sha256"


def genesis(attempt_id: int) -> str:
    """The 'previous hash' of an attempt's first row: binds the chain to its attempt."""
    return hashlib.sha256(f"examroom-journal\n{attempt_id}".encode()).hexdigest()


def row_hash(prev_hash: str, attempt_id: int, seq: int, line: str) -> str:
    # Newline-separated fields: a JSON line never holds a raw newline, so fields cannot run together.
    data = f"{prev_hash}\n{attempt_id}\n{seq}\n{line}".encode("utf-8")
    return hashlib.sha256(data).hexdigest()

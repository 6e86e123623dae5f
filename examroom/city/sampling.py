"""The weekly random review draw (抽检): a pure function of a seed and a course's attempts.

The city commits to a week's seed before the week (it publishes ``commitment(seed)``, the seed's
SHA-256) and reveals the seed after the week has ended; optionally a public random value known
only after the week (``beacon``) is mixed in, so not even the city's own staff knew the draw
while the week ran. docs/city-sampling.md says why and how anyone checks a draw.

Given the seed and one course's attempts of the week, each attempt's *ticket* is
HMAC-SHA256(key, "<course>/<id>") with ``key = draw_key(seed, beacon)``. The sample is every
attempt of a class always reviewed (manual 不合格, device fault, self-check override, seal
warning) plus the ``ceil(share × N)`` lowest tickets among the others (N: the course's attempts
of the week). A ticket depends on the seed and the attempt's global key only, so the draw
does not depend on the order the attempts are given in, and one attempt's presence does not move
another's ticket. Nothing here reads a clock, a database or the machine's randomness (except
``new_seed``, which makes a seed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from typing import Iterable, Sequence

SHARE = "share"  # the reason of an attempt drawn at random (the others name their class)


@dataclass(frozen=True, order=True)
class Attempt:
    """An attempt the draw considers: its global key and the classes always reviewed it belongs to."""

    course: str
    id: int
    classes: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return f"{self.course}/{self.id}"


@dataclass(frozen=True)
class Drawn:
    course: str
    id: int
    reasons: tuple[str, ...]  # SHARE and/or the attempt's classes always reviewed
    ticket: str  # hex


def new_seed() -> bytes:
    """A fresh 32-byte seed from the operating system's randomness."""
    return secrets.token_bytes(32)


def commitment(seed: bytes) -> str:
    """What is published before the week: SHA-256 of the seed (hex)."""
    return hashlib.sha256(seed).hexdigest()


def draw_key(seed: bytes, beacon: str = "") -> bytes:
    """The key tickets are made with: the seed, with the public beacon value mixed in when given."""
    if not beacon:
        return seed
    return hmac.new(seed, b"examroom-city-beacon\n" + beacon.encode("utf-8"), hashlib.sha256).digest()


def ticket(key: bytes, attempt: Attempt) -> str:
    return hmac.new(key, attempt.key.encode("utf-8"), hashlib.sha256).hexdigest()


def share_count(share: float, population: int) -> int:
    """How many attempts the share asks for: ``ceil(share × N)``, without float residue (0.05 × 100 is 5)."""
    return min(population, math.ceil(round(share * population, 9)))


def population_digest(attempts: Iterable[Attempt]) -> str:
    """SHA-256 of the course's attempts as the draw saw them (key order; each key with its classes).

    Published with the draw, so whoever re-runs it knows they gave it the same attempts.
    """
    listed = [[a.course, a.id, sorted(a.classes)] for a in sorted(attempts, key=lambda a: (a.course, a.id))]
    return hashlib.sha256(json.dumps(listed, separators=(",", ":")).encode("utf-8")).hexdigest()


def draw(seed: bytes, attempts: Sequence[Attempt], share: float, always: Iterable[str],
         beacon: str = "") -> list[Drawn]:
    """One course's sample for the week, in key order (see the module's docstring).

    ``always``: the classes always reviewed (the settings' ``sampling.always``).
    """
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], got {share}")
    courses = {a.course for a in attempts}
    if len(courses) > 1:
        raise ValueError(f"a draw is one course's: got {sorted(courses)}")
    keys = [(a.course, a.id) for a in attempts]
    if len(set(keys)) != len(keys):
        raise ValueError("an attempt is listed twice")
    always = frozenset(always)
    key = draw_key(seed, beacon)
    ordered = sorted(attempts, key=lambda a: (a.course, a.id))
    tickets = {(a.course, a.id): ticket(key, a) for a in ordered}
    reasons: dict[tuple[str, int], list[str]] = {}
    rest = []
    for attempt in ordered:
        mandatory = sorted(attempt.classes & always)
        if mandatory:
            reasons[(attempt.course, attempt.id)] = mandatory
        else:
            rest.append(attempt)
    # Ties (two equal 256-bit tickets) are as good as impossible; the key settles them anyway.
    rest.sort(key=lambda a: (tickets[(a.course, a.id)], a.course, a.id))
    for attempt in rest[:share_count(share, len(ordered))]:
        reasons[(attempt.course, attempt.id)] = [SHARE]
    return [Drawn(a.course, a.id, tuple(reasons[(a.course, a.id)]), tickets[(a.course, a.id)])
            for a in ordered if (a.course, a.id) in reasons]

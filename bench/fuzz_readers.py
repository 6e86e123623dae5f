"""Fuzz the file readers long: the journal reader and the site, course, rule-set and override loaders.

Runs each target of ``tests/readers_fuzz.py`` (the harness the test suite runs at a quick size)
with ``--examples`` hypothesis inputs (default 5000) and prints, per target, the inputs tried,
how many were read, how many refused with the project's own clear error, and the findings: any
other exception, or a journal line accepted that holds a non-finite number or does not read back
to itself (a false reading). Findings must be 0; the script exits 1 otherwise and prints the
first few. Nothing here asserts on timing.

Run: ``.venv/bin/python bench/fuzz_readers.py [--examples N] [--target journal ...]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.readers_fuzz import CLEAR, TARGETS  # noqa: E402


def fuzz(name: str, examples: int) -> tuple[Counter, list[str], float]:
    target, inputs = TARGETS[name]
    counts: Counter = Counter()
    findings: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(inputs())
    def one(value):
        counts["tried"] += 1
        try:
            target(value)
            counts["read"] += 1
        except CLEAR[name]:
            counts["refused"] += 1
        except Exception as exc:  # a finding: counted, not raised, so the run goes on
            counts["findings"] += 1
            findings.append(f"{type(exc).__name__}: {str(exc)[:300]}")

    start = time.process_time()
    one()
    return counts, findings, time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="inputs per target (default 5000)")
    parser.add_argument("--target", action="append", choices=list(TARGETS), help="only these targets")
    args = parser.parse_args()
    total = 0
    for name in args.target or TARGETS:
        counts, findings, cpu = fuzz(name, args.examples)
        total += counts["findings"]
        print(f"{name:9} {counts['tried']:7,} inputs tried  {counts['read']:6,} read  "
              f"{counts['refused']:6,} refused clearly  {counts['findings']} findings  "
              f"({cpu:.0f} s CPU, {counts['tried'] / max(cpu, 1e-9):,.0f} inputs/s)", flush=True)
        for finding in sorted(set(findings))[:5]:
            print(f"    {finding}")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())

"""Fuzzing the file readers at a quick size: only the project's clear errors, no false reading.

The harness is ``tests/readers_fuzz.py``; ``bench/fuzz_readers.py`` runs it long.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.readers_fuzz import TARGETS, run_one

# Quick in the suite: a journal input is a few lines (well under a millisecond); a file input
# loads a course, a rule set or a site file (5-20 ms). The long run is bench/fuzz_readers.py.
EXAMPLES = {"journal": 100, "course": 30, "rules": 20, "province": 30, "site": 30}


@pytest.mark.parametrize("name", TARGETS)
def test_a_reader_only_ever_raises_its_own_clear_error(name):
    _, inputs = TARGETS[name]

    @settings(max_examples=EXAMPLES[name], deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(inputs())
    def check(value):
        assert run_one(name, value) is None

    check()

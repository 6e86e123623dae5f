"""Process replay: recorded device bytes in, journal and verdict out, compared with the stored expectation.

See tests/examroom/station/process_replay/__init__.py for what a case holds and how to write a new
expectation (EXAMROOM_UPDATE_REPLAY=1) or record the cases again.
"""

import difflib
import os

import pytest

from scoring.course import load_course
from scoring.rules import default_ruleset_path, load_ruleset
from examroom.simulation.scenarios import DEMO_COURSE_PATH
from examroom.station.service import site_health_layer
from tests.examroom.station.process_replay import UPDATE_ENV, cases, demo_settings, journal_lines, replay, verdict, \
    write_expectation


@pytest.fixture(scope="module")
def setting():
    settings = demo_settings()
    ruleset = site_health_layer(load_ruleset(default_ruleset_path()), settings)  # as the station judged
    return settings, load_course(DEMO_COURSE_PATH), ruleset


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_the_bytes_give_the_stored_journal_and_verdict(case, setting):
    replayed = replay(case, *setting)
    if os.environ.get(UPDATE_ENV):
        write_expectation(case, replayed)
        pytest.skip(f"{UPDATE_ENV}: expectation written; review it with git diff")
    got, expected = journal_lines(replayed), case.expected_journal()
    if got != expected:
        diff = "\n".join(list(difflib.unified_diff(expected, got, "expected", "replayed", lineterm="", n=0))[:20])
        pytest.fail(f"{case.name}: the journal differs from the stored one:\n{diff}")
    assert verdict(replayed) == case.expected_verdict()
    assert replayed.refused == 0

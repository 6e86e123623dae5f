"""The scripted attempts, live: twins on pseudo-terminals, real drivers, controller, journal.

Each attempt must end with exactly its expected deductions, and its journal,
judged again offline, must give the same result.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest

from examroom.records.result_diff import difference_lines
from examroom.simulation.demo import DEMO_VEHICLES, DemoCourse
from examroom.simulation.scenarios import scenario, scenario_names
from scoring.judge import judge_stream
from scoring.observations import read_jsonl
from scoring.report import result_to_dict

pytestmark = pytest.mark.slow

# The shared clock runs this much faster than the wall. Signal-board frames and course-board polls
# are stamped on arrival, so a scheduling delay on a loaded machine is multiplied by this factor in
# clock time: kept low enough that a 100 ms stall is 0.4 s, not enough for a late-stamped deck
# switch to disagree with where the wheels are. GNSS fixes are timed by their receiver epoch
# (devices/gnss/epoch_clock.py): a stalled reader does not move them unless the stall exceeds its
# STEP (3 s of clock, 0.75 s of wall here).
SPEED = 4.0


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    demo = DemoCourse(tmp_path_factory.mktemp("live"), speed=SPEED).start()
    try:
        def run(vehicle):
            cls = demo.class_of(vehicle.id)
            return [(scenario(cls, name), demo.drivers[vehicle.id].drive(scenario(cls, name)))
                    for name in scenario_names(cls)]

        with ThreadPoolExecutor(len(DEMO_VEHICLES)) as pool:
            results = [pair for batch in pool.map(run, DEMO_VEHICLES) for pair in batch]
        yield demo, results
    finally:
        demo.stop()


def _ids(outcomes):
    return [f"{sc.vehicle_class}-{sc.name}" for sc, _ in outcomes[1]]


def test_every_scripted_attempt_gets_its_expected_deductions(outcomes):
    demo, results = outcomes
    assert len(results) == 13
    for sc, outcome in results:
        attempt = demo.service.records.attempt(outcome.attempt_id)
        got = [d.rule for d in attempt.deductions]
        assert got == list(sc.expected.rules), f"{sc.vehicle_class} {sc.name}: {got}"
        assert attempt.status == ("passed" if sc.expected.passed else "failed"), f"{sc.vehicle_class} {sc.name}"
        assert attempt.score == sc.expected.score


def test_journals_rejudged_give_the_same_result(outcomes):
    demo, results = outcomes
    for sc, outcome in results:
        lines = list(demo.service.records.journal_lines(outcome.attempt_id))
        rejudged = result_to_dict(judge_stream(read_jsonl(lines), demo.service.course, demo.service.ruleset))
        stored = demo.service.records.attempt(outcome.attempt_id).result
        assert difference_lines(stored, rejudged) == [], f"{sc.vehicle_class} {sc.name}"


def test_devices_healthy_and_nothing_dropped(outcomes):
    demo, _ = outcomes
    for health in demo.service.health():
        assert health["frames_dropped"] == 0, health
        assert health["readings"] > 0, health

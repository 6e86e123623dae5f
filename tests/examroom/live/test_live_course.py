"""The scripted attempts, live: twins, real drivers, station, controller, journal.

Each attempt must end with exactly its expected deductions, and its journal,
judged again offline, must give the same result. The course runs in lockstep
(examroom.simulation.lockstep): the same drivers and controller as on ptys,
on in-process cables and a clock the test owns, so every run is the same;
test_pty_smoke.py drives one attempt over real pseudo-terminals.
"""

from collections import Counter

import pytest

from examroom.live.routing import judge_journal
from examroom.records.result_diff import difference_lines
from examroom.simulation.demo import DEMO_VEHICLES
from examroom.simulation.lockstep import LockstepCourse
from examroom.simulation.scenarios import scenario, scenario_names
from scoring.observations import read_jsonl
from scoring.report import result_to_dict

# One worker runs the module: its fixture drives all 13 scripted attempts (30 s of CPU), which a
# second worker would drive again for the tests it got.
pytestmark = pytest.mark.xdist_group("live_course")


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, copy_migrated):
    folder = tmp_path_factory.mktemp("live")
    copy_migrated(folder / "examroom.sqlite3")
    demo = LockstepCourse(folder, raw_capture=False).start()
    try:
        results, jumps = [], Counter()
        for v in DEMO_VEHICLES:
            for name in scenario_names(demo.class_of(v.id)):
                sc = scenario(demo.class_of(v.id), name)
                jumps[v.id] += _jumps(demo.sim.truth(v.id), next(sc.samples()).vehicle)
                results.append((sc, demo.drivers[v.id].drive(sc)))
        demo.jumps = jumps
        yield demo, results
    finally:
        demo.stop()


def _jumps(last, first) -> bool:
    """The twin puts its vehicle at a script's start: a jump from where the last script left it."""
    return last is not None and (last.x, last.y, last.heading) != (first.x, first.y, first.heading)


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
        rejudged = result_to_dict(judge_journal(read_jsonl(lines), demo.service.course, demo.service.ruleset))
        stored = demo.service.records.attempt(outcome.attempt_id).result
        assert difference_lines(stored, rejudged) == [], f"{sc.vehicle_class} {sc.name}"


def test_devices_healthy_and_nothing_dropped(outcomes):
    demo, _ = outcomes
    for health in demo.service.health():
        assert health["frames_dropped"] == 0, health
        assert health["readings"] > 0, health
        # The twins' positions move as they report: the GNSS track check refuses no speed or course.
        assert health.get("track_disagrees", 0) == 0, health
        # Nor do its headings turn faster, or change their turn rate faster, than a vehicle can
        # (devices/gnss/neighbours.py): the neighbour check refuses none of them but a heading the
        # twin jumped to, putting its vehicle at the next script's start (at most one a jump).
        if "neighbours_disagree" in health:
            vehicle = health["device"].split(".")[0]
            assert health["neighbours_disagree"] <= demo.jumps[vehicle], (health, demo.jumps)

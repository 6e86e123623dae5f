"""A vision line sensor on the simulated camera from above, against the simulator's ground truth."""

import statistics

from examroom.simulation.scenarios import scenario
from examroom.simulation.vision_truth import evaluate

FPS = 15.0


def test_line_sensors_see_every_crossing_without_false_triggers():
    reports = evaluate(scenario("C4", "clean"), fps=FPS)
    assert len(reports) == 7  # entry and exit of three items, and the hill's stake line
    for report in reports:
        print(f"{report.element}: truth {len(report.truth)}, hits {report.hits}, misses {report.misses}, "
              f"false {report.false_triggers}, onset errors {[round(e, 3) for e in report.onset_errors]}")
    assert sum(r.misses for r in reports) == 0
    assert sum(r.false_triggers for r in reports) == 0
    errors = [abs(e) for r in reports for e in r.onset_errors]
    assert len(errors) == sum(len(r.truth) for r in reports) >= 7
    # One pixel of the camera is 12 cm of course here: the sensor may see a line touched a frame early or late.
    assert statistics.median(errors) <= 1 / FPS + 1e-9
    assert max(errors) <= 3 / FPS + 1e-9

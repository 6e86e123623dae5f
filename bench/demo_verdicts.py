"""How often each demo script gets its expected verdict through the devices' imperfect timing.

Judges every scripted attempt of the demo (examroom.simulation.scenarios) over many seeds of
:func:`examroom.simulation.observe.device_observations` (the scenario driver up to MAX_LAG s
late, the course board polled at 20 Hz, readings arriving out of order), without
pseudo-terminals, and prints per script how many seeds got the expected rules, score and
verdict, and the wrong ones. tests/examroom/simulation/test_demo_verdicts.py runs a few seeds;
this runs many.

Run: ``.venv/bin/python bench/demo_verdicts.py [SEEDS] [MAX_LAG]`` (default 100 seeds, 0.1 s)
"""

from __future__ import annotations

import sys
import time

from examroom.simulation.observe import device_observations
from examroom.simulation.scenarios import all_scenarios, default_ruleset
from scoring.judge import judge_stream


def main(seeds: int = 100, max_lag: float = 0.1) -> int:
    rules = default_ruleset()
    wrong_total = 0
    started = time.perf_counter()
    for sc in all_scenarios():
        samples = list(sc.samples(0.05))
        wrong = []
        for seed in range(seeds):
            obs = device_observations(samples, seed=seed, vehicle=sc.vehicle, vehicle_class=sc.vehicle_class,
                                      vehicle_model=sc.vehicle_model, max_lag=max_lag)
            result = judge_stream(obs, sc.course, rules)
            got = tuple(d.rule for d in result.deductions)
            if (got, result.score, result.passed) != (sc.expected.rules, sc.expected.score, sc.expected.passed):
                wrong.append((seed, result.score, got))
        wrong_total += len(wrong)
        print(f"{sc.vehicle_class:3} {sc.name:14} expected {sc.expected.score:3} {sc.expected.rules}: "
              f"{seeds - len(wrong)}/{seeds} right" + (f"; wrong: {wrong[:3]}" if wrong else ""), flush=True)
    print(f"{wrong_total} wrong verdicts in {seeds} seeds × {len(all_scenarios())} scripts, max lag {max_lag} s, "
          f"{time.perf_counter() - started:.1f} s")
    return 1 if wrong_total else 0


if __name__ == "__main__":
    sys.exit(main(*(int(sys.argv[1]),) if len(sys.argv) > 1 else (), *(float(sys.argv[2]),) if len(sys.argv) > 2 else ()))

"""Judge speed per item type, on the scripted clean attempts of the tests (GNSS and signals at 10 Hz).

For each item type (and the whole E attempt) it judges the clean scripted stream several times
and prints observations judged per second and what that makes a 10-minute attempt at 10 Hz
(6,000 fixes + 6,000 signal snapshots) cost, and the ratio to real time. The heaviest item sets
the bound for a whole attempt: the judge spends most of an attempt inside items.

    python bench/judge_speed_by_item.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.judge import judge_stream  # noqa: E402
from tests.scoring.items.test_bay_shift import bay_run  # noqa: E402
from tests.scoring.items.test_c3 import angle_run, curve_run, parallel_run, reverse_run  # noqa: E402
from tests.scoring.items.test_hill import hill_run  # noqa: E402
from tests.scoring.streams import ruleset  # noqa: E402
from tests.scoring.test_judge import full_e_run  # noqa: E402

TEN_MINUTES_OBS = 10 * 60 * 10 * 2  # fixes and signal snapshots at 10 Hz each

CASES = {
    "E whole attempt (桩考, 坡道, 单边桥)": full_e_run,
    "C3 倒车入库": reverse_run,
    "C3 侧方停车": parallel_run,
    "C3 曲线行驶": curve_run,
    "C3 直角转弯": angle_run,
    "C3 坡道": lambda: hill_run(model="C3-01", brake=True),
    "G1 场地驾驶 (移库)": lambda: bay_run("G1", "field_g", "G1-01"),
    "C4 桩考 (移库)": lambda: bay_run("C4", "c4_bay_shift", "C4-01"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rules = ruleset()
    worst = 0.0
    print(f"{'item':<34} {'obs':>6} {'stream s':>9} {'obs/s judged':>13} {'10-min attempt':>15} {'× real time':>12}")
    for name, make in CASES.items():
        run = make()
        seconds = max(o.t for o in run.obs) - min(o.t for o in run.obs)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = judge_stream(run.obs, run.course, rules)
            best = min(best, time.perf_counter() - start)
        assert result.deductions == (), (name, result.deductions)
        rate = len(run.obs) / best
        ten = TEN_MINUTES_OBS / rate
        worst = max(worst, ten)
        print(f"{name:<34} {len(run.obs):>6} {seconds:>9.1f} {rate:>13,.0f} {ten:>13.2f} s {600 / ten:>11,.0f}×")
    print(f"worst item: a 10-minute attempt at 10 Hz judged in {worst:.2f} s ({600 / worst:,.0f}× real time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

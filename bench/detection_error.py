"""Worst detection error of the judge on noisy GNSS streams (GA/T 1028.3 bounds, research.md §4.2).

Runs random cases of the three motions of tests/scoring/noisy.py (a wheel drifting over
a line, a stop and go, a creep through an item with a time limit) at 10 Hz and 5 Hz,
position noise ±2 cm per axis, speed noise ±0.02 m/s, and 0 %, 10 % or 25 % of fixes
dropped, and prints the worst errors seen against the bounds:

- line event (a wheel over the hill's edge line) and body event (a C4's outline over the
  桩考 boundary line): true depth past the line reference where the touch was placed, 0 … +50 mm;
- stop timer (2 s): reported moment − true moment the stop passed 2 s, 0 … +0.5 s;
- item timer: reported moment − true moment the item timer passed its limit, 0 … +1 s.

Cases the judge marked as insufficient data (a fix gap longer than
measurement.max_fix_gap while moving in the item) are reported apart: the bound
is not promised there, only that no verdict goes against the candidate.

    python bench/detection_error.py [--cases 400] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.scoring import noisy  # noqa: E402
from tests.scoring.test_detection_bounds import (  # noqa: E402
    C4_HALF_WIDTH, C4_LEFT_LINE_V, EDGE_REFERENCE_V, RULES, STOP, insufficient, judged, timed_pile,
)
from scoring.judge import judge_stream  # noqa: E402
from tests.scoring.streams import demo_course, only  # noqa: E402


def sampling(rng: random.Random, rate: float) -> noisy.Sampling:
    return noisy.Sampling(rate, 0.02, 0.02, rng.choice([0.0, 0.1, 0.25]), rng.randrange(2**32))


def line_case(rng, rate):
    forward, lateral = rng.uniform(0.3, 1.0), rng.uniform(0.02, 0.3)
    truth = noisy.drift(-2.0, EDGE_REFERENCE_V + lateral * 3.0, forward, -lateral, 3.0 + 0.1 / lateral + 1.0)
    result, stream = judged("e_hill", truth, sampling(rng, rate))
    touches = [d for d in result.deductions if d.rule == "hill.edge_line_touched"]
    error = EDGE_REFERENCE_V - truth.v(touches[0].t) if touches else None
    return error, insufficient(result, stream)


def body_case(rng, rate):
    forward, lateral = rng.uniform(0.3, 1.0), rng.uniform(0.02, 0.3)
    cross_at = 0.9 / forward + 1.0
    truth = noisy.drift(-3.0, C4_LEFT_LINE_V - C4_HALF_WIDTH - lateral * cross_at, forward, lateral,
                        cross_at + 0.1 / lateral + 1.0)
    course = only(demo_course(), "C4", "c4_pile")
    stream = noisy.stream(course, "c4_pile", "C4-01", "C4", truth, sampling(rng, rate))
    result = judge_stream(stream, course, RULES)
    out = [d for d in result.deductions if d.rule == "pile.out_of_line"]
    error = truth.v(out[0].t) + C4_HALF_WIDTH - C4_LEFT_LINE_V if out else None
    return error, insufficient(result, stream)


def stop_case(rng, rate):
    # stops of more than 2.5 s, which must be counted (0~+0.5 s); shorter ones: bench/stop_decision.py
    truth = noisy.stop_and_go(-5.0, 0.0, rng.uniform(0.8, 1.5), rng.uniform(0.5, 2.0), rng.uniform(2.6, 4.0),
                              rng.uniform(0.5, 1.0), stop_at=-1.0)
    result, stream = judged("e_pile", truth, sampling(rng, rate))
    start, _ = noisy.true_stop(truth, STOP)
    fired = [d for d in result.deductions if d.rule == "pile.stop"]
    return (fired[0].t - (start + 2.0) if fired else None), insufficient(result, stream)


def item_case(rng, rate):
    speed, limit = rng.uniform(0.2, 0.6), rng.randint(1000, 3000) / 1000  # a limit is whole ms
    entry_at = 0.5 / speed
    truth = noisy.drift(-1.75, 0.0, speed, 0.0, entry_at + limit + 1.2)
    result, stream = judged("e_pile", truth, sampling(rng, rate), course=timed_pile(limit))
    fired = [d for d in result.deductions if d.rule == "pile.time_limit"]
    return (fired[0].t - (entry_at + limit) if fired else None), insufficient(result, stream)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=400, help="random cases per motion and rate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"rule set {RULES.id}: line_margin {RULES.measure('line_margin')} m, "
          f"speed_noise {RULES.measure('speed_noise')} m/s, max_fix_gap {RULES.measure('max_fix_gap')} s")
    failed = False
    for name, case, unit, scale, bound in (("line event", line_case, "mm", 1000.0, 50.0),
                                           ("body event", body_case, "mm", 1000.0, 50.0),
                                           ("stop timer", stop_case, "s", 1.0, 0.5),
                                           ("item timer", item_case, "s", 1.0, 1.0)):
        for rate in (10.0, 5.0):
            errors, gapped, missed = [], [], 0
            for _ in range(args.cases):
                error, flagged = case(rng, rate)
                if error is None:
                    missed += not flagged
                else:
                    (gapped if flagged else errors).append(error * scale)
            lo, hi = (min(errors), max(errors)) if errors else (float("nan"), float("nan"))
            ok = not missed and bool(errors) and lo >= 0 and hi <= bound
            failed |= not ok
            aside = f"{min(gapped):+.3f} … {max(gapped):+.3f}" if gapped else "-"
            print(f"{name:<11} {rate:>4.0f} Hz  cases {len(errors):>4}  worst {lo:+8.3f} … {hi:+8.3f} {unit} "
                  f"(bound 0 … +{bound:g})  missed {missed}  {'ok' if ok else 'OUT'}   "
                  f"[marked insufficient data: {len(gapped)}, {aside} {unit}]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

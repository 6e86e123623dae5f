"""False line events from moving fixes, and what the two-fix confirmation costs (issue 11 item 7).

scoring/items/areas.py gives each wheel a margin (line_margin + its lever arm × tan(heading_noise))
and counts a touch only at measurement.line_confirm_fixes consecutive fixes over it. This bench
judges the E motorcycle in the demo 桩考 with that setting at 1 (one fix makes a touch), 2 (the
default) and 3, at 10 Hz and 5 Hz, with position noise uniform in a 2 cm disc or Gaussian
σ = 1 cm per axis, heading noise σ = 0.1°, speed noise ±2 cm/s, 10 % dropped fixes and 15 % null
headings, and prints:

- **riding on the line**: both wheels driven along the right boundary line at 1 m/s exactly on
  its reference (0 mm) or 10 mm inside it for 2 m (2 s in the item): the share of runs with a
  false event and the rate per minute of riding there. Independent Gaussian fixes exceed any
  margin now and then; this is the figure the confirmation lowers;
- **arriving on the line** (tests/scoring/test_line_noise.py cases): the wheel comes to the line at
  3–11° and 0.5–1.5 m/s, stops exactly on its reference, stands 1 s, moves off: false events;
- **51 mm past**: the same, stopping 51 mm past: misses (must be 0);
- **grazing 51 mm**: the front wheel's path bends over the line and back (lateral acceleration
  1 m/s² at 1 m/s, a tight turn, peak 51 mm past), noisy: misses. A touch whose part beyond
  about twice the margin lasts less than the confirmation's fixes can be missed; this is its cost;
- **decision depth**: the wheel drifting over the line at 0.02–0.3 m/s sideways (noise-free): the
  true depth where the touch is recorded (interpolated, the first fix over) and where the judge
  decides it (the confirming fix). The recorded depth is what GA/T 1028.3 bounds (0 … +50 mm);
  the decision comes one fix later.

    python bench/line_noise.py [--cases 300] [--seed 1]
"""

from __future__ import annotations

import argparse
import functools
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.judge import judge_for_start  # noqa: E402
from scoring.observations import Pose  # noqa: E402
from scoring.rules import Overrides  # noqa: E402
from tests.scoring.streams import RATE, Run, demo_course, only  # noqa: E402
from tests.scoring.test_line_noise import PAST, _arrival, true_depth  # noqa: E402
from tests.scoring.test_pose_noise import PE_LINE, RULES, disc, fork, gauss, noisy, prepared  # noqa: E402

CONFIRMS = (1, 2, 3)
RATES = (10.0, 5.0)


@functools.lru_cache(maxsize=None)
def rules_with(confirm: int):
    return RULES.with_overrides(Overrides(measurement={"line_confirm_fixes": float(confirm)},
                                          source=f"bench: line_confirm_fixes {confirm}"), "course:bench")


@functools.lru_cache(maxsize=None)
def _riding(depth: float) -> tuple[Run, float]:
    run = Run(only(demo_course(), "E", "e_pile"))
    v = -PE_LINE - depth
    run.at("e_pile", -0.3, v).start().hold(0.2)
    run.go("e_pile", 2.0, v, speed=1.0)  # short of pole 1 (u = 2.405)
    return run, 0.2 + 0.25  # noisy from just before the front axle enters the item (u = 0)


def judge_case(case, noise, seed):
    """Fork the judge of a prepared case (its rule set chosen when it was prepared) and judge the noisy rest."""
    judge = fork(case.judge)
    for o in noisy(case.rest, case.t_from, noise, random.Random(seed), rate=RATE):
        judge.feed(o)
    return judge.result()


def riding(cases: int, rng: random.Random) -> None:
    print("riding on the line at 1 m/s for 2 s in the item (both wheels), noisy:")
    for noise in (disc, gauss):
        for depth in (0.0, -0.01):
            cells = []
            for confirm in CONFIRMS:
                for rate in RATES:
                    case = _riding_case(rate, confirm, depth)
                    false = sum(bool(judge_case(case, noise, rng.randrange(2**32)).deductions)
                                for _ in range(cases))
                    per_min = false / (cases * 2.0) * 60
                    cells.append(f"{confirm} fix {rate:>2.0f} Hz {false:>3}/{cases} ({per_min:5.2f}/min)")
            print(f"  {noise.__name__:5} {depth * 1000:+4.0f} mm: " + " | ".join(cells))


@functools.lru_cache(maxsize=None)
def _riding_case(rate: float, confirm: int, depth: float):
    run, t_from = _riding(depth)
    return _prepared_under(run, t_from, rate, confirm)


@functools.lru_cache(maxsize=None)
def _arrival_case(rate: float, confirm: int, depth: float, slope: float, speed: float):
    run, t_from = _arrival(depth, slope, speed)
    return _prepared_under(run, t_from, rate, confirm)


def _prepared_under(run: Run, t_from: float, rate: float, confirm: int):
    """test_pose_noise.prepared, judged under line_confirm_fixes = ``confirm`` from the start."""
    import tests.scoring.test_pose_noise as pose_noise

    saved = pose_noise.RULES
    pose_noise.RULES = rules_with(confirm)
    try:
        return prepared(run, t_from, rate)
    finally:
        pose_noise.RULES = saved


def arriving(cases: int, rng: random.Random) -> None:
    print("arriving on the line (3–11°, 0.5–1.5 m/s), standing 1 s, moving off; noisy:")
    for noise in (disc, gauss):
        cells = []
        for confirm in CONFIRMS:
            false = missed = 0
            for _ in range(cases):
                rate, slope, speed = rng.choice(RATES), rng.choice([0.05, 0.1, 0.2]), rng.choice([0.5, 1.0, 1.5])
                past = rng.random() < 0.5
                depth = rng.choice(PAST) if past else 0.0
                result = judge_case(_arrival_case(rate, confirm, depth, slope, speed), noise, rng.randrange(2**32))
                if past:
                    missed += not result.deductions
                else:
                    false += bool(result.deductions)
            cells.append(f"{confirm} fix: {false} false on the line, {missed} missed 51/70 mm past")
        print(f"  {noise.__name__:5} ({cases} cases): " + " | ".join(cells))


def grazing(cases: int, rng: random.Random) -> None:
    print(f"grazing: the front wheel's path bends {GRAZE_PEAK * 1000:.0f} mm past the line and back "
          f"({GRAZE_ACCELERATION} m/s² sideways at 1 m/s), noisy: misses")
    for lost in (False, True):
        for noise in (disc, gauss):
            for rate in RATES:
                cells = []
                for confirm in CONFIRMS:
                    missed = 0
                    for _ in range(cases):
                        run = _graze(round(rng.uniform(0.8, 1.2), 2))
                        obs = noisy(run.obs, 0.2, noise, random.Random(rng.randrange(2**32)), rate=rate,
                                    drop=0.1 if lost else 0.0, null=0.15 if lost else 0.0)
                        judge = judge_for_start(run.course, rules_with(confirm), obs[0])
                        for o in obs:
                            judge.feed(o)
                        missed += not judge.deductions
                    cells.append(f"{confirm} fix: {missed:>3}/{cases}")
                print(f"  {noise.__name__:5} {rate:>2.0f} Hz, {'10 % dropped, 15 % null headings' if lost else 'every fix':32}: "
                      + " | ".join(cells))


GRAZE_PEAK, GRAZE_ACCELERATION = 0.051, 1.0


@functools.lru_cache(maxsize=None)
def _graze(peak_u: float) -> Run:
    c = GRAZE_ACCELERATION / 2  # v = peak + c (u − peak_u)²: lateral acceleration 2 c × (1 m/s)²
    run = Run(only(demo_course(), "E", "e_pile"))
    v_peak = -PE_LINE - GRAZE_PEAK
    run.at("e_pile", -0.3, v_peak + c * (peak_u + 0.3) ** 2).start().hold(0.2)
    run.go("e_pile", 2.0, lambda u: v_peak + c * (u - peak_u) ** 2, speed=1.0)
    return run


def decision_depth(cases: int, rng: random.Random) -> None:
    print("decision depth: drifting over the line at 0.02–0.3 m/s sideways, 1 m/s forward, noise-free "
          "(true depth when recorded / when decided):")
    for rate in RATES:
        cells = []
        for confirm in CONFIRMS:
            recorded, decided, late = [], [], []
            for _ in range(cases):
                slope = rng.uniform(0.02, 0.3)
                run = Run(only(demo_course(), "E", "e_pile"))
                v0 = -PE_LINE + slope * 1.5 + rng.uniform(0.0, 0.1 * slope)  # random phase of the fixes
                run.at("e_pile", -0.3, v0).start().hold(0.2)
                run.go("e_pile", 2.0, lambda u: v0 - slope * (u + 0.3), speed=1.0)
                line = next(li for li in run.item("e_pile").boundary_lines if li.name == "right")
                keep = round(RATE / rate)
                poses = [o for o in run.obs if isinstance(o, Pose)]
                dropped = {id(p) for i, p in enumerate(poses, 1) if i % keep}
                obs = [o for o in run.obs if id(o) not in dropped]
                judge = judge_for_start(run.course, rules_with(confirm), obs[0])
                depth_at = _depth_at(run, line)
                for o in obs:
                    judge.feed(o)
                    if judge.deductions:
                        recorded.append(depth_at(judge.deductions[0].t))
                        decided.append(depth_at(o.t))
                        late.append(o.t - judge.deductions[0].t)
                        break
            cells.append(f"{confirm} fix: {min(recorded) * 1000:4.1f}…{max(recorded) * 1000:4.1f} / "
                         f"{min(decided) * 1000:5.1f}…{max(decided) * 1000:5.1f} mm, decided "
                         f"{min(late):.2f}…{max(late):.2f} s later")
        print(f"  {rate:>2.0f} Hz: " + " | ".join(cells))


def _depth_at(run: Run, line):
    poses = [o for o in run.obs if isinstance(o, Pose)]
    times = [p.t for p in poses]
    depths = [line.over(run.model.place(p.x, p.y, p.heading).point("front")) for p in poses]

    def at(t: float) -> float:
        i = min(max(next((k for k, x in enumerate(times) if x >= t), len(times) - 1), 1), len(times) - 1)
        k = (t - times[i - 1]) / (times[i] - times[i - 1])
        return depths[i - 1] + (depths[i] - depths[i - 1]) * k

    return at


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300, help="random cases per cell")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    model = demo_course().vehicle("E-01")
    tan = math.tan(math.radians(RULES.measure("heading_noise")))
    print(f"rule set {RULES.id}: line_margin {RULES.measure('line_margin')} m, heading_noise "
          f"{RULES.measure('heading_noise')}°, line_confirm_fixes {RULES.measure('line_confirm_fixes'):g}; "
          f"E margins: front {1000 * (0.02 + model.lever_arm('front') * tan):.1f} mm, "
          f"rear {1000 * (0.02 + model.lever_arm('rear') * tan):.1f} mm")
    started = time.process_time()
    riding(args.cases, rng)
    arriving(args.cases, rng)
    grazing(max(args.cases // 4, 20), rng)
    decision_depth(max(args.cases // 3, 20), rng)
    print(f"({time.process_time() - started:.0f} s CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

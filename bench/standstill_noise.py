"""False line events and 后溜 at a standstill, and line detection depth when creeping, under GNSS noise.

Issue 11 item 7. Runs the standstill cases of tests/scoring/test_pose_noise.py (the hill stop,
the start position, a wheel standing just inside the 桩考 boundary line or more than 50 mm past
it) for many seeds with position noise uniform in a 2 cm disc and Gaussian σ = 1 cm per axis,
at 10 Hz and 5 Hz with 10 % of fixes dropped and 15 % null headings, and counts false events
(any deduction where none is due) and misses. Then creeps a wheel over the boundary line below
the standstill speed (0.02–0.07 m/s, where the judge places the mean of the standstill fixes)
and reports the worst true depth past the line reference at the moment the touch was placed
(GA/T 1028.3: 0 … +50 mm).

Run: ``python bench/standstill_noise.py [CASES]`` (default 1000 per noise model)
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.judge import judge_stream  # noqa: E402
from tests.scoring.streams import Run, demo_course, only  # noqa: E402
from tests.scoring.test_pose_noise import (  # noqa: E402
    FAR_PAST, PE_LINE, RULES, beside_the_line, disc, gauss, hill_stop, judged, noisy, start_position,
)


def standstill(cases: int) -> None:
    for noise in (disc, gauss):
        false, missed, rng = 0, 0, random.Random(1)
        for i in range(cases):
            rate = rng.choice([10.0, 5.0])
            kind = rng.choice(["hill", "start", "inside", "past"])
            if kind == "hill":
                case = hill_stop(rate, rng.choice([1.0, 2.5]))
            elif kind == "start":
                case = start_position(rate, rng.choice([1.0, 2.5]))
            elif kind == "inside":
                case = beside_the_line(rate, rng.choice([0.0, -0.005, -0.01, -0.02]))
            else:
                case = beside_the_line(rate, rng.choice([FAR_PAST + 0.001, FAR_PAST + 0.02]))
            rules = [d.rule for d in judged(case, noise, i, rate).deductions]
            if kind == "past":
                missed += rules != ["pile.out_of_line"]
            else:
                false += bool(rules)
        print(f"standstill, {noise.__name__:5} noise: {false} false events and {missed} misses in {cases} cases")


LOW, HIGH = 0.02, 0.07  # m/s: creeping below the standstill speed (stop_speed − speed_noise = 0.08)
SLOPE = 0.1  # the vehicle heads 5.7° toward the line


def creeping(cases: int) -> None:
    worst, best, missed, rng = float("-inf"), float("inf"), 0, random.Random(2)
    for i in range(cases):
        speed, rate = rng.uniform(LOW, HIGH), rng.choice([10.0, 5.0])
        run = Run(only(demo_course(), "E", "e_pile"))
        wheelbase = run.model.wheelbase
        # the rear axle on a line heading SLOPE toward the right boundary line; the front wheel
        # (ahead, nearer the line) 5 cm inside it where the creep begins, 10 cm past where it ends
        def rear_v(u: float, at_u: float = -0.5) -> float:
            return -PE_LINE + 0.05 + SLOPE * wheelbase - SLOPE * (u - at_u)

        run.at("e_pile", -1.5, rear_v(-1.5), point="rear_axle")
        run.heading = (run.item("e_pile").heading + 5.71) % 360
        run.start().follow("e_pile", [(-0.5, rear_v(-0.5))], speed=1.0)
        t0 = run.t
        run.follow("e_pile", [(1.0, rear_v(1.0))], speed=speed)  # the front axle stays short of pole 1
        line = next(line for line in run.item("e_pile").boundary_lines if line.name == "right")
        clean = {o.t: o for o in run.obs if o.kind == "pose"}
        obs = noisy(run.obs, t0, gauss if i % 2 else disc, random.Random(i), rate=rate)
        result = judge_stream(obs, run.course, RULES)
        touches = [d for d in result.deductions if d.rule == "pile.out_of_line"]
        if not touches:
            missed += 1
            continue
        pose = clean[min(t for t in clean if t >= touches[0].t - 1e-9)]
        placed = run.model.place(pose.x, pose.y, pose.heading)
        depth = max(line.over(placed.point(w)) for w in run.model.wheel_names)
        worst, best = max(worst, depth), min(best, depth)
    print(f"creeping over the line at {LOW}–{HIGH} m/s (placed at the standstill mean), {cases} cases, "
          f"{missed} missed: true depth at the first fix at or after the placed touch "
          f"{best * 1000:.1f} … {worst * 1000:.1f} mm")


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    standstill(n)
    creeping(max(n // 5, 20))

"""Vision line sensors against ground truth: hit rate, false triggers, onset timing error.

Every scripted attempt of the demo course is filmed by the simulated camera
from above (640×360, 8 px per metre); a line sensor on each item's entry and
exit line and the hill's stake line is compared with the moments the vehicle's
true outline touched that line.

    python bench/video_vision.py --fps 15
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examroom.simulation.scenarios import scenario, scenario_names  # noqa: E402
from examroom.simulation.vision_truth import evaluate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=15.0)
    args = parser.parse_args()
    truth = hits = misses = false = 0
    errors: list[float] = []
    started = time.monotonic()
    frames = 0
    for vehicle_class in ("E", "C4"):
        for name in scenario_names(vehicle_class):
            sc = scenario(vehicle_class, name)
            frames += int(sc.duration * args.fps)
            for report in evaluate(sc, fps=args.fps):
                truth += len(report.truth)
                hits += report.hits
                misses += report.misses
                false += report.false_triggers
                errors += report.onset_errors
                if report.misses or report.false_triggers:
                    print(f"  {vehicle_class} {name} {report.element}: misses {report.misses}, "
                          f"false {report.false_triggers}")
    took = time.monotonic() - started
    absolute = sorted(abs(e) for e in errors)
    print(f"vision line sensors at {args.fps:g} fps: {hits}/{truth} crossings seen "
          f"(hit rate {hits / truth:.1%}), {misses} misses, {false} false triggers")
    print(f"onset error (sensor - truth): median {statistics.median(errors) * 1000:+.0f} ms, "
          f"median |error| {statistics.median(absolute) * 1000:.0f} ms, p95 |error| "
          f"{absolute[int(len(absolute) * 0.95) - 1] * 1000:.0f} ms, max {absolute[-1] * 1000:.0f} ms "
          f"(one frame = {1000 / args.fps:.0f} ms)")
    print(f"render + sense: {frames / took:.0f} frames/s on one thread")


if __name__ == "__main__":
    main()

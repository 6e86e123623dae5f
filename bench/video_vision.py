"""Vision line sensors against ground truth: hit rate, false triggers, onset timing error.

Every scripted attempt of the demo course is filmed by the simulated camera
from above (640×360, 8 px per metre); a line sensor on each item's entry and
exit line and the hill's stake line is compared with the moments the vehicle's
true outline touched that line.

    python bench/video_vision.py --fps 15
    python bench/video_vision.py --weather            # per condition: clear, fog, rain, dusk, night, ...
    python bench/video_vision.py --weather --scenarios clean,hill_rollback --conditions fog,shake

``--weather`` films the chosen scenarios of both classes in each condition of
:mod:`examroom.simulation.weather`, the background learnt in clear air before
the weather arrives, and prints per condition the hit rate and false events,
or, for a drop or dirt landing on a line, the time until the sensor named the
fault and the events it reported after the hit (each one false).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from examroom.simulation.scenarios import scenario, scenario_names  # noqa: E402
from examroom.simulation.vision_truth import evaluate, run  # noqa: E402
from examroom.simulation.weather import CONDITIONS, OBSTRUCTIONS  # noqa: E402


def weather_table(fps: float, names: list[str], conditions: list[str], seed: int,
                  classes: tuple[str, ...] = ("E", "C4")) -> None:
    print(f"{'condition':<9} {'crossings':>9} {'hits':>5} {'hit rate':>8} {'false':>5} {'refused':>8} "
          f"{'fault after':>11} {'events after hit':>16}  {'cpu ms/frame':>13}  faults")
    for condition in conditions:
        truth = hits = false = frames = refused = after = 0
        delays: list[float] = []
        took = 0.0
        faults: dict[str, int] = {}
        for vehicle_class in classes:
            for name in names:
                ev = run(scenario(vehicle_class, name), condition, fps=fps, seed=seed)
                frames += ev.frames
                refused += ev.fault_frames
                took += ev.seconds
                for reason, n in ev.faults.items():
                    faults[reason] = faults.get(reason, 0) + n
                for report in ev.reports:
                    # Once the lens is hit, only the crossings before count: after it the camera cannot see.
                    counted = [i for i in report.truth if ev.lens_hit is None or i.on < ev.lens_hit]
                    truth += len(counted)
                    hits += min(report.hits, len(counted)) if ev.lens_hit is not None else report.hits
                    false += report.false_triggers
                after += ev.events_after_hit
                if ev.lens_hit is not None:
                    faulted = ev.fault_at is not None and ev.fault_at >= ev.lens_hit
                    delays.append(ev.fault_at - ev.lens_hit if faulted else float("inf"))
        delay = "" if not delays else ("never" if max(delays) == float("inf") else f"{max(delays):.2f} s")
        reasons = ", ".join(f"{k} ({v})" for k, v in sorted(faults.items(), key=lambda kv: -kv[1]))
        print(f"{condition:<9} {truth:>9} {hits:>5} {hits / max(1, truth):>8.1%} {false:>5} "
              f"{refused / max(1, frames):>8.1%} {delay:>11} "
              f"{after if condition in OBSTRUCTIONS else '':>16}  {took * 1000 / max(1, frames):>13.1f}  {reasons[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=15.0)
    parser.add_argument("--weather", action="store_true", help="the per-condition table")
    parser.add_argument("--scenarios", default="clean,hill_rollback", help="with --weather: scenario names")
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="with --weather")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", default="E,C4", help="with --weather: vehicle classes")
    args = parser.parse_args()
    if args.weather:
        weather_table(args.fps, args.scenarios.split(","), args.conditions.split(","), args.seed,
                      tuple(args.classes.split(",")))
        return
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

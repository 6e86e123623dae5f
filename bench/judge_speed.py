"""How much faster than real time the judge scores a recorded attempt.

Builds a recorded 10-minute attempt of the E motorcycle on the demo course
(config/courses/demo.toml) with the simulation's script engine: the clean
route driven slowly, with the long waits of a real course (the candidate
waiting for the examiner's instruction after the start command, queueing for
the hill and for the bridge, a long hold on the hill). The waits are set so
that the attempt itself — from the start command to the end of the last item,
as the judge reports it — lasts 600 s of scenario time. Perfect devices report
it at 10 Hz GNSS and 20 Hz signal board, as the controller journals it.

The journal is written as JSON Lines to a temporary file, then judged five
times each way:

- judge only: ``scoring.judge.judge_stream`` over the already parsed
  observations;
- parse + judge: ``examroom judge FILE --course config/courses/demo.toml
  --json`` run in-process (``examroom.cli.main.main``), which loads the course and
  rule set, parses the file with ``read_jsonl`` and judges it.

It prints the median wall time of each, the times faster than real time
(attempt duration / wall time) and observations per second, and checks the
verdict is the expected one (clean: 100, passed). It exits non-zero if the
verdict or the attempt's length is wrong; nothing here asserts on timing.

Run: ``.venv/bin/python bench/judge_speed.py``
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from examroom.cli import main as cli  # noqa: E402
from examroom.coursetools.route import Leg, Speeds, plan_route  # noqa: E402
from examroom.simulation.scenarios import (  # noqa: E402
    DEMO_COURSE_PATH, DEMO_MODELS, Expected, Scenario, default_ruleset, demo_course,
)
from examroom.simulation.script import Script  # noqa: E402
from examroom.simulation.sensors import CourseTruth  # noqa: E402
from scoring.judge import judge_stream  # noqa: E402
from scoring.observations import read_jsonl, write_jsonl  # noqa: E402

ATTEMPT_SECONDS = 600.0  # start command to the end of the last item
REPEATS = 5
STEP = 0.05  # s between ground-truth samples: 20 Hz signals, every other one a 10 Hz pose
VEHICLE_CLASS = "E"
ACCEL = 0.6  # m/s², gentle

# Slow, careful driving (the demo scenarios use 1.2–2.5 m/s).
SLOW = Speeds(approach=1.2, pile=1.1, transfer=1.4, hill=1.0, bridge=0.8, finish=1.2)

# Waits (s). The one before the bridge is stretched so the attempt lasts ATTEMPT_SECONDS.
WAIT_FOR_INSTRUCTION = 90.0  # after the start command, before moving off to the pile
QUEUE_FOR_HILL = 150.0  # stopped between the pile and the hill, the hill still occupied
HILL_HOLD = 25.0  # stopped on the hill before moving off: under the 30 s limit
QUEUE_FOR_BRIDGE = 150.0  # first guess; adjusted


def _drive(script: Script, legs: tuple[Leg, ...]) -> None:
    """Drive the legs one after the other from standstill to standstill, not stopping between them."""
    joins = [0.0] + [min(a.speed, b.speed) for a, b in zip(legs, legs[1:])] + [0.0]
    for i, leg in enumerate(legs):
        joins[i + 1] = min(joins[i + 1], 0.9 * math.sqrt(joins[i] ** 2 + 2 * ACCEL * leg.path.length))
    for i in range(len(legs) - 1, -1, -1):
        joins[i] = min(joins[i], 0.9 * math.sqrt(joins[i + 1] ** 2 + 2 * ACCEL * legs[i].path.length))
    for i, leg in enumerate(legs):
        script.drive(leg.path, leg.speed, end_speed=joins[i + 1], accel=ACCEL, decel=ACCEL)


def build_attempt(queue_for_bridge: float) -> Scenario:
    """The long clean attempt, with ``queue_for_bridge`` seconds stopped before the bridge."""
    course = demo_course()
    ruleset = default_ruleset().with_overrides(course.overrides, f"course:{course.name}")
    route = plan_route(course, DEMO_MODELS[VEHICLE_CLASS], ruleset, speeds=SLOW)
    signals = dict(ignition=False, engine=False, starter=False, gear="N", helmet=True,
                   left_footpeg=False, right_footpeg=False)
    x, y, heading = route.start
    script = Script(x, y, heading, signals, lean=True, track=route.track)

    def stop_and_wait(seconds: float) -> None:
        script.set(left_footpeg=False, right_footpeg=False).wait(seconds)  # feet down at a standstill

    def move_off() -> None:
        script.wait(0.3).set(left_footpeg=True, right_footpeg=True)

    script.wait(1.0).start_engine(hold=0.7, crank=0.4).wait(0.5).command("start")
    script.wait(WAIT_FOR_INSTRUCTION).set(gear="1")
    move_off()
    approach, pile, to_hill, climb = route.to_hill
    move_off_leg, to_bridge, bridge, finish = route.from_hill
    _drive(script, (approach, pile))  # stops 1.5 m past the pile's exit line
    stop_and_wait(QUEUE_FOR_HILL)
    move_off()
    _drive(script, (to_hill, climb))  # the fixed-point stop on the hill
    stop_and_wait(HILL_HOLD)
    move_off()
    _drive(script, (move_off_leg,))  # stops 1.5 m past the hill's exit line
    stop_and_wait(queue_for_bridge)
    move_off()
    _drive(script, (to_bridge, bridge, finish))
    stop_and_wait(1.0)
    return Scenario(name="long_clean", vehicle_class=VEHICLE_CLASS, vehicle_model=route.vehicle.id,
                    description="A clean attempt of ten minutes: slow driving and long waits.",
                    course=course, timeline=script.compile(), sensors=CourseTruth(course, route.vehicle),
                    expected=Expected.of(ruleset, ()))


def attempt_length(observations) -> float | None:
    """Seconds from the start command to the end of the attempt, as the judge says."""
    result = judge_stream(observations, demo_course(), default_ruleset())
    if result.started_t is None or result.finished_t is None:
        return None
    return result.finished_t - result.started_t


def ten_minute_attempt() -> tuple[Scenario, list]:
    """The attempt and its observation stream, its waits set so it lasts ATTEMPT_SECONDS."""
    wait = QUEUE_FOR_BRIDGE
    for _ in range(4):
        sc = build_attempt(wait)
        stream = list(sc.observations(step=STEP))
        length = attempt_length(stream)
        if length is None:
            break
        if abs(length - ATTEMPT_SECONDS) < STEP / 2:
            # The record of the attempt: from its start command to its end, nothing after.
            end = judge_stream(stream, demo_course(), default_ruleset()).finished_t
            return sc, [obs for obs in stream if obs.t <= end + 1e-9]
        wait = round(wait + ATTEMPT_SECONDS - length, 2)
        if wait <= 0:
            break
    raise SystemExit(f"judge_speed: could not make the attempt last {ATTEMPT_SECONDS:.0f} s "
                     f"(last try: {length} s)")


def _median_time(run, repeats: int = REPEATS):
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), value


def main() -> int:
    t0 = time.perf_counter()
    sc, stream = ten_minute_attempt()
    built = time.perf_counter() - t0
    failures: list[str] = []

    with tempfile.TemporaryDirectory(prefix="judge_speed-") as folder:
        trace = Path(folder) / "attempt.jsonl"
        with open(trace, "w", encoding="utf-8") as out:
            out.writelines(write_jsonl(stream))
        size = trace.stat().st_size
        with open(trace, encoding="utf-8") as lines:
            parsed = list(read_jsonl(lines, str(trace)))
        count = len(parsed)
        course, ruleset = demo_course(), default_ruleset()

        judge_time, result = _median_time(lambda: judge_stream(parsed, course, ruleset))

        def examroom_judge() -> tuple[int, str]:
            captured = io.StringIO()
            with contextlib.redirect_stdout(captured):
                code = cli.main(["judge", str(trace), "--course", str(DEMO_COURSE_PATH), "--json"])
            return code, captured.getvalue()

        cli_time, (code, text) = _median_time(examroom_judge)

    duration = result.finished_t - result.started_t
    print(f"attempt: E {sc.vehicle_model} on {course.name}, clean route driven slowly with long waits; "
          f"built in {built:.1f} s")
    print(f"attempt: {duration:.1f} s from the start command to the end of the last item; "
          f"items {', '.join(f'{i.id} {i.started_t - result.started_t:.1f}–{i.finished_t - result.started_t:.1f} s' for i in result.items)}")
    print(f"journal: {count} observations, start command to end of attempt, "
          f"{size / 1e6:.1f} MB JSON Lines, 10 Hz GNSS / 20 Hz signals")
    print(f"judge: 10-minute attempt ({count} observations) judged in {judge_time:.3f} s "
          f"= {duration / judge_time:.0f}× real time, {count / judge_time:,.0f} observations/s "
          f"(judge_stream on parsed observations, median of {REPEATS})")
    print(f"judge: 10-minute attempt ({count} observations) parsed and judged in {cli_time:.3f} s "
          f"= {duration / cli_time:.0f}× real time, {count / cli_time:,.0f} observations/s "
          f"(examroom judge FILE --json in-process, median of {REPEATS})")

    expected = sc.expected
    rules = tuple(d.rule for d in result.deductions)
    if (result.score, result.passed, rules) != (expected.score, expected.passed, expected.rules):
        failures.append(f"judge_stream: score {result.score}, passed {result.passed}, deductions {rules}; "
                        f"expected {expected.score}, {expected.passed}, {expected.rules}")
    if abs(duration - ATTEMPT_SECONDS) >= STEP / 2:
        failures.append(f"attempt lasts {duration:.2f} s, not {ATTEMPT_SECONDS:.0f} s")
    report = json.loads(text) if code == 0 else None
    if report is None:
        failures.append(f"examroom judge exited with {code}")
    elif (report["score"], report["passed"], [d["rule"] for d in report["deductions"]]) != (
            expected.score, expected.passed, list(expected.rules)):
        failures.append(f"examroom judge: score {report['score']}, passed {report['passed']}, "
                        f"deductions {[d['rule'] for d in report['deductions']]}")
    if failures:
        for failure in failures:
            print(f"judge_speed: WRONG RESULT: {failure}", file=sys.stderr)
        return 1
    print(f"result: score {result.score}, {'passed' if result.passed else 'failed'} "
          f"({result.status.value}), as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())

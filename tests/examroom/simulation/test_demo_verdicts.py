"""Every demo script gets its expected verdict through the devices' imperfect timing (issue 11 item 10).

The demo drives its scripts through device twins on a shared clock; on a loaded host the
scenario driver runs late, each twin reports the state it was last shown, the course board is
polled and every reading reaches the judge a little late. :func:`device_observations` gives
that stream, seeded, without pseudo-terminals; the judge must give each script's expected
verdict under every seed. Before the judge allowed for the skew between a deck switch and the
fixes (measurement.deck_switch_skew), the clean E run scored 90 and the stall run 80 with a
``bridge.wheel_dropped`` now and then, as in the demo.
"""

import functools

import pytest

from examroom.simulation.observe import device_observations
from examroom.simulation.scenarios import default_ruleset, scenario, scenario_keys
from scoring.judge import judge_stream
from scoring.rules import Overrides

SEEDS = range(5)  # bench/demo_verdicts.py runs many more
MAX_LAG = 0.1  # s: how late the demo's driver shows a sample on a loaded host (4× speed)
SCENARIOS = scenario_keys()  # names: no route planned at collection, in every worker


@functools.lru_cache(maxsize=None)
def samples(vehicle_class, name):
    return tuple(scenario(vehicle_class, name).samples(0.05))


def device_stream(vehicle_class, name, seed):
    sc = scenario(vehicle_class, name)
    return device_observations(samples(vehicle_class, name), seed=seed, vehicle=sc.vehicle,
                               vehicle_class=sc.vehicle_class, vehicle_model=sc.vehicle_model, max_lag=MAX_LAG)


@pytest.mark.parametrize("vehicle_class,name", SCENARIOS)
def test_every_demo_script_gets_its_verdict_under_every_seed(vehicle_class, name):
    sc = scenario(vehicle_class, name)
    for seed in SEEDS:
        result = judge_stream(device_stream(vehicle_class, name, seed), sc.course, default_ruleset())
        got = (tuple(d.rule for d in result.deductions), result.score, result.passed)
        assert got == (sc.expected.rules, sc.expected.score, sc.expected.passed), (seed, result.deductions)


def test_the_device_stream_is_imperfect_and_seeded():
    a, b = device_stream("E", "clean", 1), device_stream("E", "clean", 2)
    assert a == device_stream("E", "clean", 1) and a != b
    times = [o.t for o in a]
    assert times != sorted(times)  # devices interleave out of time order now and then
    poses = [o.t for o in a if o.kind == "pose"]
    assert poses == sorted(poses)  # one device's readings stay in order


def test_without_the_switch_skew_the_demo_defect_comes_back():
    """The cause, shown: judged as if the deck switch and the fixes agreed to the millisecond, a
    wheel rolling off the deck's end is a drop under some seeds (the demo's clean 90, stall 80)."""
    exact = default_ruleset().with_overrides(
        Overrides(measurement={"deck_switch_skew": 0.0}, source="test: no skew allowed"), "course:test")
    sc = scenario("E", "clean")
    results = [judge_stream(device_stream("E", "clean", seed), sc.course, exact) for seed in range(10)]
    dropped = [r for r in results if [d.rule for d in r.deductions] == ["bridge.wheel_dropped"]]
    assert dropped and all(r.score == 90 for r in dropped)

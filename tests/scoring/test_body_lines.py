"""The one body-past-a-line measure (scoring.body_lines), shared by the hill judge and the route planner."""

import pytest

from scoring.body_lines import body_beyond
from scoring.geometry import Line
from scoring.vehicle import build_vehicle

# A 3.0 × 1.2 m body, rear overhang 0.5 m, antenna on the rear axle, heading north (0°: +y).
BODY = build_vehicle("t", "C4", "three_wheeler", 3.0, 1.2, 2.0, track=1.0, rear_overhang=0.5)


def _edge(x: float, reference: str = "centre") -> Line:
    """A north-south line at ``x``, the vehicle belonging on its west (smaller x) side."""
    return Line("edge", ((x, -10.0), (x, 10.0)), width=0.2, reference=reference).oriented_towards((x - 5.0, 0.0))


@pytest.mark.parametrize("x, expected", [(1.0, -0.4), (0.6, 0.0), (0.5, 0.1)])
def test_the_furthest_corner_of_the_body_measures_the_gap_or_the_reach(x, expected):
    placed = BODY.place(0.0, 0.0, 0.0)  # body from x -0.6 to +0.6
    assert body_beyond(placed, _edge(x)) == pytest.approx(expected)


def test_the_line_judged_by_its_inner_edge_is_reached_a_half_width_sooner():
    placed = BODY.place(0.0, 0.0, 0.0)
    assert body_beyond(placed, _edge(1.0, "inner_edge")) == pytest.approx(-0.4 + 0.1)


def test_a_turned_body_reaches_with_its_corner():
    placed = BODY.place(0.0, 0.0, 90.0)  # heading east: the front corners reach x = 2.5
    assert body_beyond(placed, _edge(3.0)) == pytest.approx(-0.5)

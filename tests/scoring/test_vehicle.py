"""Vehicle models and their placement on the course."""

import math

import pytest

from scoring.geometry import Line, forward, leftward
from scoring.vehicle import VehicleError, build_vehicle
from tests.scoring.streams import demo_course


def test_default_points_by_kind():
    bike = build_vehicle("b", "E", "two_wheeler", 1.905, 0.75, 1.25)
    assert bike.wheels == {"front": (1.25, 0.0), "rear": (0.0, 0.0)}
    trike = build_vehicle("t", "C4", "three_wheeler", 3.2, 1.3, 2.1, track=1.1)
    assert trike.wheels == {"front": (2.1, 0.0), "rear_left": (0.0, 0.55), "rear_right": (0.0, -0.55)}
    sidecar = build_vehicle("s", "D", "sidecar", 3.05, 1.6, 2.0, track=1.2)
    assert set(sidecar.wheels) == {"front", "rear_left", "side"}
    assert sidecar.wheels["front"][1] == sidecar.wheels["rear_left"][1] > 0 > sidecar.wheels["side"][1]
    assert trike.local_point("front_bumper") == pytest.approx((3.2 - 0.55, 0.0))
    assert trike.local_point("front_axle") == (2.1, 0.0)


def test_place_from_the_antenna():
    model = demo_course().vehicle("C4-01")  # antenna 1.0 m ahead of the rear axle
    placed = model.place(10.0, 20.0, 90.0)  # heading east
    assert placed.point("antenna") == pytest.approx((10.0, 20.0))
    assert placed.point("rear_axle") == pytest.approx((9.0, 20.0))
    assert placed.point("front_axle") == pytest.approx((11.1, 20.0))
    assert placed.point("rear_left") == pytest.approx((9.0, 20.55))  # left of east is north
    assert placed.outline.area == pytest.approx(3.2 * 1.3)
    minx, miny, maxx, maxy = placed.outline.bounds
    assert (minx, maxx) == pytest.approx((9.0 - 0.55, 9.0 + 2.65))


def test_antenna_for_inverts_place():
    model = demo_course().vehicle("E-01")
    x, y = model.antenna_for("front_axle", 3.0, 4.0, 37.0)
    assert model.place(x, y, 37.0).point("front_axle") == pytest.approx((3.0, 4.0))


def test_explicit_outline_and_wheels():
    model = build_vehicle("b", "E", "two_wheeler", 2.0, 0.8, 1.3, outline=((-0.3, 0), (1.6, -0.4), (1.6, 0.4)),
                          wheels={"front": (1.3, 0.01), "rear": (0.0, 0.0)}, antenna=(0.5, 0.0))
    assert len(model.outline) == 3 and model.wheels["front"] == (1.3, 0.01)


@pytest.mark.parametrize("kwargs,message", [
    (dict(kind="car"), "kind: unknown kind"),
    (dict(vehicle_class="C1"), "class: unknown class"),
    (dict(length=-1.0), "length: must be positive"),
    (dict(wheels={"front": (1.0, 0.0)}), r"wheels: .*missing \['rear'\]"),
])
def test_bad_vehicle(kwargs, message):
    args = dict(id="b", vehicle_class="E", kind="two_wheeler", length=1.905, width=0.75, wheelbase=1.25) | kwargs
    with pytest.raises(VehicleError, match=message):
        build_vehicle(**args)


def test_headings_are_clockwise_from_north():
    assert forward(0.0) == pytest.approx((0.0, 1.0))
    assert forward(90.0) == pytest.approx((1.0, 0.0))
    assert leftward(90.0) == pytest.approx((0.0, 1.0))


def test_line_reference_centre_or_inner_edge():
    centre = Line("l", ((0.0, 0.0), (10.0, 0.0)), width=0.15, reference="centre").oriented_towards((5.0, 1.0))
    inner = Line("l", ((0.0, 0.0), (10.0, 0.0)), width=0.15, reference="inner_edge").oriented_towards((5.0, 1.0))
    assert centre.beyond((5.0, 0.01)) < 0 < centre.beyond((5.0, -0.01))
    assert inner.beyond((5.0, 0.08)) < 0 < inner.beyond((5.0, 0.07))
    assert math.isclose(inner.beyond((5.0, 0.075)), 0.0, abs_tol=1e-12)


def test_crossing_is_interpolated_and_never_early():
    line = Line("entry", ((0.0, -1.0), (0.0, 1.0))).oriented_towards((1.0, 0.0))
    assert line.crossed((-0.3, 0.0), (0.1, 0.0)) == pytest.approx(0.75)
    assert line.crossed((-0.3, 0.0), (-0.1, 0.0)) is None  # not there yet
    assert line.crossed((0.1, 0.0), (-0.3, 0.0)) is None  # backwards
    assert line.crossed((-0.3, 3.0), (0.1, 3.0)) is None  # beside the line's extent

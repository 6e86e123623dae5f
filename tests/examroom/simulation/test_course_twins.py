"""The GNSS twin follows its scenario at each epoch's own time, not at the last sample shown."""

from datetime import datetime, timezone

import pytest

from devices.links import LinkCable
from devices.readings import ManualClock
from examroom.simulation.course_twins import SimulatedCourse
from examroom.simulation.demo import DEMO_VEHICLES
from examroom.simulation.scenarios import demo_course, scenario

ORIGIN = 1000.0


@pytest.fixture
def twins():
    clock = ManualClock(start_utc=datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc), start_mono=ORIGIN)
    sim = SimulatedCourse(demo_course(), list(DEMO_VEHICLES), clock, cable=LinkCable)
    vehicle = next(v for v in DEMO_VEHICLES if sim.course.vehicle(v.model).vehicle_class == "E")
    return sim, vehicle.id


def test_the_gnss_reports_the_scenario_at_the_epochs_time_whatever_sample_was_shown(twins):
    sim, vehicle = twins
    sc = scenario("E", "clean")
    sim.follow(vehicle, sc.timeline.state, ORIGIN, sc.duration)
    sim.show(vehicle, sc.state(8.5))  # the driver is late: the sample shown is 0.1 s old
    truth = sim.vehicles[vehicle].gnss.current(ORIGIN + 8.6)
    assert truth.heading == pytest.approx(sc.timeline.state(8.6).heading)
    assert truth.heading != pytest.approx(sc.state(8.5).vehicle.heading)  # it turns there
    # Held at the end of the drive: where the GNSS last was, whatever the clock says.
    sim.hold(vehicle)
    assert sim.vehicles[vehicle].gnss.current(ORIGIN + 20.0) == truth


def test_without_a_scenario_the_gnss_reports_what_was_shown(twins):
    sim, vehicle = twins
    shown = scenario("E", "clean").state(0.0)
    sim.show(vehicle, shown)
    assert sim.vehicles[vehicle].gnss.current(ORIGIN + 5.0).heading == pytest.approx(shown.vehicle.heading)

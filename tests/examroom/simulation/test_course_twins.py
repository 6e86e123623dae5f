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


def _poll(sim) -> dict[str, bool]:
    """Poll the course board twin as the driver does (function 02, every input); its answer by element."""
    from pymodbus.framer.rtu import FramerRTU
    from pymodbus.pdu import DecodePDU
    from pymodbus.pdu.bit_message import ReadDiscreteInputsRequest

    request = ReadDiscreteInputsRequest(address=0, count=len(sim.elements), dev_id=sim.board.unit)
    _, reply = FramerRTU(DecodePDU(False)).handleFrame(sim.board.answer(FramerRTU(DecodePDU(False)).buildFrame(request)),
                                                       0, 0)
    return dict(zip(sim.elements, reply.bits))


def test_the_boards_read_the_scenario_when_they_sample_however_late_the_driver_shows_it(twins):
    """A driver thread the host starves shows its samples late (here: only the first). The signal
    board and the course board still send the world at their own time, as the GNSS does: a gear,
    a footpeg or a pole that lags the position is a vehicle no course has (a clean attempt was
    judged coasting in neutral, or a foot put down, when the demo's driver fell behind)."""
    sim, vehicle = twins
    sc = scenario("E", "pole_touch")
    sim.follow(vehicle, sc.timeline.state, ORIGIN, sc.duration, sensors=sc.sensor_state)
    sim.show(vehicle, sc.state(0.0))
    signals = sim.vehicles[vehicle].signals
    own = set(sc.sensors.elements)
    gears, touched = set(), 0
    for k in range(int(sc.duration / 0.05)):
        t = k * 0.05
        sim.clock.advance_to(ORIGIN + t)
        truth = sc.timeline.state(t)
        sent = signals.source()
        assert (sent.gear, sent.flags & signals.present) == (
            truth.gear, {n for n in signals.present if getattr(truth, n, False)}), t
        expected = sc.sensor_state(t)
        assert {e: v for e, v in _poll(sim).items() if e in own} == expected, t
        gears.add(sent.gear)
        touched += any(expected.values())
    assert len(gears) > 1 and touched > 0  # the drive changes gear and touches a pole: the check has teeth
    # Held where the script stopped: the boards keep what was last shown, and the sensors are the driver's.
    sim.hold(vehicle)
    sim.clock.advance_to(ORIGIN + sc.duration + 5.0)
    assert sim.truth(vehicle) == sc.state(0.0).vehicle

"""The GNSS twin sends each epoch's truth for that epoch's own time."""

from datetime import datetime, timezone

import pytest

from devices.gnss import GnssSimulator, GnssTruth
from devices.readings import ManualClock

pytestmark = pytest.mark.own_clock  # a manual clock and loop://: no port, child process or thread

T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=timezone.utc)


def test_an_at_epoch_source_is_asked_for_the_epochs_own_time():
    clock = ManualClock(start_utc=T0, start_mono=1000.0)
    asked = []
    sim = GnssSimulator("loop://", lambda mono: asked.append(mono) or GnssTruth(30.0, 114.0, heading=90.0),
                        clock=clock, at_epoch=True)
    clock.advance_to(1000.137)  # 37 ms after the epoch of 08:00:00.10 began
    sim.tick()
    assert asked == [pytest.approx(1000.1)]
    sent = sim._serial.read(sim._serial.in_waiting).decode()
    assert "$GNGGA,080000.10," in sent


def test_a_source_without_time_is_asked_as_before():
    clock = ManualClock(start_utc=T0, start_mono=1000.0)
    sim = GnssSimulator("loop://", lambda: None, clock=clock)
    clock.advance_to(1000.137)
    sim.tick()  # nothing to send: silent, and the epoch is not used up
    sim.source = lambda: GnssTruth(30.0, 114.0)
    sim.tick()
    assert "$GNGGA,080000.10," in sim._serial.read(sim._serial.in_waiting).decode()

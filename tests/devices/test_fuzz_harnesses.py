"""The fuzz harnesses at a quick size (the long runs are ``bench/fuzz_serial.py``).

Hypothesis builds the inputs: streams in any sentence order, damaged by a
few substituted, inserted or deleted bytes, split anywhere; Modbus replies
as they arrive for a request (right or any bytes); signal-board streams.
Every run must raise nothing and give no false reading. The Modbus client is
also polled against a foreign pymodbus server behind a misbehaving cable.
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from devices.courseboard.driver import CourseBoardDriver
from devices.signalboard.protocol import GEARS, MOTORCYCLE
from tests.devices.fuzz_harness import (GNSS_TYPES, modbus_false_reading, modbus_reply, nmea_false_fixes,
                                        signal_false_frames)
from tests.devices.mutation import MUTATIONS

# derandomize: the suite runs the same examples every time; the long, random runs are the bench.
QUICK = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
damage = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from(MUTATIONS)), max_size=2)
cuts = st.lists(st.integers(0, 10**6), max_size=12)
epoch_values = st.tuples(st.sampled_from([0.0, 0.5, 3.25, 12.0]), st.sampled_from([0.0, 45.5, 359.0]),
                         st.sampled_from([0.0, 90.25, 271.0]), st.sampled_from([1, 4, 5]))


@QUICK
@given(st.permutations(GNSS_TYPES).flatmap(lambda p: st.integers(1, 4).map(lambda n: tuple(p[:n]))),
       st.lists(epoch_values, min_size=6, max_size=12), damage, cuts, st.booleans())
def test_nmea_decoder_in_any_order_never_gives_a_false_fix(order, values, dmg, cut, timed):
    fixes, false = nmea_false_fixes(order, values, dmg, cut, timed)
    assert false == 0


@QUICK
@given(st.lists(st.booleans(), min_size=16, max_size=16), st.integers(1, 247),
       st.one_of(damage.map(lambda d: ("damage", d)), st.binary(max_size=40).map(lambda b: ("bytes", b)),
                 st.binary(max_size=8).map(lambda b: ("append", b))))
def test_modbus_client_accepts_only_the_exact_reply(bits, unit, received):
    from tests.devices.fuzz_harness import _damage

    drv = CourseBoardDriver("fuzz://", unit=1, count=16)
    sent = modbus_reply(bits)
    how, what = received
    data = _damage(modbus_reply(bits, unit), what) if how == "damage" else \
        what if how == "bytes" else sent + what
    assert not modbus_false_reading(drv, sent, bits, data)
    if data == sent:
        assert drv.judge(data)[0] == "ok"


@QUICK
@given(st.lists(st.tuples(st.frozensets(st.sampled_from(sorted(MOTORCYCLE))), st.sampled_from(GEARS[:-1]),
                          st.integers(-300, 300).map(lambda r: r / 10)), min_size=1, max_size=20),
       damage, cuts)
def test_signal_board_reader_never_gives_a_false_frame(states, dmg, cut):
    frames, false = signal_false_frames(states, dmg, cut)
    assert false == 0


@pytest.mark.parametrize("variant", ["counter", "offset_map", "other_unit"])
def test_modbus_client_against_a_foreign_pymodbus_board(variant):
    from tests.devices.courseboard.foreign import run_foreign

    figures = run_foreign(variant, seconds=1.0, seed=11)
    assert figures["driver_exceptions"] == 0 and figures["false_readings"] == 0
    assert figures["replies_from_peer"] >= 6
    if variant == "counter":
        assert figures["readings"] >= 1 and sum(figures["rejected"].values()) >= 1
    else:
        assert figures["readings"] == 0 and figures["exception_replies"] >= 1

"""The fuzz harnesses at a quick size (the long runs are ``bench/fuzz_serial.py``).

Hypothesis builds the inputs: streams in any sentence order, damaged by a
few substituted, inserted or deleted bytes, split anywhere; Modbus replies
as they arrive for a request (right or any bytes); signal-board streams.
Every run must raise nothing and give no false reading. The Modbus client is
also polled against a foreign pymodbus server behind a misbehaving cable.

The NMEA decoder also gets the damage an 8-bit XOR checksum cannot see (two
equal characters lost from one sentence), which random damage makes too
rarely for a quick run to meet, and every input on which the long bench run
once found a false fix (``NMEA_FOUND``).
"""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from devices.courseboard.driver import CourseBoardDriver
from devices.signalboard.protocol import GEARS, MOTORCYCLE
from tests.devices.fuzz_harness import (GNSS_TYPES, modbus_false_reading, modbus_reply, nmea_false_fixes,
                                        signal_false_frames)
from tests.devices.fuzz_harness import drives as fuzz_drives
from tests.devices.mutation import MUTATIONS

# derandomize: the suite runs the same examples every time; the long, random runs are the bench.
QUICK = settings(max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
damage = st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255), st.sampled_from(MUTATIONS)), max_size=2)
cuts = st.lists(st.integers(0, 10**6), max_size=12)
drives = fuzz_drives()  # a vehicle's epochs: any start, then what a vehicle can do


@QUICK
@given(st.permutations(GNSS_TYPES).flatmap(lambda p: st.integers(1, 4).map(lambda n: tuple(p[:n]))),
       drives, damage, cuts, st.booleans())
def test_nmea_decoder_in_any_order_never_gives_a_false_fix(order, values, dmg, cut, timed):
    fixes, false = nmea_false_fixes(order, values, dmg, cut, timed)
    assert false == 0


# Inputs on which bench/fuzz_serial.py (seed 1) found false fixes before the decoder was made
# strict: (order, values, damage, cuts, timed). The classes: two equal characters lost from one
# sentence (the XOR does not change) leaving a time, date, position, HDOP, speed or altitude
# that pynmea2 still reads (``08000.10``, ``01524``, ``3000.000600``, ``.70``, ``23326``), some
# in a stream's first sentences with nothing yet to compare them with; and a VTG/HDT tied to the
# epoch before its own when the sentences between (that epoch's own VTG and the next GGA/RMC)
# were lost.
NMEA_FOUND = [
    (('GGA',), [(0.5, 359.0, 0.0, 1), (0.0, 359.0, 90.25, 1), (3.25, 45.5, 0.0, 1), (0.5, 359.0, 271.0, 5), (0.5, 0.0, 0.0, 4), (12.0, 359.0, 90.25, 4), (3.25, 45.5, 0.0, 4), (12.0, 45.5, 271.0, 4), (0.0, 359.0, 0.0, 4), (3.25, 0.0, 271.0, 5), (12.0, 0.0, 271.0, 4), (0.5, 0.0, 90.25, 1)], [(790796, 106, 'del'), (515594, 15, 'del')], [929839, 354046, 513368, 308742, 485048, 525824, 384307], True),  # 289
    (('GGA', 'VTG'), [(0.5, 359.0, 90.25, 4), (3.25, 45.5, 271.0, 4), (3.25, 45.5, 0.0, 5), (12.0, 359.0, 90.25, 5), (12.0, 0.0, 90.25, 4), (0.5, 0.0, 0.0, 5), (0.5, 359.0, 0.0, 5), (0.0, 359.0, 271.0, 1), (12.0, 0.0, 0.0, 5), (0.5, 0.0, 0.0, 5)], [(670763, 185, 'ins'), (896320, 3, 'sub')], [201021, 169789, 132762, 458981, 931500, 14922, 917262, 856683, 115787, 117202, 506612, 475213], False),  # 1618
    (('RMC',), [(3.25, 0.0, 90.25, 5), (3.25, 359.0, 90.25, 5), (12.0, 0.0, 0.0, 5), (12.0, 0.0, 90.25, 1), (3.25, 0.0, 0.0, 5), (0.0, 359.0, 0.0, 4), (3.25, 359.0, 271.0, 5), (12.0, 359.0, 0.0, 4)], [(917789, 228, 'del'), (183940, 231, 'del')], [264582, 753497, 258977, 527918, 94081, 935611, 313528], True),  # 5871
    (('GGA',), [(0.0, 45.5, 0.0, 5), (0.0, 359.0, 271.0, 5), (3.25, 45.5, 90.25, 4), (0.0, 0.0, 90.25, 4), (0.5, 45.5, 90.25, 4), (12.0, 359.0, 0.0, 5), (3.25, 359.0, 271.0, 5), (0.0, 45.5, 271.0, 1), (0.5, 359.0, 0.0, 5), (3.25, 0.0, 271.0, 4), (12.0, 0.0, 90.25, 1), (3.25, 45.5, 271.0, 5), (0.0, 0.0, 271.0, 4)], [(536155, 43, 'del'), (489698, 63, 'del')], [451916, 550609, 662486, 923362, 974800, 244330, 671962], True),  # 11813
    (('RMC',), [(0.5, 0.0, 0.0, 1), (3.25, 359.0, 0.0, 1), (0.0, 0.0, 0.0, 1), (12.0, 359.0, 0.0, 4), (12.0, 359.0, 0.0, 1), (0.0, 359.0, 0.0, 1), (3.25, 0.0, 271.0, 5), (12.0, 0.0, 271.0, 5), (12.0, 45.5, 90.25, 4), (12.0, 0.0, 0.0, 4), (0.5, 45.5, 271.0, 4), (3.25, 45.5, 0.0, 1), (12.0, 359.0, 90.25, 5), (3.25, 359.0, 90.25, 4)], [(999454, 90, 'del'), (721092, 38, 'del')], [489789, 469768, 436298, 209294, 295101], True),  # 14866
    (('RMC',), [(12.0, 45.5, 90.25, 5), (0.0, 0.0, 271.0, 5), (0.0, 0.0, 90.25, 5), (0.0, 45.5, 0.0, 4), (0.0, 359.0, 271.0, 4), (3.25, 0.0, 271.0, 1), (3.25, 0.0, 0.0, 1)], [(895474, 247, 'del'), (365603, 236, 'del')], [682413, 381367, 82271, 675060], True),  # 15754
    (('VTG', 'HDT', 'GGA', 'RMC'), [(0.0, 45.5, 271.0, 5), (12.0, 359.0, 271.0, 5), (0.5, 359.0, 90.25, 5), (0.5, 0.0, 90.25, 5), (12.0, 45.5, 0.0, 4), (0.5, 0.0, 90.25, 4), (0.5, 0.0, 90.25, 1)], [(742620, 171, 'del'), (295755, 49, 'del')], [399028, 958179, 987362], True),  # 16355
    (('GGA', 'VTG'), [(3.25, 45.5, 90.25, 5), (0.0, 0.0, 90.25, 1), (0.5, 359.0, 271.0, 1), (3.25, 0.0, 271.0, 5), (0.0, 45.5, 271.0, 5), (0.5, 359.0, 0.0, 5), (0.5, 359.0, 271.0, 5), (0.5, 45.5, 0.0, 1)], [(827351, 179, 'ins'), (869901, 246, 'del')], [658604, 28503], False),  # 17119
    (('GGA',), [(3.25, 45.5, 0.0, 5), (12.0, 45.5, 90.25, 1), (0.5, 0.0, 271.0, 1), (3.25, 359.0, 90.25, 4), (12.0, 359.0, 271.0, 1), (3.25, 45.5, 90.25, 5), (0.5, 359.0, 271.0, 5), (0.5, 45.5, 90.25, 4), (3.25, 45.5, 0.0, 4), (12.0, 45.5, 0.0, 1), (0.0, 359.0, 0.0, 4), (3.25, 45.5, 271.0, 4), (0.5, 359.0, 0.0, 5)], [(322534, 20, 'del'), (19718, 237, 'del')], [177056, 421992, 912867, 708006, 162435, 512275], True),  # 19485
    (('GGA',), [(0.0, 359.0, 271.0, 5), (0.0, 359.0, 271.0, 4), (12.0, 359.0, 0.0, 1), (0.0, 359.0, 90.25, 4), (0.0, 359.0, 271.0, 4), (3.25, 0.0, 0.0, 4), (12.0, 359.0, 0.0, 1), (3.25, 0.0, 271.0, 4), (0.5, 359.0, 0.0, 5), (12.0, 359.0, 90.25, 5), (0.0, 45.5, 271.0, 1), (0.5, 359.0, 90.25, 4), (3.25, 0.0, 271.0, 1), (0.0, 0.0, 90.25, 5)], [(837389, 135, 'del'), (644979, 56, 'del')], [381952, 968991, 594208, 236773, 782772, 811620, 630612, 886887, 253750, 933199, 214271, 883709], True),  # 22282
    (('RMC',), [(0.0, 0.0, 90.25, 1), (12.0, 45.5, 90.25, 4), (0.0, 0.0, 271.0, 5), (0.5, 359.0, 0.0, 1), (0.0, 45.5, 271.0, 1), (3.25, 359.0, 90.25, 5), (3.25, 0.0, 0.0, 1), (3.25, 45.5, 90.25, 5), (3.25, 45.5, 271.0, 4), (12.0, 45.5, 271.0, 1), (0.5, 45.5, 271.0, 1), (12.0, 359.0, 0.0, 5), (3.25, 359.0, 0.0, 1), (12.0, 359.0, 90.25, 4)], [(576125, 28, 'del'), (402260, 4, 'del')], [249872, 105590, 841781], True),  # 24361
    (('RMC', 'HDT'), [(0.5, 359.0, 0.0, 4), (0.5, 359.0, 90.25, 5), (0.0, 359.0, 90.25, 4), (0.5, 45.5, 90.25, 1), (12.0, 0.0, 0.0, 4), (0.5, 0.0, 90.25, 5), (0.0, 45.5, 271.0, 4)], [(178937, 156, 'ins'), (946188, 145, 'del')], [175813, 570220, 560520, 980472], False),  # 25143
    (('HDT', 'RMC'), [(12.0, 359.0, 0.0, 4), (12.0, 359.0, 90.25, 1), (3.25, 359.0, 271.0, 5), (3.25, 45.5, 90.25, 1), (0.0, 45.5, 90.25, 4), (0.5, 0.0, 0.0, 5), (12.0, 45.5, 0.0, 4), (0.5, 359.0, 0.0, 5)], [(587387, 72, 'del'), (913609, 95, 'del')], [972276, 484610], True),  # 25259
]


@pytest.mark.parametrize("case", NMEA_FOUND, ids=lambda c: "-".join(c[0]) + ("-timed" if c[4] else ""))
def test_nmea_decoder_false_fixes_the_bench_found(case):
    fixes, false = nmea_false_fixes(*case)
    assert false == 0 and fixes >= 1


@QUICK
@given(st.permutations(GNSS_TYPES).flatmap(lambda p: st.integers(1, 4).map(lambda n: tuple(p[:n]))),
       drives, st.lists(st.integers(0, 10**6), min_size=1, max_size=2),
       cuts, st.booleans())
def test_nmea_decoder_refuses_damage_the_checksum_misses(order, values, blind, cut, timed):
    """Two equal characters lost from a sentence: the framer passes it, the decoder must not."""
    fixes, false = nmea_false_fixes(order, values, [], cut, timed, blind)
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

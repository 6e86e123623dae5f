import pytest
from hypothesis import given, settings, strategies as st

from devices.framing import with_checksum
from devices.signalboard.protocol import (BITS, MOTORCYCLE, THREE_WHEELER, MalformedSentence,
                                          SignalState, decode, encode)
from devices.signalboard.driver import SignalBoardDriver
from datetime import datetime, timezone
from tests.devices.mutation import MUTATIONS, mutate

pytestmark = pytest.mark.own_clock  # no port, child process or thread: runs beside the others

T0 = datetime(2024, 5, 1, tzinfo=timezone.utc)


def test_documented_example():
    s = encode(1234, MOTORCYCLE, SignalState(frozenset({"ignition", "engine", "helmet"}), "N", -1.2))
    assert s == "$EXSIG,1234,7FCF,000B,N,-12*0E"
    d = decode(s)
    assert d.sequence == 1234 and d.flags == {"ignition", "engine", "helmet"}
    assert d.present == MOTORCYCLE and d.gear == "N" and d.roll == -1.2


def test_motorcycle_has_no_seatbelt_and_three_wheeler_no_helmet():
    assert "seatbelt" not in MOTORCYCLE and "helmet" not in THREE_WHEELER
    s = encode(1, MOTORCYCLE, SignalState(frozenset({"seatbelt", "ignition"})))
    assert decode(s).flags == {"ignition"}  # not wired, not sent


def test_no_tilt_sensor_gives_empty_roll():
    s = encode(7, THREE_WHEELER, SignalState(frozenset(), "1", None))
    assert s.split(",")[5].startswith("*") and decode(s).roll is None


@pytest.mark.parametrize("body", [
    "EXSIG,1,00FF,0100,N,0",  # active input not present
    "EXSIG,1,80FF,0001,N,0",  # unknown bit 15
    "EXSIG,1,00FF,0001,7,0",  # gear 7
    "EXSIG,1,00FF,0001,N,901",  # roll out of range
    "EXSIG,65536,00FF,0001,N,0",  # sequence out of range
    "EXSIG,1,00ff,0001,N,0",  # lower-case hex
    "EXSIG,1,00FF,0001,N",  # missing field
    "EXSIG,1,00FF,0001,N,0,9",  # extra field
    "EXSIG,x,00FF,0001,N,0",
])
def test_malformed_fields(body):
    with pytest.raises(MalformedSentence):
        decode(with_checksum(body))


def test_bits_are_stable():
    assert BITS[0] == "ignition" and BITS[3] == "helmet" and BITS[4] == "seatbelt"
    assert BITS[6] == "left_footpeg" and BITS[9] == "right_turn"


STATES = [SignalState(frozenset({"ignition"}), "N", 0.0),
          SignalState(frozenset({"ignition", "engine", "helmet"}), "1", 3.5),
          SignalState(frozenset({"ignition", "engine", "left_turn"}), "2", -4.0)]
SENT = [encode(i, MOTORCYCLE, s) for i, s in enumerate(STATES)]
STREAM = "".join(s + "\r\n" for s in SENT).encode()


def run(data, chunk):
    drv = SignalBoardDriver("unused://")
    out = []
    for i in range(0, len(data), chunk):
        out += drv.feed(data[i:i + chunk], 0.0, T0)
    return out, drv


def test_driver_feed_bad_checksum_and_garbage():
    bad = SENT[1][:-2] + "00"
    out, drv = run(b"\x00\xffnoise" + (SENT[0] + "\r\n" + bad + "\r\n" + SENT[2] + "\r\n").encode(), 5)
    assert [f.sequence for f in out] == [0, 2]
    assert drv.frames_dropped == 2 and drv.framer.counts["bad_checksum"] == 1
    assert drv.counts["sequence_gaps"] == 1


def test_driver_feed_overlong_and_other_sentences():
    data = b"$EXSIG," + b"9" * 100 + b"\r\n" + b"$GPHDT,1.0,T*34\r\n" + STREAM
    out, drv = run(data, 7)
    assert len(out) == 3 and drv.framer.counts["overlong"] == 1
    assert drv.counts["other_sentences"] == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(1, 32))
def test_fuzz_random_bytes(data, chunk):
    out, _ = run(data, chunk)
    assert out == []


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(STREAM) - 1), st.integers(0, 255), st.sampled_from(MUTATIONS),
       st.integers(1, 32))
def test_fuzz_single_mutation_never_invents_a_frame(pos, byte, op, chunk):
    data = mutate(STREAM, pos, byte, op)
    out, _ = run(data, chunk)
    for f in out:
        assert (f.flags, f.gear, f.roll) == (STATES[f.sequence].flags, STATES[f.sequence].gear,
                                             STATES[f.sequence].roll)
    assert len(out) >= 1
